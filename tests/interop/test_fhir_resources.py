"""Every resource type the API lists is served valid R4 (checked with the R4B models of fhir.resources), holds the
pathway's own facts, and is found by the searches clients use; a case taken through the procedure by the real
services is the data."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from tests.conftest import api_client, api_token, case_at, fhir_api


def test_every_listed_type_serves_valid_resources_with_the_pathways_facts(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    from kyphos.interop.fhir import resources

    done = case_at(make_case, actors, "discharged")
    api = fhir_api(api_token(api_client("registry", "system/*.rs")))
    served: dict[str, list[dict[str, Any]]] = {}
    for name in (kind.name for kind in resources.SERVED):
        body = api.get(f"/fhir/{name}", {"_count": "100"}).json()
        served[name] = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "match"]
        for resource in served[name]:
            get_fhir_model_class(name).model_validate(resource)  # valid R4 (R4B models, wire compatible)
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
    assert api.get("/fhir/Procedure/not-a-case").status_code == 404
    assert api.get("/fhir/Condition/nonsense").json()["resourceType"] == "OperationOutcome"
