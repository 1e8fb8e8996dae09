"""Recovery checks, the ward, discharge with its letter and the follow-up visit in the 7–14 day window."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kyphos.aftercare import followup, selectors, services
from kyphos.aftercare.services import DISCHARGE_CRITERIA, CheckInput
from kyphos.messaging.letters import current_letter
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import EventKind, TaskKind, TaskStatus
from kyphos.pathway.stages import Stage
from kyphos.scheduling.models import AppointmentStatus, Site, Visit
from tests.accounts import sign_in
from tests.conftest import MONDAY, NEW_YORK, case_at

pytestmark = pytest.mark.django_db
AFTER = MONDAY + timedelta(minutes=100)
NEXT_DAY = MONDAY + timedelta(days=1, hours=2)
OK = CheckInput(legs_strength_normal=True, legs_sensation_normal=True, pain_nrs=3, bp_systolic=130)


def checked(actors: dict[str, Any], case: Any) -> None:
    """The recovery checks the site's discharge policy asks for (2 by default), taken now."""
    for _ in range(case.site.discharge_min_checks):
        services.record_check(actors["ward_nurse"], case, OK)


def in_recovery(make_case: Any, actors: dict[str, Any], **referral: Any) -> Any:
    return case_at(make_case, actors, "recovery", **referral)


def test_a_worse_neuro_check_stops_and_calls_the_radiologist(make_case: Any, actors: dict[str, Any]) -> None:
    case = in_recovery(make_case, actors)
    with time_machine.travel(AFTER):
        services.record_check(actors["ward_nurse"], case, OK)
        services.record_check(
            actors["ward_nurse"], case, CheckInput(legs_strength_normal=False, legs_sensation_normal=True)
        )
    case.refresh_from_db()
    assert case.open_stops == 1
    task = case.tasks.get(kind=TaskKind.REVIEW_FLAG, status=TaskStatus.OPEN)
    assert task.role == "radiologist" and "urgent" in task.note
    with time_machine.travel(NEXT_DAY), pytest.raises(ValidationError, match="neuro"):
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    # Every page of the case shows the open stop in its banner (the ward's, the procedure's, the case's own).
    with time_machine.travel(NEXT_DAY):
        staff = Client()
        sign_in(staff, actors["radiologist"].user)
        for name in (
            "aftercare:recovery",
            "procedure:page",
            "procedure:admission",
            "aftercare:follow_up",
            "case_detail",
        ):
            response = staff.get(reverse(name, args=[case.uuid]))
            html = response.content.decode()
            assert response.status_code == 200, (name, response.status_code)
            banner = html[html.index('class="banner"') : html.index("</section>", html.index('class="banner"'))]
            assert "Leg strength or sensation is worse" in banner, name


def test_an_overdue_check(make_case: Any, actors: dict[str, Any]) -> None:
    case = in_recovery(make_case, actors)
    with time_machine.travel(AFTER):
        services.record_check(actors["ward_nurse"], case, OK)
    assert not selectors.check_overdue(case, AFTER + timedelta(minutes=10))
    assert selectors.check_overdue(case, AFTER + timedelta(minutes=16))
    with time_machine.travel(AFTER + timedelta(minutes=20)):
        services.admit_to_ward(actors["ward_nurse"], case, "Ward 5, bed 12")
    assert not selectors.check_overdue(case, AFTER + timedelta(hours=3))


@pytest.mark.parametrize("field,value", [("pain_nrs", 11), ("spo2", 120), ("puncture_sites", "purple")])
def test_impossible_check_values(make_case: Any, actors: dict[str, Any], field: str, value: Any) -> None:
    case = in_recovery(make_case, actors)
    with time_machine.travel(AFTER), pytest.raises(ValidationError):
        services.record_check(actors["ward_nurse"], case, CheckInput(True, True, **{field: value}))
    assert not case.recovery_checks.exists()


def test_discharge_needs_every_criterion(make_case: Any, actors: dict[str, Any]) -> None:
    case = in_recovery(make_case, actors)
    with time_machine.travel(NEXT_DAY), pytest.raises(ValidationError, match="Passing urine"):
        services.discharge(
            actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA) - {"voiding"}
        )
    case.refresh_from_db()
    assert case.stage == Stage.RECOVERY


