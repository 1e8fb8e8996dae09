"""Site scoping: a user sees the patients of the sites they work at. A case elsewhere opens only by breaking the
glass with a reason, which the privacy officer sees in the audit viewer (also as CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.messaging import outbox
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import services
from kyphos.pathway.models import Task, TaskKind
from tests.accounts import sign_in
from tests.conftest import new_patient, referral

pytestmark = pytest.mark.django_db


def person(username: str, role: str, *sites: Any) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests-1")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for site in sites:
        site.staff.add(user)
    return user


@pytest.fixture
def two_sites(site: Any, other_site: Any, actors: dict[str, Any]) -> dict[str, Any]:
    """A referral at each site (each opens a triage task for the radiologists)."""
    hosp = services.refer_patient(
        actors["scheduler"], site=site, details=referral(), new_patient=new_patient("H100001", family_name="Hollis")
    )
    asc = services.refer_patient(
        actors["scheduler"],
        site=other_site,
        details=referral(),
        new_patient=new_patient("A200002", family_name="Ashby"),
    )
    return {"hosp": hosp, "asc": asc, "asc_radiologist": person("asc_rad", "radiologist", other_site)}


def client_for(user: User) -> Client:
    return sign_in(Client(REMOTE_ADDR="10.4.4.4"), user)


def test_lists_and_searches_show_only_the_users_sites(two_sites: dict[str, Any]) -> None:
    assert Task.objects.filter(kind=TaskKind.TRIAGE, case=two_sites["hosp"]).exists()
    client = client_for(two_sites["asc_radiologist"])
    worklist = client.get("/").content.decode()
    assert "ASHBY" in worklist and "HOLLIS" not in worklist
    cases = client.get("/cases/").content.decode()
    assert "ASHBY" in cases and "HOLLIS" not in cases
    assert "HOLLIS" not in client.get("/cases/", {"text": "H100001"}).content.decode()  # not even by MRN
    assert "HOLLIS" not in client.get("/cases/", {"site": "HOSP"}).content.decode()
    # Someone who works at both sites (the fixtures' radiologist) sees both.
    both = client_for(User.objects.get(username="t_radiologist")).get("/cases/").content.decode()
    assert "ASHBY" in both and "HOLLIS" in both


def test_a_user_given_no_site_sees_no_patient(two_sites: dict[str, Any]) -> None:
    nowhere = person("new_scheduler", "scheduler")
    page = client_for(nowhere).get("/cases/").content.decode()
    assert "ASHBY" not in page and "HOLLIS" not in page


def test_a_case_elsewhere_opens_only_with_a_reason(two_sites: dict[str, Any]) -> None:
    client = client_for(two_sites["asc_radiologist"])
    hosp = two_sites["hosp"]
    case_url = f"/cases/{hosp.uuid}/"
    refused = client.get(case_url)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Not one of your sites" in page and "Riverside General" in page and "HOLLIS" not in page
    task = Task.objects.get(kind=TaskKind.TRIAGE, case=hosp)
    assert client.post(f"/tasks/{task.uuid}/claim/").status_code == 403  # tasks, patients: the same door
    assert client.get(f"/patients/{hosp.patient.uuid}/").status_code == 403
    glass = f"/patients/{hosp.patient.uuid}/break-glass/"

    too_short = client.post(glass, {"reason": "need it", "next": case_url})
    assert too_short.status_code == 400
    assert 'id="id_reason_error"' in too_short.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.BREAK_GLASS).exists()

    opened = client.post(glass, {"reason": "Covering HOSP ward tonight, patient called", "next": case_url})
    assert opened.status_code == 302 and opened["Location"] == case_url
    assert "HOLLIS" in client.get(case_url).content.decode()
    assert client.get(f"/patients/{hosp.patient.uuid}/").status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.BREAK_GLASS)
    assert entry.patient_uuid == hosp.patient.uuid and entry.username == "asc_rad"
    assert entry.detail == "Covering HOSP ward tonight, patient called"
    # The glass opens that patient only, and only in this session.
    other = services.refer_patient(
        _scheduler(),
        site=hosp.site,
        details=referral(),
        new_patient=new_patient("H100003", family_name="Harlow"),
    )
    assert client.get(f"/cases/{other.uuid}/").status_code == 403
    assert client_for(two_sites["asc_radiologist"]).get(case_url).status_code == 403


def _scheduler() -> Any:
    from kyphos.audit.actor import Actor

    return Actor(user=User.objects.get(username="t_scheduler"), client_addr="127.0.0.1")


def test_the_privacy_officer_sees_the_breaks_of_the_glass_and_exports_them(two_sites: dict[str, Any]) -> None:
    hosp = two_sites["hosp"]
    client = client_for(two_sites["asc_radiologist"])
    client.post(f"/patients/{hosp.patient.uuid}/break-glass/", {"reason": "=HYPERLINK(evil) asked by the family"})
    client_for(two_sites["asc_radiologist"]).logout()
    Client().post("/login/", {"username": "asc_rad", "password": "wrong-guess-123"})
    officer = client_for(User.objects.get(username="t_auditor"))
    page = officer.get("/audit/", {"show": "break_glass"}).content.decode()
    assert "asked by the family" in page and "Broke the glass" in page
    assert "Sign-in failed" not in page
    failed = officer.get("/audit/", {"show": "failed_sign_in"}).content.decode()
    assert "Sign-in failed" in failed and "Broke the glass" not in failed
    by_patient = officer.get("/audit/", {"patient": "H100001"}).content.decode()
    assert "Broke the glass" in by_patient
    assert "No patient has this MRN" in officer.get("/audit/", {"patient": "NOPE-1"}).content.decode()

    export = officer.get("/audit/", {"show": "break_glass", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][:3] == ["at_utc", "user", "action"]
    assert len(rows) == 2 and rows[1][1] == "asc_rad" and rows[1][2] == "break_glass"
    assert rows[1][7] == "'=HYPERLINK(evil) asked by the family"  # never run as a spreadsheet formula
    assert AuditEntry.objects.filter(object_type="audit", detail__startswith="audit CSV export").exists()


def test_the_audit_viewer_and_the_not_sent_list_are_scoped_too(two_sites: dict[str, Any], other_site: Any) -> None:
    hosp = two_sites["hosp"]
    row, _new = outbox.enqueue(hosp, "new_link", "sms", to="", body="Your link")
    OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxMessage.Status.FAILED, last_error="No address")
    asc_auditor = person("asc_auditor", "auditor", other_site)
    page = client_for(asc_auditor).get("/audit/", {"show": "changes"}).content.decode()
    assert str(two_sites["asc"].patient.uuid) in page
    assert str(hosp.patient.uuid) not in page
    nurse = person("asc_nurse", "nurse", other_site)
    assert "HOLLIS" not in client_for(nurse).get("/messages/not-sent/").content.decode()
    assert "HOLLIS" in client_for(User.objects.get(username="t_nurse")).get("/messages/not-sent/").content.decode()


def test_giving_and_taking_a_site_is_audited(site: Any, other_site: Any, people: dict[str, Any]) -> None:
    user = person("moving_nurse", "nurse", site)
    user.work_sites.add(other_site)
    other_site.staff.remove(user)
    details = list(
        AuditEntry.objects.filter(object_type="user", object_id=str(user.pk)).values_list("detail", flat=True)
    )
    assert "moving_nurse: site added HOSP" in details
    assert "moving_nurse: site added ASC" in details
    assert "moving_nurse: site removed ASC" in details
