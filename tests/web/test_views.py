"""Views for every role (allowed and forbidden), bad input on the page with nothing written, and audit."""

from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.pathway.models import Case, TaskKind
from kyphos.pathway.policy import POLICY, Role
from kyphos.pathway.stages import Stage
from kyphos.patients.models import Patient
from kyphos.scheduling.models import Appointment
from tests.accounts import sign_in
from tests.conftest import NEW_YORK, PERSONAS

pytestmark = pytest.mark.django_db
EVERYONE = [*PERSONAS, "outsider"]


def client_for(user: Any) -> Client:
    client = Client(REMOTE_ADDR="10.1.2.3")
    sign_in(client, user)
    return client


def allowed(permission: str, persona: str) -> bool:
    return persona in {r.value for r in POLICY[permission]}


# --- the policy matrix -------------------------------------------------------------------------------------

PAGES = [
    ("case_list", "case.list", None),
    ("referral_new", "case.refer", None),
    ("case_detail", "case.view", "case"),
    ("case_book", "case.book", "case"),
    ("patient_detail", "case.view", "patient"),
    ("audit", "audit.view", None),
]


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize("name,permission,arg", PAGES)
def test_pages_follow_the_policy_table(
    persona: str, name: str, permission: str, arg: str | None, people: dict[str, Any], make_case: Any
) -> None:
    case = make_case("triaged")
    kwargs = {"case": {"case_uuid": case.uuid}, "patient": {"patient_uuid": case.patient.uuid}}.get(arg or "", {})
    response = client_for(people[persona]).get(reverse(name, kwargs=kwargs))
    assert response.status_code == (200 if allowed(permission, persona) else 403), persona


