"""FHIR Bulk Data export: kick-off, status with progress, manifest, NDJSON files read as the client reads (sites,
scopes), ``_type`` / ``_since`` / ``_typeFilter``, Group = site, cancel, expiry, and a worker stopped mid-file that
resumes without writing a resource twice. The worker's turn (``bulk.work``) runs in the test's process."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fhir.resources.R4B import get_fhir_model_class

from tests.conftest import api_client, api_token, case_at, fhir_api, new_patient, referral

ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.KYPHOS_FHIR_EXPORT_DIR = tmp_path / "exports"


def finish() -> int:
    from kyphos.interop.fhir import bulk

    turns = 0
    while turns < 500 and bulk.work("test"):  # bounded: an export that never ends fails here, not hangs
        turns += 1
    return turns


def refer(actors: dict[str, Any], site: Any, mrn: str) -> Any:
    from kyphos.pathway import services

    return services.refer_patient(actors["scheduler"], site=site, details=referral(), new_patient=new_patient(mrn))


def test_a_system_export_end_to_end_with_a_real_http_client(
    live_server: Any, make_case: Any, actors: dict[str, Any]
) -> None:
    from kyphos.interop.fhir import resources

    case_at(make_case, actors, "discharged")
    token = api_token(api_client("registry", "system/*.rs"))
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{live_server.url}/fhir"
    kick = requests.get(f"{base}/$export", headers=auth | {"Prefer": "respond-async"}, timeout=10)
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]
    waiting = requests.get(status_url, headers=auth, timeout=10)
    assert waiting.status_code == 202 and "types" in waiting.headers["X-Progress"]
    assert finish() >= 1
    done = requests.get(status_url, headers=auth, timeout=10)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    exported = {item["type"] for item in manifest["output"]}
    # Every type with something this client may read is exported, and nothing else.
    readable = {
        kind.name
        for kind in resources.SERVED
        if requests.get(f"{base}/{kind.name}", params={"_count": "1"}, headers=auth, timeout=10).json()["entry"]
    }
    assert exported == readable and {"Patient", "ServiceRequest", "Procedure"} <= exported
    for item in manifest["output"]:
        assert requests.get(item["url"], timeout=10).status_code == 401  # the files need the token too
        body = requests.get(item["url"], headers=auth, timeout=10)
        assert body.headers["Content-Type"] == "application/fhir+ndjson"
        lines = body.content.decode().splitlines()
        assert len(lines) == item["count"]
        ids = [get_fhir_model_class(item["type"]).model_validate(json.loads(line)).id for line in lines]
        assert len(ids) == len(set(ids))
    # Observation is kept in several tables (lab results, recovery checks …): one file holds them all.
    (observations,) = [item for item in manifest["output"] if item["type"] == "Observation"]
    searched = requests.get(
        f"{base}/Observation", params={"_total": "accurate", "_count": "0"}, headers=auth, timeout=10
    ).json()
    lines = requests.get(observations["url"], headers=auth, timeout=10).content.decode().splitlines()
    assert observations["count"] == searched["total"] == len(lines)
    categories = {json.loads(line)["category"][0]["coding"][0]["code"] for line in lines}
    assert categories == {"laboratory", "vital-signs", "survey"}


def test_type_since_and_type_filter_choose_what_is_exported(make_case: Any, actors: dict[str, Any], site: Any) -> None:
    from kyphos import clock
    from kyphos.interop.models import BulkExport
    from kyphos.patients import services as patients

    old = make_case("scheduled")
    new = make_case("scheduled")
    since = clock.current()
    patients.change_contact(actors["scheduler"], new.patient, "email", "ada@example.org")
    api = fhir_api(api_token(api_client("registry", "system/*.rs")))
    kick = api.get("/fhir/Patient/$export", {"_type": "Patient", "_since": since.isoformat()}, **ASYNC)
    assert kick.status_code == 202
    finish()
    export = BulkExport.objects.get()
    from kyphos.interop.fhir import bulk

    lines = bulk.file_of(export, "Patient").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [str(new.patient.uuid)]
    assert str(old.patient.uuid) not in bulk.file_of(export, "Patient").read_text()
    refused = {
        "no async": api.get("/fhir/$export"),
        "csv": api.get("/fhir/$export", {"_outputFormat": "text/csv"}, **ASYNC),
        "unknown type": api.get("/fhir/$export", {"_type": "Basic"}, **ASYNC),
        "bad since": api.get("/fhir/$export", {"_since": "yesterday"}, **ASYNC),
        "bad filter": api.get("/fhir/$export", {"_typeFilter": "Observation?code:nope=1"}, **ASYNC),
    }
    assert {why: r.status_code for why, r in refused.items()} == dict.fromkeys(refused, 400)
    assert BulkExport.objects.count() == 1


def test_a_group_is_a_site_and_a_client_sees_only_its_sites(actors: dict[str, Any], site: Any, other_site: Any) -> None:
    from kyphos.interop.fhir import bulk
    from kyphos.interop.models import BulkExport

    here, there = refer(actors, site, "G100001"), refer(actors, other_site, "G100002")
    everywhere = fhir_api(api_token(api_client("registry", "system/*.rs")))
    assert everywhere.get(f"/fhir/Group/{site.code}/$export", {"_type": "Patient"}, **ASYNC).status_code == 202
    assert everywhere.get("/fhir/Group/NOPE/$export", **ASYNC).status_code == 404
    local = fhir_api(api_token(api_client("local", "system/Patient.rs", sites=[other_site.code])))
    assert local.get("/fhir/$export", {"_type": "Patient"}, **ASYNC).status_code == 202
    assert local.get("/fhir/$export", {"_type": "Observation"}, **ASYNC).status_code == 403  # not in its scopes
    finish()
    group, own = BulkExport.objects.order_by("id")
    assert bulk.file_of(group, "Patient").read_text().count('"resourceType":"Patient"') == 1
    assert str(here.patient.uuid) in bulk.file_of(group, "Patient").read_text()
    assert str(here.patient.uuid) not in bulk.file_of(own, "Patient").read_text()
    assert str(there.patient.uuid) in bulk.file_of(own, "Patient").read_text()
    # One client cannot follow another's export.
    assert local.get(f"/fhir/$export-status/{group.uuid}").status_code == 404


def test_cancel_expiry_and_a_resumed_export_writes_nothing_twice(
    actors: dict[str, Any], site: Any, settings: Any
) -> None:
    from kyphos import clock
    from kyphos.interop.fhir import bulk
    from kyphos.interop.models import BulkExport

    for n in range(5):
        refer(actors, site, f"R10000{n}")
    settings.KYPHOS_FHIR_EXPORT_SLICE = 2
    api = fhir_api(api_token(api_client("registry", "system/*.rs")))
    api.get("/fhir/$export", {"_type": "Patient"}, **ASYNC)
    export = BulkExport.objects.get()
    assert bulk.work("test")  # two patients written
    path = bulk.file_of(export, "Patient")
    with open(path, "ab") as out:  # a worker killed after writing its next lines, before recording them
        out.write(b'{"resourceType":"Patient","id":"half-written"}\n')
    finish()
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 5 and "half-written" not in ids
    status = api.get(f"/fhir/$export-status/{export.uuid}")
    assert status.status_code == 200 and status.json()["output"][0]["count"] == 5
    BulkExport.objects.filter(pk=export.pk).update(expires_at=clock.current() - timedelta(minutes=1))
    assert bulk.expire() == 1 and not path.exists()
    assert api.get(f"/fhir/$export-status/{export.uuid}").status_code == 404
    # Cancel: the status goes away with the files.
    api.get("/fhir/$export", {"_type": "Patient"}, **ASYNC)
    second = BulkExport.objects.latest("id")
    bulk.work("test")
    assert api.delete(f"/fhir/$export-status/{second.uuid}").status_code == 202
    assert api.get(f"/fhir/$export-status/{second.uuid}").status_code == 404
    assert not bulk.file_of(second, "Patient").exists()
    assert not bulk.work("test")


def test_exporting_the_audit_trail_ends_although_the_export_itself_is_audited(
    actors: dict[str, Any], site: Any, settings: Any
) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.interop.fhir import bulk
    from kyphos.interop.models import BulkExport

    for n in range(3):
        refer(actors, site, f"T10000{n}")
    settings.KYPHOS_FHIR_EXPORT_SLICE = 2
    privacy = fhir_api(api_token(api_client("privacy", "system/AuditEvent.rs", ("auditor",))))
    before = AuditEntry.objects.count()
    assert privacy.get("/fhir/$export", {"_type": "AuditEvent"}, **ASYNC).status_code == 202
    assert finish() < 50
    export = BulkExport.objects.get()
    lines = bulk.file_of(export, "AuditEvent").read_text().splitlines()
    assert before <= len(lines) < AuditEntry.objects.count()


def test_the_registry_group_is_the_patients_treated_at_a_site_in_a_period(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    from kyphos.interop.fhir import bulk
    from kyphos.interop.models import BulkExport
    from kyphos.procedure.models import ProcedureRecord
    from tests.conftest import MONDAY, advance

    first = case_at(make_case, actors, "discharged")
    second = advance(make_case("scheduled", start=MONDAY + timedelta(days=2)), actors, "discharged")
    referred_only = make_case("referred")
    day = ProcedureRecord.objects.get(case=first).started_at.astimezone(site.zone).date()
    assert ProcedureRecord.objects.get(case=second).started_at.astimezone(site.zone).date() != day
    api = fhir_api(api_token(api_client("registry", "system/*.rs")))
    group = f"{site.code}.{day}.{day}"
    kick = api.get(f"/fhir/Group/{group}/$export", {"_type": "Patient,Procedure"}, **ASYNC)
    assert kick.status_code == 202
    finish()
    export = BulkExport.objects.get()
    patients = [json.loads(line)["id"] for line in bulk.file_of(export, "Patient").read_text().splitlines()]
    assert patients == [str(first.patient.uuid)]
    procedures = bulk.file_of(export, "Procedure").read_text().splitlines()
    assert len(procedures) == 1 and str(first.patient.uuid) in procedures[0]
    assert str(second.patient.uuid) not in bulk.file_of(export, "Procedure").read_text()
    assert str(referred_only.patient.uuid) not in bulk.file_of(export, "Patient").read_text()
    # A period that makes no sense, or a site that is not there: refused with the reason, nothing stored.
    backwards = api.get(f"/fhir/Group/{site.code}.{day}.{day - timedelta(days=1)}/$export", **ASYNC)
    assert backwards.status_code == 400 and backwards.json()["resourceType"] == "OperationOutcome"
    assert "first day not after the last" in backwards.json()["issue"][0]["diagnostics"]
    assert api.get(f"/fhir/Group/{site.code}.2026-02-30.2026-03-01/$export", **ASYNC).status_code == 400
    assert api.get(f"/fhir/Group/NOPE.{day}.{day}/$export", **ASYNC).status_code == 404
    assert BulkExport.objects.count() == 1
