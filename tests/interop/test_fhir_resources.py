"""Every resource type the API lists is served valid R4 (checked with the R4B models of fhir.resources), holds the
pathway's own facts, and is found by the searches clients use; a case taken through the procedure by the real
services is the data."""

from __future__ import annotations

import base64
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_client, api_token, case_at, fhir_api, new_patient

# Elements bound to a value set with strength "required" in FHIR R4 (4.0.1), by resource: the codes allowed.
# The R4B models check structure and types; these are our own checks of the codes themselves.
REQUIRED: dict[str, dict[str, set[str]]] = {
    "Patient": {"gender": {"male", "female", "other", "unknown"}},
    "Observation": {
        "status": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error"},
    },
    "ServiceRequest": {
        "status": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
        "intent": {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order"},
        "priority": {"routine", "urgent", "asap", "stat"},
    },
    "Condition": {
        "clinicalStatus": {"active", "recurrence", "relapse", "inactive", "remission", "resolved"},
        "verificationStatus": {"unconfirmed", "provisional", "differential", "confirmed", "refuted"},
    },
    "Appointment": {
        "status": {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "checked-in"},
    },
    "Encounter": {"status": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled"}},
    "Procedure": {"status": {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed"}},
    "MedicationStatement": {
        "status": {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"},
    },
    "Task": {
        "status": {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress"}
        | {"on-hold", "failed", "completed", "entered-in-error"},
        "intent": {"unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order"},
        "priority": {"routine", "urgent", "asap", "stat"},
    },
    "CarePlan": {
        "status": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
        "intent": {"proposal", "plan", "order", "option"},
    },
    "AllergyIntolerance": {
        "clinicalStatus": {"active", "inactive", "resolved"},
        "verificationStatus": {"unconfirmed", "confirmed", "refuted", "entered-in-error"},
        "type": {"allergy", "intolerance"},
        "category": {"food", "medication", "environment", "biologic"},
        "criticality": {"low", "high", "unable-to-assess"},
    },
    "Questionnaire": {"status": {"draft", "active", "retired", "unknown"}},
    "QuestionnaireResponse": {"status": {"in-progress", "completed", "amended", "entered-in-error", "stopped"}},
    "DocumentReference": {
        "status": {"current", "superseded", "entered-in-error"},
        "docStatus": {"preliminary", "final", "amended", "entered-in-error"},
    },
    "Location": {"status": {"active", "suspended", "inactive"}},
    "AuditEvent": {"action": {"C", "R", "U", "D", "E"}},
}


def codes_at(resource: dict[str, Any], element: str) -> list[str]:
    """The codes an element holds: a code, a list of codes, or a CodeableConcept's codings."""
    value = resource.get(element)
    values = value if isinstance(value, list) else [] if value is None else [value]
    found = []
    for item in values:
        if isinstance(item, dict):
            found += [str(c.get("code")) for c in item.get("coding", [])]
        else:
            found.append(str(item))
    return found


def test_every_listed_type_serves_valid_resources_with_the_pathways_facts(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    from kyphos.demo.builder import Journey
    from kyphos.interop.fhir import resources
    from kyphos.precall.services import MedicationInput

    medicines = (
        MedicationInput("apixaban", "5 mg", "twice-daily", "af", "Dr Patel", "+1 555 0199"),
        MedicationInput("oxycodone", "5 mg", "four-times-daily"),
    )
    done = case_at(make_case, actors, "followup_done", Journey(medicines=medicines))
    from kyphos.patients import services as patients

    patients.record_allergy(actors["nurse"], done.patient, "contrast", "Iodinated contrast", "hives")
    api = fhir_api(api_token(api_client("registry", "system/*.rs")))
    served: dict[str, list[dict[str, Any]]] = {}
    for name in (kind.name for kind in resources.SERVED):
        body = api.get(f"/fhir/{name}", {"_count": "100"}).json()
        served[name] = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "match"]
        for resource in served[name]:
            get_fhir_model_class(name).model_validate(resource)  # valid R4 (R4B models, wire compatible)
            for element, allowed in REQUIRED.get(name, {}).items():
                assert set(codes_at(resource, element)) <= allowed, (name, element, resource["id"])
            again = api.get(f"/fhir/{name}/{resource['id']}")
            assert again.status_code == 200 and again.json()["id"] == resource["id"]
    patient = f"Patient/{done.patient.uuid}"
    (procedure,) = [p for p in served["Procedure"] if p["subject"]["reference"] == patient]
    levels = list(done.procedure.levels.order_by("order"))
    assert procedure["status"] == "completed"
    assert [b["coding"][0]["code"] for b in procedure["bodySite"]] == [lv.level for lv in levels]
    cement = {x["url"].rsplit(":", 1)[1]: x for x in procedure["bodySite"][0]["extension"]}
    assert cement["cement-product"]["valueString"] == levels[0].cement_product
    assert [c["code"] for c in procedure["code"]["coding"]] == done.procedure.coding.get("cpt", [])
    conditions = [c for c in served["Condition"] if c["subject"]["reference"] == patient]
    assert {c["bodySite"][0]["text"] for c in conditions} == set(done.levels.values_list("level", flat=True))
    assert all(c["code"]["coding"][0]["code"] == "M80.08XA" for c in conditions)  # osteoporotic, the referral's cause
    (booking,) = [a for a in served["Appointment"] if a["basedOn"][0]["reference"] == f"ServiceRequest/{done.uuid}"]
    assert booking["participant"][0]["actor"]["reference"] == patient
    assert [loc["id"] for loc in served["Location"]] == [site.code]
    held = {m["medicationCodeableConcept"]["text"]: m for m in served["MedicationStatement"]}
    assert held["apixaban"]["status"] == "on-hold" and "hold: last dose" in held["apixaban"]["dosage"][0]["text"]
    assert held["oxycodone"]["status"] == "active"
    (stay,) = [e for e in served["Encounter"] if e["subject"]["reference"] == patient]
    assert stay["status"] == "finished" and stay["length"]["value"] > 0
    assert {t["code"]["coding"][0]["code"] for t in served["Task"]} >= {"triage", "book", "precall"}
    (hives,) = [a for a in served["AllergyIntolerance"] if a["code"]["text"] == "Iodinated contrast"]
    assert hives["patient"]["reference"] == patient and hives["reaction"][0]["manifestation"][0]["text"] == "hives"
    assert served["AuditEvent"] == []  # the audit trail is for clients whose role may view it
    letters = [d for d in served["DocumentReference"] if d["subject"]["reference"] == patient]
    assert letters and all(base64.b64decode(d["content"][0]["attachment"]["data"])[:5] == b"%PDF-" for d in letters)
    canonical = {f"{q['url']}|{q['version']}" for q in served["Questionnaire"]}
    answered = [r for r in served["QuestionnaireResponse"] if r["subject"]["reference"] == patient]
    assert answered and {r["questionnaire"] for r in answered} <= canonical
    staff = {p["identifier"][0]["value"] for p in served["Practitioner"]}
    assert actors["radiologist"].user.username in staff and not any(name.startswith("api:") for name in staff)
    (plan,) = [c for c in served["CarePlan"] if c["subject"]["reference"] == patient]
    assert plan["extension"][0]["valueCode"] == "followup_done" and plan["status"] == "active"
    # The searches that tie them together.
    by_patient = {
        name: api.get(f"/fhir/{name}", {"patient": patient}).json()["entry"]
        for name in ("Condition", "Procedure", "Appointment", "ServiceRequest")
    }
    assert {name: len(found) for name, found in by_patient.items()} == {
        "Condition": len(conditions),
        "Procedure": 1,
        "Appointment": 1,
        "ServiceRequest": 1,
    }
    assert api.get("/fhir/Condition", {"body-site": levels[0].level, "patient": patient}).json()["entry"]
    # _include and _revinclude for the common pairs: a search and the patients it names, a patient and its records.
    with_patients = api.get("/fhir/Condition", {"patient": patient, "_include": "Condition:patient"}).json()
    included = [e["resource"] for e in with_patients["entry"] if e["search"]["mode"] == "include"]
    assert [p["id"] for p in included] == [str(done.patient.uuid)]
    everything = api.get(
        "/fhir/Patient",
        [("_id", str(done.patient.uuid)), ("_revinclude", "Procedure:patient"), ("_revinclude", "Condition:patient")],
    ).json()
    kinds_included = sorted(
        e["resource"]["resourceType"] for e in everything["entry"] if e["search"]["mode"] == "include"
    )
    assert kinds_included == ["Condition"] * len(conditions) + ["Procedure"]
    # The referral and what hangs on it, both ways.
    referral = f"ServiceRequest/{done.uuid}"
    around = api.get(
        "/fhir/ServiceRequest",
        [("_id", str(done.uuid))]
        + [("_revinclude", r) for r in ("Appointment:based-on", "Observation:based-on", "Task:focus")],
    ).json()["entry"]
    hanging: dict[str, list[dict[str, Any]]] = {}
    for e in around:
        if e["search"]["mode"] == "include":
            hanging.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    assert [a["id"] for a in hanging["Appointment"]] == [booking["id"]]
    observed = [o for o in served["Observation"] if o["basedOn"][0]["reference"] == referral]
    assert sorted(o["id"] for o in hanging["Observation"]) == sorted(o["id"] for o in observed)
    assert {t["focus"]["reference"] for t in hanging["Task"]} == {referral}
    with_referral = api.get("/fhir/Observation", {"patient": patient, "_include": "Observation:based-on"}).json()
    assert [e["resource"]["id"] for e in with_referral["entry"] if e["search"]["mode"] == "include"] == [str(done.uuid)]
    at = api.get("/fhir/Appointment", {"patient": patient, "_include": "Appointment:location"}).json()["entry"]
    assert [e["resource"]["id"] for e in at if e["search"]["mode"] == "include"] == [site.code]
    capability = {r["type"]: r for r in api.get("/fhir/metadata").json()["rest"][0]["resource"]}
    assert "Appointment:based-on" in capability["ServiceRequest"]["searchRevInclude"]
    assert "Observation:based-on" in capability["Observation"]["searchInclude"]
    assert api.get("/fhir/Condition", {"_include": "Condition:asserter"}).status_code == 400
    assert api.get("/fhir/Procedure/not-a-case").status_code == 404
    assert api.get("/fhir/Condition/nonsense").json()["resourceType"] == "OperationOutcome"


def test_the_signed_procedure_note_is_a_document_and_an_addendum_amends_it(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    from kyphos.demo.builder import Journey
    from kyphos.procedure import services as procedure

    done = case_at(make_case, actors, "discharged", Journey(sign_out=True))
    api = fhir_api(api_token(api_client("ehr", "system/DocumentReference.rs")))
    patient = f"Patient/{done.patient.uuid}"
    (found,) = api.get("/fhir/DocumentReference", {"patient": patient, "type": "http://loinc.org|28570-0"}).json()[
        "entry"
    ]
    note = get_fhir_model_class("DocumentReference").model_validate(found["resource"])
    signed = done.procedure_note
    assert (note.id, note.docStatus) == (f"{done.uuid}-note", "final")
    assert note.author[0].reference == f"Practitioner/staff-{actors['radiologist'].user.pk}"
    assert base64.b64decode(found["resource"]["content"][0]["attachment"]["data"]) == bytes(signed.pdf)
    procedure.add_addendum(actors["radiologist"], signed, "Right pedicle: small venous leak, no symptoms.")
    amended = api.get(f"/fhir/DocumentReference/{note.id}").json()
    assert amended["docStatus"] == "amended" and len(amended["content"]) == 2
    assert "small venous leak" in base64.b64decode(amended["content"][1]["attachment"]["data"]).decode()
    assert base64.b64decode(amended["content"][0]["attachment"]["data"]) == bytes(signed.pdf)  # as signed
    everything = api.get("/fhir/DocumentReference", {"patient": patient}).json()["entry"]
    kinds_found = {e["resource"]["type"]["coding"][0]["code"] for e in everything}
    assert "28570-0" in kinds_found and done.letters.filter(kind="discharge").exists()
    assert "discharge" in kinds_found  # the letters beside the note, in one search
    assert api.get(f"/fhir/DocumentReference/{done.patient.uuid}-note").status_code == 404


def test_the_audit_trail_as_audit_events_for_the_privacy_officers_tools(actors: dict[str, Any], site: Any) -> None:
    from kyphos.patients import services as patients

    patient = patients.register_patient(actors["scheduler"], new_patient("A100001"))
    reader = fhir_api(api_token(api_client("reader", "system/Patient.rs system/AuditEvent.rs")))
    assert reader.get(f"/fhir/Patient/{patient.uuid}").status_code == 200
    privacy = fhir_api(api_token(api_client("privacy", "system/AuditEvent.rs", ("auditor",))))
    found = privacy.get("/fhir/AuditEvent", {"patient": f"Patient/{patient.uuid}", "agent-name": "api:reader"})
    events = [e["resource"] for e in found.json()["entry"]]
    assert [e["action"] for e in events] == ["R"]
    event = get_fhir_model_class("AuditEvent").model_validate(events[0])
    assert event.entity[0].what.reference == f"Patient/{patient.uuid}"
    assert privacy.get(f"/fhir/AuditEvent/{event.id}").status_code == 200
    assert reader.get(f"/fhir/AuditEvent/{event.id}").status_code == 404


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    value=st.text(max_size=40)
    | st.sampled_from(
        ["ge2026", "lt1900-13", "Patient/x", "a|b", "|", ",", "-1", "0", "a\x00b", "ge2026-01-01T10:00+99:00"]
    ),
)
def test_any_search_on_any_type_is_answered_and_never_a_server_error(db: Any, data: Any, value: str) -> None:
    from kyphos.interop.fhir import resources
    from kyphos.interop.models import ApiClient

    client = ApiClient.objects.filter(name="fuzz").first() or api_client("fuzz", "system/*.rs")
    kind = data.draw(st.sampled_from(resources.SERVED))
    name = data.draw(st.sampled_from([*kind.params, "_count", "_sort", "_include", "_revinclude", "_cursor", "x:y"]))
    response = fhir_api(api_token(client)).get(f"/fhir/{kind.name}", {name: value})
    assert response.status_code in {200, 400}, (kind.name, name, value, response.content[:300])
    assert response.json()["resourceType"] in {"Bundle", "OperationOutcome"}
