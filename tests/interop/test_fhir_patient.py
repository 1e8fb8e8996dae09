"""The FHIR API's first resource, Patient, and its door: SMART Backend Services tokens, scopes, site scoping,
paging, versioning, and OperationOutcome for every refusal.

A real FHIR client (fhirpy) and a real token exchange (RS384 and ES384 assertions signed with keys made here) run
against the live server; the fuzzer and the refusals use Django's test client."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhirpy import SyncFHIRClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_client, api_token, fhir_api, new_patient, referral

JSON = "application/fhir+json"


def key_pair(algorithm: str) -> tuple[Any, dict[str, Any]]:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    public = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(private.public_key()))
    public |= {"kid": f"key-{algorithm}", "alg": algorithm, "use": "sig"}
    return private, public


def assertion(name: str, private: Any, algorithm: str, audience: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": name, "sub": name, "aud": audience, "exp": now + 240, "jti": uuid.uuid4().hex} | changes
    return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": f"key-{algorithm}"})


def patient_at(site: Any, actors: dict[str, Any], mrn: str, **overrides: Any) -> Any:
    """A patient referred to ``site`` (so a client of that site sees it), through the real services."""
    from kyphos.pathway import services

    case = services.refer_patient(
        actors["scheduler"], site=site, details=referral(), new_patient=new_patient(mrn, **overrides)
    )
    return case.patient


@pytest.mark.parametrize("algorithm", ["RS384", "ES384"])
def test_a_backend_client_signs_in_with_its_key_and_reads_patients_with_a_real_fhir_client(
    live_server: Any, actors: dict[str, Any], site: Any, algorithm: str
) -> None:
    from kyphos.audit.models import AuditEntry

    private, public = key_pair(algorithm)
    api_client("registry", "system/Patient.rs", jwks={"keys": [public]})
    ada = patient_at(site, actors, "F100001", family_name="Lovelace", given_name="Ada")
    base = f"{live_server.url}/fhir"
    config = requests.get(f"{base}/.well-known/smart-configuration", timeout=10).json()
    assert algorithm in config["token_endpoint_auth_signing_alg_values_supported"]
    answer = requests.post(
        config["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "scope": "system/Patient.rs system/Observation.rs",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion("registry", private, algorithm, config["token_endpoint"]),
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()
    # Only what the client is registered for is granted.
    assert (token["token_type"], token["scope"], token["expires_in"]) == ("bearer", "system/Patient.rs", 300)
    fhir = SyncFHIRClient(base, authorization=f"Bearer {token['access_token']}")
    found = fhir.resources("Patient").search(identifier="urn:kyphos:authority:HOSP|F100001").fetch()
    assert [p["id"] for p in found] == [str(ada.uuid)]
    read = fhir.reference("Patient", str(ada.uuid)).to_resource()
    served = FhirPatient.model_validate(read.serialize())
    assert (served.name[0].family, served.birthDate, served.gender) == ("Lovelace", ada.date_of_birth, "female")
    assert read["meta"]["versionId"] == str(ada.version)
    # Each read and search names the client in the audit trail.
    seen = AuditEntry.objects.filter(username="api:registry", patient_uuid=ada.uuid)
    assert set(seen.values_list("action", flat=True)) == {"list", "view"}


def test_the_token_endpoint_refuses_what_smart_backend_services_forbids(live_server: Any) -> None:
    from kyphos.interop.models import ApiToken

    private, public = key_pair("RS384")
    api_client("ehr", "system/Patient.rs", jwks={"keys": [public]})
    other, _public = key_pair("RS384")
    url = f"{live_server.url}/fhir/auth/token"

    def ask(client_assertion: str, scope: str = "system/Patient.rs", **form: str) -> tuple[int, str]:
        data = {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        } | form
        answer = requests.post(url, data=data, timeout=10)
        return answer.status_code, answer.json()["error"] if answer.status_code != 200 else "ok"

    good = assertion("ehr", private, "RS384", url)
    assert ask(good) == (200, "ok")
    assert ask(good) == (400, "invalid_grant")  # the same jti twice
    assert ask(assertion("ehr", other, "RS384", url)) == (401, "invalid_client")  # a key not registered
    assert ask(assertion("ehr", private, "RS384", "https://elsewhere/token"))[1] == "invalid_client"
    assert ask(assertion("ehr", private, "RS384", url, exp=int(time.time()) - 120))[1] == "invalid_client"
    assert ask(assertion("ehr", private, "RS384", url, exp=int(time.time()) + 3600))[1] == "invalid_client"
    assert ask(assertion("ehr", private, "RS384", url, sub="someone"))[1] == "invalid_client"
    assert (
        ask(
            jwt.encode(
                {"iss": "ehr", "sub": "ehr", "aud": url, "exp": int(time.time()) + 60, "jti": "h"},
                "x" * 32,
                algorithm="HS256",
            )
        )[1]
        == "invalid_client"
    )
    assert ask(assertion("nobody", private, "RS384", url)) == (401, "invalid_client")
    assert ask(assertion("ehr", private, "RS384", url), scope="system/Observation.rs") == (400, "invalid_scope")
    assert ask(assertion("ehr", private, "RS384", url), grant_type="password") == (400, "unsupported_grant_type")
    assert ask("not-a-jwt") == (400, "invalid_client")
    assert ApiToken.objects.count() == 1


def test_scopes_roles_and_sites_limit_what_a_client_sees_and_does(
    actors: dict[str, Any], site: Any, other_site: Any
) -> None:
    from kyphos.patients.models import Patient

    here = patient_at(site, actors, "F100002")
    there = patient_at(other_site, actors, "F100003")
    reader = api_token(api_client("reader", "system/Patient.rs", sites=[site.code]))
    response = fhir_api(reader).get("/fhir/Patient")
    assert response.status_code == 200
    ids = {e["resource"]["id"] for e in response.json()["entry"]}
    assert str(here.uuid) in ids and str(there.uuid) not in ids
    assert fhir_api(reader).get(f"/fhir/Patient/{there.uuid}").status_code == 404
    body = {
        "resourceType": "Patient",
        "identifier": [{"value": "F100009"}],
        "birthDate": "1950-01-01",
        "name": [{"family": "New", "given": ["One"]}],
    }
    refused = fhir_api(reader).post("/fhir/Patient", json.dumps(body), content_type=JSON)
    assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "forbidden"
    assert fhir_api("no-such-token").get("/fhir/Patient").status_code == 401
    assert not Patient.objects.filter(mrn="F100009").exists()


def test_create_conditional_create_update_with_if_match_and_vread(live_server: Any, site: Any) -> None:
    from kyphos.patients.models import Patient

    token = api_token(api_client("adt", "system/Patient.cruds"))
    fhir = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")
    made = fhir.resource(
        "Patient",
        identifier=[{"system": "urn:kyphos:authority:HOSP", "value": "F200001"}],
        name=[{"family": "Núñez", "given": ["Inés"]}],
        birthDate="1944-07-30",
        gender="female",
        telecom=[{"system": "phone", "value": "+15555550111", "use": "mobile"}],
    )
    made.save()
    stored = Patient.objects.get(mrn="F200001")
    assert (str(stored.uuid), stored.family_name, stored.phone_mobile) == (made.id, "Núñez", "+15555550111")
    # Conditional create: the same identifier again answers the existing patient, no duplicate.
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON}
    again = requests.post(
        f"{live_server.url}/fhir/Patient",
        data=json.dumps(made.serialize() | {"id": None}),
        headers=headers | {"If-None-Exist": "identifier=urn:kyphos:authority:HOSP|F200001"},
        timeout=10,
    )
    assert again.status_code == 200 and again.json()["id"] == made.id
    assert Patient.objects.filter(mrn="F200001").count() == 1
    # Update with the version read: accepted, the version moves on; with a stale one: 412, nothing changes.
    url = f"{live_server.url}/fhir/Patient/{made.id}"
    current = requests.get(url, headers=headers, timeout=10)
    etag = current.headers["ETag"]
    changed = current.json() | {"name": [{"family": "Núñez", "given": ["Inés María"]}]}
    ok = requests.put(url, data=json.dumps(changed), headers=headers | {"If-Match": etag}, timeout=10)
    assert ok.status_code == 200 and ok.json()["meta"]["versionId"] == "2" and ok.headers["ETag"] == 'W/"2"'
    stale = requests.put(
        url, data=json.dumps(changed | {"gender": "male"}), headers=headers | {"If-Match": etag}, timeout=10
    )
    assert stale.status_code == 412 and stale.json()["resourceType"] == "OperationOutcome"
    stored.refresh_from_db()
    assert (stored.given_name, stored.sex, stored.version) == ("Inés María", "F", 2)
    assert requests.get(f"{url}/_history/2", headers=headers, timeout=10).json()["name"][0]["given"] == ["Inés María"]
    # The version it replaced is kept: vread and the instance's history serve it as it was.
    first = requests.get(f"{url}/_history/1", headers=headers, timeout=10)
    assert first.status_code == 200 and first.headers["ETag"] == 'W/"1"'
    assert (first.json()["meta"]["versionId"], first.json()["name"][0]["given"]) == ("1", ["Inés"])
    assert first.json()["meta"]["lastUpdated"] < ok.json()["meta"]["lastUpdated"]
    assert requests.get(f"{url}/_history/3", headers=headers, timeout=10).status_code == 404
    history = Bundle.model_validate(requests.get(f"{url}/_history", headers=headers, timeout=10).json())
    assert history.type == "history" and [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert [e.request.method for e in history.entry] == ["PUT", "POST"]
    # A business rule the patients room refuses is 422, naming the element.
    future = changed | {"birthDate": "2999-01-01"}
    refused = requests.put(url, data=json.dumps(future), headers=headers, timeout=10)
    assert refused.status_code == 422 and refused.json()["issue"][0]["expression"] == ["Patient.birthDate"]


def test_search_by_name_birthdate_and_gender_with_prefixes(actors: dict[str, Any], site: Any) -> None:
    born = {"F300001": date(1940, 5, 2), "F300002": date(1948, 12, 31), "F300003": date(1949, 1, 1)}
    for mrn, day in born.items():
        patient_at(site, actors, mrn, date_of_birth=day, family_name="Muñoz" if mrn != "F300003" else "Smith")
    client = fhir_api(api_token(api_client("search", "system/Patient.rs")))

    def mrns(**params: str) -> set[str]:
        response = client.get("/fhir/Patient", params)
        assert response.status_code == 200, response.content
        Bundle.model_validate(response.json())
        return {e["resource"]["identifier"][0]["value"] for e in response.json()["entry"]} & set(born)

    assert mrns(birthdate="1948") == {"F300002"}
    assert mrns(birthdate="ge1948-12-31") == {"F300002", "F300003"}
    assert mrns(birthdate="lt1948") == {"F300001"}
    assert mrns(birthdate="le1948") == {"F300001", "F300002"}
    assert mrns(birthdate="gt1948-12") == {"F300003"}
    assert mrns(birthdate="ne1948") == {"F300001", "F300003"}
    assert mrns(family="munoz") == {"F300001", "F300002"}  # accents and case ignored, from the start
    assert mrns(name="MUÑ") == {"F300001", "F300002"}
    assert mrns(**{"family:exact": "Muñoz"}) == {"F300001", "F300002"}
    bad = client.get("/fhir/Patient", {"birthdate": "1948-13"})
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["birthdate"]
    assert client.get("/fhir/Patient", {"name:contains": "x"}).status_code == 400
    assert client.get("/fhir/Patient", {"_count": "-1"}).status_code == 400


def test_pages_stay_stable_while_patients_are_added(actors: dict[str, Any], site: Any) -> None:
    from kyphos.patients.models import Patient

    for n in range(7):
        patient_at(site, actors, f"F40000{n}")
    before = set(Patient.objects.values_list("uuid", flat=True))
    client = fhir_api(api_token(api_client("pager", "system/Patient.rs")))
    url: str | None = "/fhir/Patient?_count=3&_sort=_id"
    seen: list[str] = []
    added = 0
    while url:
        response = client.get(url.replace("http://testserver", ""))
        assert response.status_code == 200
        body = response.json()
        seen += [e["resource"]["id"] for e in body["entry"]]
        patient_at(site, actors, f"F40010{added}")  # inserted between pages
        added += 1
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen))  # nothing twice
    assert {uuid.UUID(s) for s in seen} >= before  # nothing that was there is skipped
    forged = client.get("/fhir/Patient?_count=3&_cursor=abc")
    assert forged.status_code == 400


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
        max_leaves=20,
    ),
    resource_type=st.sampled_from(["Patient", None, "Observation"]),
)
def test_any_json_gets_an_operation_outcome_and_never_a_half_written_patient(
    db: Any, body: Any, resource_type: str | None
) -> None:
    from kyphos.interop.models import ApiClient
    from kyphos.patients.models import Patient

    client = ApiClient.objects.filter(name="fuzz").first() or api_client("fuzz", "system/Patient.cruds")
    token = api_token(client)
    if isinstance(body, dict) and resource_type:
        body = body | {"resourceType": resource_type}
    count = Patient.objects.count()
    response = fhir_api(token).post("/fhir/Patient", json.dumps(body), content_type=JSON)
    assert response.status_code in {201, 400, 422}, response.content
    if response.status_code != 201:
        assert response.json()["resourceType"] == "OperationOutcome"
        assert Patient.objects.count() == count
    path = fhir_api(token).get("/fhir/Patient", {"birthdate": str(body)[:30], "_sort": str(body)[:10]})
    assert path.status_code in {200, 400}


def test_metadata_lists_what_is_supported(client: Any, db: Any) -> None:
    response = client.get("/fhir/metadata")
    body = response.json()
    assert response["Content-Type"].startswith(JSON)
    assert body["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {i["code"] for i in served["Patient"]["interaction"]} == {
        "read",
        "vread",
        "update",
        "search-type",
        "create",
        "history-instance",
    }
    assert {i["code"] for i in served["Observation"]["interaction"]} == {"read", "vread", "search-type", "create"}
    assert "birthdate" in {p["name"] for p in served["Patient"]["searchParam"]}
    # What is listed is served: a type not listed is refused as not supported.
    token = api_token(api_client("meta", "system/*.rs"))
    for kind in served:
        assert fhir_api(token).get(f"/fhir/{kind}", {"_count": "1"}).status_code == 200
    assert fhir_api(token).get("/fhir/Basic").json()["issue"][0]["code"] == "not-supported"


def test_the_api_client_command(db: Any, capsys: Any) -> None:
    call_command("api-client", "create", "lab-app", "--scopes", "system/Patient.rs")
    call_command("api-client", "token", "lab-app")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert fhir_api(token).get("/fhir/Patient").status_code == 200
    call_command("api-client", "disable", "lab-app")
    assert fhir_api(token).get("/fhir/Patient").status_code == 401


def test_an_administrator_disables_a_client_in_the_admin_and_its_tokens_stop(people: dict[str, Any]) -> None:
    from django.test import Client as WebClient

    from kyphos.audit.models import AuditEntry
    from tests.accounts import sign_in

    registered = api_client("crm", "system/Patient.rs")
    token = api_token(registered)
    assert fhir_api(token).get("/fhir/Patient").status_code == 200
    people["admin"].is_staff = people["admin"].is_superuser = True  # as the demo's administrator
    people["admin"].save()
    admin = WebClient()
    sign_in(admin, people["admin"])
    listing = admin.get("/admin/interop/apiclient/")
    assert listing.status_code == 200 and b"crm" in listing.content
    done = admin.post(
        "/admin/interop/apiclient/", {"action": "disable", "_selected_action": [registered.pk]}, follow=True
    )
    assert done.status_code == 200
    assert fhir_api(token).get("/fhir/Patient").status_code == 401
    assert AuditEntry.objects.filter(object_type="api_client", detail="disabled").exists()


def test_resources_shaped_like_the_specifications_examples_go_in_through_create(make_case: Any) -> None:
    """Written for this test in the shape of the FHIR R4 examples (several identifiers and names, elements Kyphos
    does not keep): the facts Kyphos keeps are taken from the right elements, the rest is ignored, never a 500."""
    from kyphos.patients.models import Patient

    api = fhir_api(api_token(api_client("registration", "system/Patient.cruds")))
    rich = {
        "resourceType": "Patient",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Marisol Quintero</div>'},
        "extension": [{"url": "http://example.org/fhir/StructureDefinition/birth-place", "valueString": "Oaxaca"}],
        "identifier": [
            {"use": "secondary", "system": "http://example.org/national-id", "value": "999-11-2222"},
            {
                "use": "usual",
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "urn:kyphos:authority:HOSP",
                "value": "E500123",
                "period": {"start": "2019-04-01"},
            },
        ],
        "active": True,
        "name": [
            {"use": "nickname", "given": ["Mari"]},
            {"use": "official", "family": "Quintero", "given": ["Marisol", "Inés"], "prefix": ["Sra."]},
        ],
        "telecom": [
            {"system": "phone", "value": "+15555550190", "use": "work", "rank": 2},
            {"system": "phone", "value": "+15555550191", "use": "mobile", "rank": 1},
            {"system": "email", "value": "marisol@example.org"},
        ],
        "gender": "female",
        "birthDate": "1947-11-05",
        "deceasedBoolean": False,
        "address": [
            {
                "use": "home",
                "line": ["12 Orchard Lane", "Apt 3"],
                "city": "Riverside",
                "state": "NY",
                "postalCode": "10001",
            }
        ],
        "maritalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "W"}]
        },
        "multipleBirthBoolean": False,
        "contact": [{"relationship": [{"text": "daughter"}], "name": {"family": "Quintero", "given": ["Lucía"]}}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]}, "preferred": True}
        ],
        "managingOrganization": {"display": "Riverside General"},
    }
    made = api.post("/fhir/Patient", json.dumps(rich), JSON)
    assert made.status_code == 201, made.content
    stored = Patient.objects.get(uuid=made.json()["id"])
    assert (stored.mrn, stored.family_name, stored.given_name) == ("E500123", "Quintero", "Marisol Inés")
    assert (stored.phone_mobile, stored.email, stored.preferred_language) == (
        "+15555550191",
        "marisol@example.org",
        "es",
    )
    assert stored.address.splitlines() == ["12 Orchard Lane", "Apt 3", "Riverside NY 10001"]
    # A lab result shaped as the specification's lab examples, with a reference range, an interpretation and a
    # performer Kyphos does not keep: the value and the time are what count.
    case = make_case("scheduled")
    lab = {
        "resourceType": "Observation",
        "identifier": [{"system": "http://lab.example.org/results", "value": "R-7731"}],
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "6301-6", "display": "INR in Platelet poor plasma"}]
        },
        "subject": {"reference": f"Patient/{case.patient.uuid}", "display": "the patient"},
        "effectiveDateTime": "2026-12-01T07:45:00-05:00",
        "issued": "2026-12-01T09:02:11-05:00",
        "performer": [{"display": "Riverside General laboratory"}],
        "valueQuantity": {"value": 1.1, "unit": "INR", "system": "http://unitsofmeasure.org", "code": "{INR}"},
        "interpretation": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}
        ],
        "referenceRange": [{"low": {"value": 0.8}, "high": {"value": 1.2}}],
    }
    lab_api = fhir_api(api_token(api_client("lab", "system/Observation.crs", ("ward_nurse",))))
    filed = lab_api.post("/fhir/Observation", json.dumps(lab), JSON)
    assert filed.status_code == 201, filed.content
    (result,) = case.lab_results.all()
    assert (result.code, str(result.value), result.taken_at.isoformat()) == ("inr", "1.10", "2026-12-01T12:45:00+00:00")