@pytest.mark.parametrize("persona", EVERYONE)
def test_home_worklist_by_role(persona: str, people: dict[str, Any]) -> None:
    response = client_for(people[persona]).get("/")
    if allowed("worklist.view", persona):
        assert response.status_code == 200
    elif allowed("audit.view", persona):
        assert response.status_code == 302 and response["Location"] == reverse("audit")
    else:
        assert response.status_code == 403


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in ["/", "/cases/", "/cases/new/", "/audit/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_radiologist_can_triage(persona: str, people: dict[str, Any], make_case: Any) -> None:
    case = make_case()
    response = client_for(people[persona]).post(
        reverse("case_action", args=[case.uuid, "triage"]), {"version": case.version, "decision": "eligible"}
    )
    case.refresh_from_db()
    if persona == Role.RADIOLOGIST:
        assert response.status_code == 302 and case.stage == Stage.TRIAGED
    else:
        assert response.status_code == 403 and case.stage == Stage.REFERRED


# --- referral and booking through the pages ---------------------------------------------------------------


def referral_post(site: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "patient_mode": "new",
        "mrn": "H555001",
        "family_name": "Okonkwo",
        "given_name": "Grace",
        "date_of_birth": "1944-02-29",
        "sex": "F",
        "preferred_language": "en",
        "preferred_channel": "phone",
        "site": site.pk,
        "referring_clinician": "Dr Chen",
        "etiology": "osteoporosis",
        "pain_nrs": "7",
        "weeks_conservative_care": "8",
        "pain_trend": "worsening",
        "level_0": "T12",
        "acuity_0": "acute",
        "edema_0": "yes",
        "height_0": "30",
        "level_1": "L1",
        "acuity_1": "subacute",
        "edema_1": "yes",
    }
    for i in range(2, 5):
        data |= {f"acuity_{i}": "acute", f"edema_{i}": "unknown"}
    data.update(overrides)
    return data


def test_a_scheduler_enters_a_referral(people: dict[str, Any], site: Any) -> None:
    response = client_for(people["scheduler"]).post(reverse("referral_new"), referral_post(site))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("case_detail", args=[case.uuid])
    assert case.level_names == ["T12", "L1"] and case.patient.family_name == "Okonkwo"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("level_1", "L6", "Level 2: Choose one of the options offered."),  # levels come from a list
        ("level_1", "X9", "Level 2: Choose one of the options offered."),
        ("level_1", "T12", "already listed"),
        ("date_of_birth", "1944-02-30", "real date"),
        ("pain_nrs", "11", "Enter a number from 0 to 10."),
        ("family_name", "", "Enter the family name"),
        ("level_0", "", "at least one vertebral level"),
    ],
)
def test_bad_referral_input_shows_a_message_and_writes_nothing(
    people: dict[str, Any], site: Any, field: str, value: str, message: str
) -> None:
    data = referral_post(site, **{field: value})
    if field == "level_0":
        data["level_1"] = ""
    response = client_for(people["scheduler"]).post(reverse("referral_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "There is a problem" in html and "Nothing was saved" in html
    assert 'value="Okonkwo"' in html or field == "family_name"  # what was typed is kept
    assert not Patient.objects.exists() and not Case.objects.exists()


def booking_post(case: Any, day: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "version": case.version,
        "room": case.site.rooms.order_by("name").first().pk,
        "day": day,
        "start_time": at,
        "minutes": "60",
        **extra,
    }


def test_a_scheduler_books_and_the_call_task_opens(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("triaged")
    response = client_for(people["scheduler"]).post(
        reverse("case_book", args=[case.uuid]), booking_post(case, "2030-01-07", "08:00")
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.SCHEDULED
    assert case.appointment.start == datetime(2030, 1, 7, 8, tzinfo=NEW_YORK)
    assert case.tasks.filter(kind=TaskKind.PRECALL).exists()


@pytest.mark.parametrize(
    "day,at,message",
    [
        ("2020-01-06", "08:00", "in the past"),
        ("2030-02-30", "08:00", "real date"),
        ("2030-01-07", "25:00", "HH:MM"),
        ("2030-03-10", "02:30", "does not exist on that day"),  # the clocks spring forward
    ],
)
def test_bad_booking_input_shows_a_message_and_writes_nothing(
    people: dict[str, Any], make_case: Any, day: str, at: str, message: str
) -> None:
    case = make_case("triaged")
    response = client_for(people["scheduler"]).post(reverse("case_book", args=[case.uuid]), booking_post(case, day, at))
    assert response.status_code == 400 and message in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.TRIAGED and not Appointment.objects.exists()


def test_a_double_booking_is_refused_on_the_page(people: dict[str, Any], make_case: Any) -> None:
    first, second = make_case("triaged"), make_case("triaged")
    client = client_for(people["scheduler"])
    client.post(reverse("case_book", args=[first.uuid]), booking_post(first, "2030-01-07", "08:00"))
    response = client.post(reverse("case_book", args=[second.uuid]), booking_post(second, "2030-01-07", "08:30"))
    assert response.status_code == 400
    assert "IR Suite 1 is already booked Mon 07-Jan-2030 08:00–09:00" in response.content.decode()
    second.refresh_from_db()
    assert second.stage == Stage.TRIAGED and Appointment.objects.count() == 1


def test_a_stale_form_is_refused_with_a_clear_message(people: dict[str, Any], make_case: Any) -> None:
    case = make_case()
    stale = case.version
    radiologist = client_for(people["radiologist"])
    radiologist.post(reverse("case_action", args=[case.uuid, "triage"]), {"version": stale, "decision": "eligible"})
    response = radiologist.post(
        reverse("case_action", args=[case.uuid, "triage"]),
        {"version": stale, "decision": "ineligible", "reason": "changed my mind"},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.TRIAGED


def test_a_stop_finding_is_shown_on_the_banner_and_blocks_triage(people: dict[str, Any], make_case: Any) -> None:
    case = make_case(screen={"pregnant": True})
    client = client_for(people["radiologist"])
    page = client.get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "banner-stops" in page and "Pregnancy is an absolute contraindication" in page
    response = client.post(
        reverse("case_action", args=[case.uuid, "triage"]),
        {"version": case.version, "decision": "eligible", "screen_pregnant": "on"},
    )
    assert response.status_code == 409 and "A stop finding blocks this step" in response.content.decode()


def test_the_banner_says_allergies_not_recorded(people: dict[str, Any], make_case: Any) -> None:
    case = make_case()
    page = client_for(people["nurse"]).get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "TESTWOMAN, Ada" in page and "Allergies not recorded" in page and "H900001" in page
    assert "Sun 14-Mar-1948" in page  # unambiguous date of birth


# --- worklists and lists ----------------------------------------------------------------------------------


def test_the_call_appears_in_the_nurse_worklist_only_when_due(people: dict[str, Any], make_case: Any) -> None:
    import time_machine

    case = make_case("scheduled", start=datetime(2030, 1, 7, 8, tzinfo=NEW_YORK))

    def due_section(persona: str, moment: datetime) -> tuple[str, str]:
        with time_machine.travel(moment):
            page = client_for(people[persona]).get("/").content.decode()
        return page.split('id="due-h"')[1].split('id="up-h"')[0], page

    due, page = due_section("nurse", datetime(2030, 1, 3, 12, tzinfo=NEW_YORK))
    assert "TESTWOMAN" not in due and "TESTWOMAN" in page  # upcoming, not yet due
    due, _ = due_section("nurse", datetime(2030, 1, 4, 9, tzinfo=NEW_YORK))
    assert "TESTWOMAN" in due and "Overdue" not in due
    due, _ = due_section("nurse", datetime(2030, 1, 4, 18, tzinfo=NEW_YORK))
    assert "TESTWOMAN" in due and "Overdue" in due
    _, page = due_section("scheduler", datetime(2030, 1, 4, 9, tzinfo=NEW_YORK))
    assert "Pre-procedure call" not in page  # the scheduler's worklist does not show nurse calls
    assert case.pk


def test_case_list_filters_and_pages(people: dict[str, Any], make_case: Any, other_site: Any) -> None:
    referred, triaged = make_case(), make_case("triaged")
    client = client_for(people["manager"])
    page = client.get("/cases/", {"stage": "triaged"}).content.decode()
    assert str(triaged.uuid) in page and str(referred.uuid) not in page
    assert "1 case." in page
    page = client.get("/cases/", {"site": "ASC"}).content.decode()
    assert "No cases match" in page
    page = client.get("/cases/", {"text": "H900001"}).content.decode()
    assert str(referred.uuid) in page and str(triaged.uuid) not in page
    page = client.get("/cases/", {"text": "testwo"}).content.decode()
    assert "2 cases." in page
    response = client.get("/cases/", {"date_from": "2026-13-01"})
    assert "Enter a real date" in response.content.decode()


# --- audit ------------------------------------------------------------------------------------------------


def test_every_read_and_change_is_audited(people: dict[str, Any], make_case: Any) -> None:
    case = make_case()
    AuditEntry.objects.all()  # entries from set-up are fine; count from here
    before = AuditEntry.objects.count()
    client = client_for(people["radiologist"])
    client.get(reverse("case_detail", args=[case.uuid]))
    view = AuditEntry.objects.order_by("-id").first()
    assert (view.action, view.patient_uuid, view.username, view.client_addr) == (
        AuditAction.VIEW,
        case.patient.uuid,
        "t_radiologist",
        "10.1.2.3",
    )
    client.get("/cases/")
    listed = AuditEntry.objects.filter(action=AuditAction.LIST, object_type="case")
    assert listed.filter(patient_uuid=case.patient.uuid).exists()
    client.get(reverse("patient_detail", args=[case.patient.uuid]))
    client.post(reverse("case_action", args=[case.uuid, "triage"]), {"version": case.version, "decision": "eligible"})
    assert AuditEntry.objects.filter(action=AuditAction.TRANSITION, patient_uuid=case.patient.uuid).exists()
    assert AuditEntry.objects.count() >= before + 4


def test_audit_entries_are_append_only(make_case: Any) -> None:
    from kyphos.audit.models import AppendOnlyError

    make_case()
    entry = AuditEntry.objects.first()
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.update(detail="x")


def test_no_patient_data_reaches_the_logs(people: dict[str, Any], site: Any, caplog: Any) -> None:
    caplog.set_level("DEBUG")
    client = client_for(people["scheduler"])
    client.post(reverse("referral_new"), referral_post(site))
    client.post(reverse("referral_new"), referral_post(site, level_1="L6"))
    case = Case.objects.get()
    client.get(reverse("case_detail", args=[case.uuid]))
    text = caplog.text
    for secret in ("Okonkwo", "Grace", "H555001", "1944-02-29"):
        assert secret not in text


def test_the_auditor_reads_the_trail_by_patient(people: dict[str, Any], make_case: Any) -> None:
    case = make_case()
    client_for(people["nurse"]).get(reverse("case_detail", args=[case.uuid]))
    page = client_for(people["auditor"]).get("/audit/", {"patient": str(case.patient.uuid)}).content.decode()
    assert "t_nurse" in page and "case page" in page
    page = client_for(people["auditor"]).get("/audit/", {"patient": "not-a-uuid"}).content.decode()
    assert "No patient has this MRN or identifier." in page  # an MRN is accepted too (tests/web/test_scope.py)


def test_health_check(db: Any) -> None:
    from kyphos import clock
    from kyphos.messaging import heartbeat

    heartbeat.beat("host:1", clock.current())  # a worker is running (tests/web/test_metrics.py: when not)
    assert Client().get("/healthz").content == b"ok"


def test_unknown_case_is_404(people: dict[str, Any]) -> None:
    response = client_for(people["nurse"]).get("/cases/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_dates_on_screen_are_unambiguous(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("scheduled", start=datetime(2030, 1, 7, 8, tzinfo=NEW_YORK))
    page = client_for(people["scheduler"]).get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "Procedure Mon 07-Jan-2030 08:00" in page


def test_case_list_filters_in_place_with_htmx(people: dict[str, Any], make_case: Any) -> None:
    triaged = make_case("triaged")
    response = client_for(people["scheduler"]).get("/cases/", {"stage": "triaged"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert str(triaged.uuid) in html and "<html" not in html and "1 case." in html
