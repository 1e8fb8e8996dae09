"""A referral sent by the EHR as a FHIR ServiceRequest is the same thing as one typed by a scheduler: a case in
the radiologist's triage queue, through ``refer_patient``; read back, it validates as R4 and says where the case
stands."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from tests.conftest import api_client, api_token, fhir_api, new_patient

JSON = "application/fhir+json"
EXT = "urn:kyphos:fhir:"


def referral(patient: Any, site: Any, **changes: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "extension": [{"url": f"{EXT}pain-nrs", "valueInteger": 8}],
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "requester": {"display": "Dr Amara Okafor"},
        "locationReference": [{"identifier": {"value": site.code}}],
        "reasonCode": [{"coding": [{"system": "urn:kyphos:etiology", "code": "osteoporosis"}]}],
        "bodySite": [
            {
                "extension": [
                    {"url": f"{EXT}acuity", "valueCode": "acute"},
                    {"url": f"{EXT}edema", "valueCode": "yes"},
                ],
                "coding": [{"system": "urn:kyphos:vertebra", "code": "L1"}],
            }
        ],
        "note": [{"text": "Fell at home three weeks ago."}],
    } | changes


def registered(actors: dict[str, Any], mrn: str) -> Any:
    from kyphos.patients import services

    return services.register_patient(actors["scheduler"], new_patient(mrn))


def test_a_referral_from_the_ehr_opens_a_case_in_the_triage_queue(actors: dict[str, Any], site: Any) -> None:
    from kyphos.pathway.models import Case

    patient = registered(actors, "S100001")
    api = fhir_api(api_token(api_client("ehr", "system/ServiceRequest.crs system/Patient.rs")))
    response = api.post("/fhir/ServiceRequest", json.dumps(referral(patient, site)), JSON)
    assert response.status_code == 201, response.content
    served = ServiceRequest.model_validate(response.json())
    case = Case.objects.get(uuid=served.id)
    assert (case.stage, case.patient_id, case.site_id, case.pain_nrs) == ("referred", patient.pk, site.pk, 8)
    assert (case.referring_clinician, case.clinical_note) == ("Dr Amara Okafor", "Fell at home three weeks ago.")
    assert [(lv.level, lv.acuity, lv.edema) for lv in case.levels.all()] == [("L1", "acute", "yes")]
    assert case.tasks.filter(kind="triage", status="open").exists()  # the radiologist's queue, as from the screen
    assert (served.status, served.code.coding[0].code, served.bodySite[0].text) == ("active", "22514", "L1")
    found = api.get("/fhir/ServiceRequest", {"patient": f"Patient/{patient.uuid}", "status": "active"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [served.id]
    assert api.get("/fhir/ServiceRequest", {"status": "completed"}).json()["entry"] == []


def test_a_referral_the_pathway_refuses_is_a_422_naming_the_element(actors: dict[str, Any], site: Any) -> None:
    from kyphos.pathway.models import Case

    patient = registered(actors, "S100002")
    api = fhir_api(api_token(api_client("ehr", "system/ServiceRequest.crs")))
    bad_level = [{"extension": [{"url": f"{EXT}acuity", "valueCode": "acute"}], "text": "C5"}]
    refusals = {
        "ServiceRequest.bodySite": referral(patient, site, bodySite=bad_level),
        "ServiceRequest.extension": referral(patient, site, extension=[]),
        "ServiceRequest.reasonCode": referral(patient, site, reasonCode=[]),
        "ServiceRequest.requester": referral(patient, site, requester={"display": " "}),
        "ServiceRequest.subject": referral(patient, site, subject={"reference": "Patient/unknown"}),
        "ServiceRequest.locationReference": referral(patient, site, locationReference=[{"identifier": {"value": "X"}}]),
    }
    for element, body in refusals.items():
        response = api.post("/fhir/ServiceRequest", json.dumps(body), JSON)
        assert response.status_code == 422, (element, response.content)
        assert response.json()["issue"][0]["expression"] == [element]
    assert not Case.objects.exists()


def test_who_may_refer_is_the_pathways_rule(actors: dict[str, Any], site: Any) -> None:
    from kyphos.pathway.models import Case

    patient = registered(actors, "S100003")
    api = fhir_api(api_token(api_client("ward", "system/ServiceRequest.crs", ("ward_nurse",))))
    response = api.post("/fhir/ServiceRequest", json.dumps(referral(patient, site)), JSON)
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"
    assert not Case.objects.exists()