def test_discharge_books_the_follow_up_in_the_window_and_writes_the_letter(
    make_case: Any, actors: dict[str, Any]
) -> None:
    case = in_recovery(make_case, actors)
    with time_machine.travel(AFTER):
        services.record_check(actors["ward_nurse"], case, OK)
        services.admit_to_ward(actors["ward_nurse"], case)
    with time_machine.travel(MONDAY + timedelta(hours=26)):
        services.record_pain(actors["ward_nurse"], case, 2)
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED
    visit = Visit.objects.get(case_uuid=case.uuid)
    assert datetime(2030, 1, 14, 7, tzinfo=NEW_YORK) <= visit.start <= datetime(2030, 1, 21, 17, tzinfo=NEW_YORK)
    assert visit.start == datetime(2030, 1, 14, 7, tzinfo=NEW_YORK)  # the first free slot: day 7 at opening
    assert not case.tasks.filter(kind=TaskKind.BOOK_FOLLOW_UP, status=TaskStatus.OPEN).exists()
    letter = current_letter(case, "discharge")
    assert "Monday 14 January 2030 at 07:00" in letter.html and "Call 911" in letter.html
    # Arrived 06:30 on Monday, discharged 10:00 on Tuesday: 27.5 hours.
    stay = selectors.length_of_stay(case)
    assert stay is not None and abs(stay - timedelta(hours=27, minutes=30)) < timedelta(seconds=5)


def test_no_free_slot_leaves_the_scheduler_task_open(make_case: Any, actors: dict[str, Any], site: Any) -> None:
    case = in_recovery(make_case, actors)
    site.business_hours = {"mon": [["07:00", "07:30"]]}  # one 30-minute clinic slot a week
    site.save()
    for monday in (datetime(2030, 1, 14, 7, tzinfo=NEW_YORK), datetime(2030, 1, 21, 7, tzinfo=NEW_YORK)):
        Visit.objects.create(
            case_uuid=case.patient.uuid,
            site=site,
            start=monday,
            end=monday + timedelta(minutes=30),
            created_at=monday,
        )
    with time_machine.travel(NEXT_DAY):
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    assert not Visit.objects.filter(case_uuid=case.uuid).exists()
    task = case.tasks.get(kind=TaskKind.BOOK_FOLLOW_UP)
    assert task.status == TaskStatus.OPEN and task.role == "scheduler"
    assert "We will call you to book your visit" in current_letter(case, "discharge").html


def test_the_spanish_discharge_letter_has_the_restart_time(make_case: Any, actors: dict[str, Any]) -> None:
    case = in_recovery(make_case, actors)
    case.patient.preferred_language = "es"
    case.patient.save()
    with time_machine.travel(NEXT_DAY):
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    html = current_letter(case, "discharge").html
    assert "De vuelta a casa" in html and "Llame al 911" in html and "lunes 14 de enero de 2030 a las 07:00" in html


def test_site_wording_replaces_a_topic(make_case: Any, actors: dict[str, Any], site: Any) -> None:
    site.discharge_blocks = {"en": {"driving": "No driving for 2 weeks (our surgeons' rule)."}}
    site.save()
    case = in_recovery(make_case, actors)
    with time_machine.travel(NEXT_DAY):
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    html = current_letter(case, "discharge").html
    assert "No driving for 2 weeks" in html and "Do not drive for 2 days" not in html


@pytest.mark.parametrize(
    "blocks,message",
    [
        ({"en": {"emergency": "Call {phone or 911"}}, "single { or }"),
        ({"en": {"emergency": "Call {pager}"}}, "{pager}, which is not a placeholder"),
        ({"en": {"sleeping": "Sleep well."}}, "not a topic"),
        ({"fr": {"driving": "Pas de conduite."}}, "not a language"),
        ({"en": {"driving": 14}}, "must be text"),
        (["driving"], "must look like"),
    ],
)
def test_site_wording_that_cannot_be_used_is_refused_when_saved(site: Any, blocks: Any, message: str) -> None:
    site.discharge_blocks = blocks
    with pytest.raises(ValidationError, match=re.escape(message)):
        site.full_clean()  # what the admin form runs: the message is shown next to the field
    with pytest.raises(ValidationError, match=re.escape(message)):
        site.save()
    site.refresh_from_db()
    assert site.discharge_blocks == {}


def test_a_stray_brace_saved_before_the_check_never_breaks_a_discharge(
    make_case: Any, actors: dict[str, Any], site: Any
) -> None:
    """A site text with a stray { once made every discharge at that site a server error."""
    Site.objects.filter(pk=site.pk).update(discharge_blocks={"en": {"emergency": "Call {phone or 911 {"}})
    case = in_recovery(make_case, actors)
    with time_machine.travel(NEXT_DAY):
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    html = current_letter(case, "discharge").html
    assert "Call {phone" not in html and "911" in html  # the built-in emergency sentence instead


