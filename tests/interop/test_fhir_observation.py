"""Lab results through the FHIR API go through the labs room's service like hand entry and the HL7 feed: a high
INR created as an Observation raises the stop the day list shows; units are converted; a correction replaces the
value; who may enter results is the labs room's own rule; every refusal is an OperationOutcome naming the element."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from tests.conftest import api_client, api_token, fhir_api

JSON = "application/fhir+json"


def observation(case: Any, loinc: str, value: float, unit: str, **changes: Any) -> dict[str, Any]:
    from kyphos import clock

    taken = clock.current() - timedelta(hours=1)
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "effectiveDateTime": taken.isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    } | changes


def lab_api(roles: tuple[str, ...] = ("ward_nurse",)) -> Any:
    return fhir_api(api_token(api_client("lab", "system/Observation.crs", roles)))


def test_a_high_inr_created_through_fhir_raises_the_stop_as_hand_entry_does(make_case: Any) -> None:
    case = make_case("scheduled")
    stops = case.open_stops
    response = lab_api().post("/fhir/Observation", json.dumps(observation(case, "6301-6", 2.4, "{INR}")), JSON)
    assert response.status_code == 201, response.content
    served = Observation.model_validate(response.json())
    assert (served.status, served.valueQuantity.value, served.code.coding[0].code) == (
        "final",
        Decimal("2.4"),
        "6301-6",
    )
    assert response["Location"].split("/fhir/")[1].startswith(f"Observation/{served.id}")
    case.refresh_from_db()
    assert "labs.inr_high" in [f["code"] for f in case.findings] and case.open_stops == stops + 1
    assert case.events.filter(summary="Lab: INR 2.40").exists()
    (row,) = case.lab_results.all()
    assert (row.source, str(row.uuid)) == ("fhir", served.id)


def test_units_are_converted_and_refusals_name_the_element(make_case: Any) -> None:
    case = make_case("scheduled")
    api = lab_api()
    made = api.post("/fhir/Observation", json.dumps(observation(case, "777-3", 182, "10*3/uL")), JSON)
    assert made.status_code == 201 and made.json()["valueQuantity"]["value"] == 182.0
    refusals = {
        "Observation.valueQuantity": observation(case, "777-3", 182, "furlongs"),
        "Observation.code": observation(case, "2093-3", 190, "mg/dL"),
        "Observation.effectiveDateTime": observation(case, "6301-6", 1.1, "{INR}", effectiveDateTime="2026-12-02"),
        "Observation.value[x]": observation(case, "6301-6", 99, "{INR}"),  # not a possible INR
        "Observation.subject": observation(case, "6301-6", 1.1, "{INR}", subject={"reference": "Group/x"}),
    }
    for element, body in refusals.items():
        response = api.post("/fhir/Observation", json.dumps(body), JSON)
        assert response.status_code == 422, (element, response.content)
        assert response.json()["issue"][0]["expression"] == [element]
    assert case.lab_results.count() == 1


def test_who_may_enter_results_is_the_labs_rule(make_case: Any) -> None:
    case = make_case("scheduled")
    response = lab_api(("scheduler",)).post(
        "/fhir/Observation", json.dumps(observation(case, "6301-6", 1.0, "{INR}")), JSON
    )
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"
    assert not case.lab_results.exists()


def test_a_correction_replaces_the_result_and_search_finds_the_current_one(make_case: Any) -> None:
    case = make_case("scheduled")
    api = lab_api()
    named = {"identifier": [{"system": "urn:lab:riverside", "value": "ACC-77|INR"}]}
    first = api.post("/fhir/Observation", json.dumps(observation(case, "6301-6", 2.4, "{INR}", **named)), JSON)
    fixed = observation(case, "6301-6", 1.1, "{INR}", status="corrected", **named)
    second = api.post("/fhir/Observation", json.dumps(fixed), JSON)
    assert (first.status_code, second.status_code) == (201, 201)
    case.refresh_from_db()
    assert "labs.inr_high" not in [f["code"] for f in case.findings]
    found = api.get("/fhir/Observation", {"patient": f"Patient/{case.patient.uuid}", "code": "http://loinc.org|6301-6"})
    bundle = Bundle.model_validate(found.json())
    assert [e.resource.id for e in bundle.entry] == [second.json()["id"]]
    old = api.get(f"/fhir/Observation/{first.json()['id']}").json()
    assert old["note"][0]["text"].endswith(f"Observation/{second.json()['id']}")
    assert api.get("/fhir/Observation", {"date": "lt2000"}).json()["entry"] == []


def test_a_patient_with_no_open_case_gets_a_422_and_nothing_is_filed(make_case: Any, actors: dict[str, Any]) -> None:
    from kyphos.labs.models import LabResult
    from kyphos.pathway import services

    case = make_case("triaged")
    services.cancel_case(actors["scheduler"], case, version=case.version, reason="patient_declined")
    response = lab_api().post("/fhir/Observation", json.dumps(observation(case, "6301-6", 1.0, "{INR}")), JSON)
    assert response.status_code == 422 and response.json()["issue"][0]["code"] == "business-rule"
    assert not LabResult.objects.exists()


def test_vital_signs_pain_and_scores_are_observations_beside_the_labs(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    from kyphos.demo.builder import Journey
    from tests.conftest import case_at

    done = case_at(make_case, actors, "followup_done", Journey(vitals=True))
    checks = list(done.recovery_checks.order_by("at"))
    visit = done.follow_ups.get()
    api = fhir_api(api_token(api_client("registry", "system/Observation.rs")))
    patient = f"Patient/{done.patient.uuid}"
    everything = api.get("/fhir/Observation", {"patient": patient, "_count": "500", "_total": "accurate"}).json()
    found = [Observation.model_validate(e["resource"]) for e in everything["entry"]]
    assert everything["total"] == len(found) and len({o.id for o in found}) == len(found)
    assert [o.effectiveDateTime for o in found] == sorted(o.effectiveDateTime for o in found)  # by date, all parts
    categories = {o.category[0].coding[0].code for o in found}
    assert categories >= {"laboratory", "vital-signs", "survey"}
    # Each recovery check's blood pressure is one panel with its two readings, as the Vital Signs profile has it.
    panels = api.get("/fhir/Observation", {"patient": patient, "code": "http://loinc.org|85354-9"}).json()["entry"]
    recovery = [e["resource"] for e in panels if "-recovery-" in e["resource"]["id"]]
    assert [[c["valueQuantity"]["value"] for c in p["component"]] for p in recovery] == [
        [c.bp_systolic, c.bp_diastolic] for c in checks
    ]
    assert all(p["component"][0]["valueQuantity"]["code"] == "mm[Hg]" for p in recovery)
    # The admission's weight, in UCUM, by the nurse who assessed the patient.
    weight = api.get("/fhir/Observation", {"patient": patient, "code": "29463-7"}).json()["entry"]
    assert [(e["resource"]["valueQuantity"]["value"], e["resource"]["valueQuantity"]["code"]) for e in weight] == [
        (float(done.admission.weight_kg), "kg")
    ]
    assert weight[0]["resource"]["performer"][0]["reference"] == f"Practitioner/staff-{done.admission.assessed_by_id}"
    # Pain: in recovery and at the follow-up visit, oldest first, with who scored it.
    pain = api.get("/fhir/Observation", {"patient": patient, "code": "72514-3"}).json()["entry"]
    assert [e["resource"]["valueQuantity"]["value"] for e in pain] == [
        *(c.pain_nrs for c in checks),
        visit.pain_today,
    ]
    assert pain[-1]["resource"]["performer"][0]["reference"] == f"Practitioner/staff-{visit.by_id}"
    # A questionnaire's score names its questionnaire and the answers it comes from.
    (answered,) = done.questionnaire_responses.filter(score__isnull=False)
    (score,) = [o for o in found if o.derivedFrom]
    assert score.derivedFrom[0].reference == f"QuestionnaireResponse/{answered.uuid}"
    assert (score.valueQuantity.value, score.code.coding[0].code) == (answered.score, answered.questionnaire.canonical)
    # A vital-signs search finds no lab result and a lab search no vital sign.
    vitals = api.get("/fhir/Observation", {"patient": patient, "category": "vital-signs"}).json()["entry"]
    assert vitals and {e["resource"]["category"][0]["coding"][0]["code"] for e in vitals} == {"vital-signs"}
    labs = api.get("/fhir/Observation", {"patient": patient, "category": "laboratory"}).json()["entry"]
    assert labs and all(e["resource"]["code"]["coding"][0]["code"] not in {"85354-9", "72514-3"} for e in labs)
    # Read by id, and a page at a time across all the tables without a repeat or a gap, either way round.
    for observed in found:
        assert api.get(f"/fhir/Observation/{observed.id}").json()["id"] == observed.id
    for order in ("date", "-date", "_id"):
        seen, url = [], f"/fhir/Observation?patient={patient}&_count=3&_sort={order}"
        while url:
            body = api.get(url.split("/fhir", 1)[1].join(["/fhir", ""])).json()
            seen += [e["resource"]["id"] for e in body["entry"]]
            url = next((link["url"] for link in body["link"] if link["relation"] == "next"), "")
        assert sorted(seen) == sorted(o.id for o in found) and len(seen) == len(found), order
    assert api.get("/fhir/Observation", {"_sort": "value"}).status_code == 400
    # Only lab results are written through the API.
    assert api.get(f"/fhir/Observation/{checks[0].uuid}-recovery-nope").status_code == 404


def test_a_ward_pain_score_is_found_by_patient_code_and_date(make_case: Any, actors: dict[str, Any], site: Any) -> None:
    from kyphos import clock
    from kyphos.aftercare import services as aftercare
    from tests.conftest import case_at

    case = case_at(make_case, actors, "recovery")
    with clock.frozen_at(clock.current()):
        score = aftercare.record_pain(actors["ward_nurse"], case, 6)
        api = fhir_api(api_token(api_client("ward", "system/Observation.rs")))
        day = score.at.date().isoformat()
        found = api.get(
            "/fhir/Observation", {"subject": f"Patient/{case.patient.uuid}", "code": "72514-3", "date": day}
        ).json()["entry"]
    ward = [e["resource"] for e in found if e["resource"]["id"] == f"{score.uuid}-ward-pain"]
    assert [(o["valueQuantity"]["value"], o["category"][0]["coding"][0]["code"]) for o in ward] == [(6, "survey")]
    assert ward[0]["performer"][0]["reference"] == f"Practitioner/staff-{actors['ward_nurse'].user.pk}"
    later = api.get("/fhir/Observation", {"patient": f"Patient/{case.patient.uuid}", "date": f"gt{day}"}).json()
    assert all(e["resource"]["id"] != ward[0]["id"] for e in later["entry"])