def test_the_whole_pathway_to_closed(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "recovery")
    start = case.appointment.start
    with time_machine.travel(MONDAY + timedelta(minutes=100)):
        services.record_check(actors["ward_nurse"], case, OK)
    with time_machine.travel(start + timedelta(hours=24)):
        checked(actors, case)
        services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
    case.refresh_from_db()
    follow = case.tasks.get(kind=TaskKind.BOOK_FOLLOW_UP)
    assert follow.due_end.astimezone(NEW_YORK).date() == (start + timedelta(days=7)).date()
    with time_machine.travel(start + timedelta(days=10)):
        followup.record_visit(
            actors["radiologist"],
            case,
            followup.VisitInput(1, "discharge", complications=("none",)),
            version=case.version,
        )
        case.refresh_from_db()
        case = followup.close_case(actors["radiologist"], case, version=case.version)
    assert case.stage == Stage.CLOSED
    assert case.appointment.status == AppointmentStatus.COMPLETED
    stages = list(case.events.filter(kind=EventKind.TRANSITION).order_by("at", "id").values_list("to_stage", flat=True))
    assert stages == [
        "triaged",
        "scheduled",
        "precall_done",
        "admitted",
        "cleared",
        "in_procedure",
        "recovery",
        "discharged",
        "followup_done",
        "closed",
    ]
    assert not case.tasks.filter(status=TaskStatus.OPEN).exists()


def test_discharge_minutes_after_the_end_with_one_check_needs_a_radiologists_reason(
    make_case: Any, actors: dict[str, Any]
) -> None:
    """Discharge came 3½ minutes after the end, with one recovery check: the site's policy (by default 4 h and 2
    checks) asks a radiologist for a reason, shown on the timeline."""
    case = in_recovery(make_case, actors)
    ended = case.procedure.ended_at
    with time_machine.travel(ended + timedelta(minutes=3, seconds=30)):
        services.record_check(actors["ward_nurse"], case, OK)
        with pytest.raises(ValidationError) as refused:
            services.discharge(actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA))
        text = str(refused.value)
        assert "0 h 03 min since the procedure ended; the site's minimum is 4 h" in text
        assert "1 recovery checks recorded; the site asks for 2" in text
        with pytest.raises(NotPermitted):
            services.discharge(
                actors["ward_nurse"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA),
                early_reason="bed needed",
            )  # fmt: skip
        services.discharge(
            actors["radiologist"], case, version=case.version, criteria=set(DISCHARGE_CRITERIA),
            early_reason="Transferred to the orthopaedic ward for observation",
        )  # fmt: skip
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED
    event = case.events.get(kind=EventKind.OVERRIDE)
    assert event.summary.startswith("Discharged early:") and "orthopaedic ward" in event.reason


def test_the_last_check_outside_the_sites_vital_limits_is_questioned(make_case: Any, actors: dict[str, Any]) -> None:
    case = in_recovery(make_case, actors)
    case.site.vital_limits = {"spo2": [94, 100]}
    case.site.save()
    with time_machine.travel(NEXT_DAY):
        services.record_check(actors["ward_nurse"], case, OK)
        services.record_check(actors["ward_nurse"], case, CheckInput(True, True, spo2=91))
        assert services.discharge_questions(case) == ["Last check: SpO₂ 91 is outside 94–100."]
        services.record_check(actors["ward_nurse"], case, CheckInput(True, True, spo2=96))
        assert services.discharge_questions(case) == []


@pytest.mark.parametrize("limits", [{"temperature": [36, 38]}, {"spo2": [99, 80]}, {"heart_rate": [10, 300]}])
def test_vital_limits_a_site_cannot_use_are_refused_when_saved(site: Any, limits: dict[str, Any]) -> None:
    site.vital_limits = limits
    with pytest.raises(ValidationError):
        site.full_clean()


def test_a_follow_up_visit_a_week_early_asks_why(make_case: Any, actors: dict[str, Any]) -> None:
    """The follow-up visit was recorded a week early with no warning: outside the 7–14-day window it asks for a
    reason, which goes on the timeline."""
    case = case_at(make_case, actors, "discharged")
    visit = followup.VisitInput(2, "discharge", complications=("none",))
    with time_machine.travel(MONDAY + timedelta(days=3)):
        with pytest.raises(ValidationError) as refused:
            followup.record_visit(actors["radiologist"], case, visit, version=case.version)
        assert "Day 3 after the procedure: the 7–14-day follow-up window opens Mon 14-Jan-2030 07:00" in str(
            refused.value
        )
        case.refresh_from_db()
        assert case.stage == Stage.DISCHARGED
        early = followup.VisitInput(2, "discharge", complications=("none",), window_reason="Moving abroad on Friday")
        followup.record_visit(actors["radiologist"], case, early, version=case.version)
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOWUP_DONE
    assert case.events.filter(summary__contains="window opens", reason="Moving abroad on Friday").exists()


def test_a_follow_up_visit_after_the_window_asks_why(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=25)), pytest.raises(ValidationError, match="window closed"):
        followup.record_visit(
            actors["radiologist"], case, followup.VisitInput(2, "discharge", complications=("none",)), version=None
        )
