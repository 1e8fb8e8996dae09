"""Every stage move through the real services and database: table, guards, overrides, history, tasks."""

import importlib
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.pathway import selectors, services
from kyphos.pathway.errors import GuardBlocked, NotPermitted, StaleEdit
from kyphos.pathway.models import Case, Eligibility, Event, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.stages import MOVES, Stage, TransitionError, check_move
from kyphos.patients.models import Patient
from kyphos.scheduling.models import Appointment, AppointmentStatus
from tests.conftest import NEW_YORK, new_patient, referral

pytestmark = pytest.mark.django_db


def open_tasks(case: Case) -> set[str]:
    return set(case.tasks.filter(status=TaskStatus.OPEN).values_list("kind", flat=True))


def test_it_refers_a_new_patient_and_queues_triage(site: Any, actors: dict[str, Any]) -> None:
    case = services.refer_patient(actors["scheduler"], site=site, details=referral(), new_patient=new_patient())
    assert case.stage == Stage.REFERRED
    assert case.level_names == ["T12", "L1"]
    assert open_tasks(case) == {TaskKind.TRIAGE}
    assert case.tasks.get().role == "radiologist"
    assert case.events.get().kind == EventKind.REFERRED
    assert AuditEntry.objects.filter(patient_uuid=case.patient.uuid, action=AuditAction.CREATE).count() == 2


def test_a_bad_level_writes_nothing(site: Any, actors: dict[str, Any]) -> None:
    from kyphos.pathway.services import LevelInput

    audits = AuditEntry.objects.count()  # the personas' accounts are audited when the fixture creates them
    with pytest.raises(ValidationError, match="L6"):
        services.refer_patient(
            actors["scheduler"],
            site=site,
            new_patient=new_patient(),
            details=referral(levels=[LevelInput("L6", "acute", "yes")]),
        )
    assert not Patient.objects.exists() and not Case.objects.exists() and AuditEntry.objects.count() == audits


def test_an_existing_mrn_is_refused_for_a_new_patient(site: Any, actors: dict[str, Any]) -> None:
    services.refer_patient(actors["scheduler"], site=site, details=referral(), new_patient=new_patient())
    with pytest.raises(ValidationError, match="already exists"):
        services.refer_patient(actors["scheduler"], site=site, details=referral(), new_patient=new_patient())
    assert Case.objects.count() == 1


def test_referral_screen_raises_stop_findings_on_the_case(make_case: Any) -> None:
    case = make_case(screen={"pregnant": True})
    assert case.open_stops == 1
    assert [f.code for f in selectors.open_stop_findings(case)] == ["absolute.pregnancy"]


def test_triage_eligible_opens_the_booking_task(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case()
    case = services.triage_case(actors["radiologist"], case, version=case.version, reason="edema on STIR")
    assert case.stage == Stage.TRIAGED and case.eligibility == Eligibility.ELIGIBLE
    assert case.triaged_by == actors["radiologist"].user
    assert open_tasks(case) == {TaskKind.BOOK}
    assert case.tasks.get(kind=TaskKind.TRIAGE).status == TaskStatus.DONE


def test_a_stop_finding_blocks_triage_without_an_override(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case(screen={"infection": True})
    with pytest.raises(GuardBlocked, match="infection"):
        services.triage_case(actors["radiologist"], case, version=case.version)
    case.refresh_from_db()
    assert case.stage == Stage.REFERRED and case.version == 1


def test_a_radiologist_overrides_a_stop_with_a_reason(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case(screen={"infection": True})
    case = services.triage_case(
        actors["radiologist"],
        case,
        version=case.version,
        override_reason="Treated; CRP normal; ID consult agrees",
    )
    assert case.stage == Stage.TRIAGED and case.open_stops == 0
    override = case.events.get(kind=EventKind.OVERRIDE)
    assert "absolute.infection" in override.summary and "CRP" in override.reason
    assert AuditEntry.objects.filter(action=AuditAction.OVERRIDE, patient_uuid=case.patient.uuid).exists()


def test_screen_changes_at_triage_are_recorded(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case()
    case = services.triage_case(actors["radiologist"], case, version=case.version, screen={"retropulsion": True})
    assert case.retropulsion
    event = case.events.get(kind=EventKind.TRANSITION)
    assert event.data["screen_changed"] == ["retropulsion"]
    assert "relative.retropulsion" in event.data["findings"]


def test_decline_closes_the_case_with_its_reason(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case(screen={"pain_not_from_fracture": True})
    with pytest.raises(ValidationError):
        services.decline_case(actors["radiologist"], case, version=case.version, reason="  ")
    case = services.decline_case(actors["radiologist"], case, version=case.version, reason="Facet pain")
    assert case.stage == Stage.CLOSED and case.eligibility == Eligibility.INELIGIBLE
    assert case.eligibility_reason == "Facet pain" and open_tasks(case) == set()


def test_booking_opens_the_call_task_in_the_call_window(make_case: Any, actors: dict[str, Any], room: Any) -> None:
    case = make_case("triaged")
    monday = datetime(2030, 1, 7, 8, tzinfo=NEW_YORK)  # a Monday
    case = services.book_case(actors["scheduler"], case, version=case.version, room=room, start=monday, minutes=60)
    assert case.stage == Stage.SCHEDULED and case.appointment.start == monday
    assert case.appointment.arrival_at == monday - timedelta(minutes=90)
    call = case.tasks.get(kind=TaskKind.PRECALL)
    assert (call.due_start, call.due_end) == (
        datetime(2030, 1, 4, 7, tzinfo=NEW_YORK),
        datetime(2030, 1, 4, 17, tzinfo=NEW_YORK),
    )
    assert call.role == "nurse" and call.appointment_start == monday
    assert case.tasks.get(kind=TaskKind.BOOK).status == TaskStatus.DONE


def test_a_booking_in_the_past_is_refused(make_case: Any, actors: dict[str, Any], room: Any) -> None:
    case = make_case("triaged")
    with pytest.raises(ValidationError, match="past"):
        services.book_case(
            actors["scheduler"],
            case,
            version=case.version,
            room=room,
            start=datetime(2020, 1, 6, 8, tzinfo=NEW_YORK),
            minutes=60,
        )
    case.refresh_from_db()
    assert case.stage == Stage.TRIAGED and not Appointment.objects.exists()


def test_a_double_booking_of_the_room_is_refused(make_case: Any, actors: dict[str, Any], room: Any) -> None:
    first, second = make_case("triaged"), make_case("triaged")
    start = datetime(2030, 1, 7, 8, tzinfo=NEW_YORK)
    services.book_case(actors["scheduler"], first, version=first.version, room=room, start=start, minutes=60)
    with pytest.raises(ValidationError, match="already booked"):
        services.book_case(
            actors["scheduler"],
            second,
            version=second.version,
            room=room,
            start=start + timedelta(minutes=30),
            minutes=60,
        )
    second.refresh_from_db()
    assert second.stage == Stage.TRIAGED and Appointment.objects.count() == 1
    # Back-to-back is fine, and so is the same time in the other room.
    services.book_case(
        actors["scheduler"],
        second,
        version=second.version,
        room=room,
        start=start + timedelta(minutes=60),
        minutes=60,
    )


def test_an_ineligible_case_cannot_be_booked(make_case: Any, actors: dict[str, Any], room: Any) -> None:
    case = make_case()
    with pytest.raises(TransitionError):
        services.book_case(
            actors["scheduler"],
            case,
            version=case.version,
            room=room,
            start=datetime(2030, 1, 7, 8, tzinfo=NEW_YORK),
            minutes=60,
        )


def test_reschedule_keeps_the_old_booking_and_moves_the_call(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    old = case.appointment
    new_start = datetime(2031, 3, 12, 10, tzinfo=NEW_YORK)  # a Wednesday
    case = services.reschedule_case(
        actors["scheduler"],
        case,
        version=case.version,
        room=old.room,
        start=new_start,
        minutes=45,
        reason="Patient asked",
    )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.RESCHEDULED and case.appointment.replaces == old
    calls = case.tasks.filter(kind=TaskKind.PRECALL)
    assert set(calls.values_list("status", flat=True)) == {TaskStatus.CANCELLED, TaskStatus.OPEN}
    assert calls.get(status=TaskStatus.OPEN).due_start == datetime(2031, 3, 10, 10, tzinfo=NEW_YORK)


def test_postpone_releases_the_room_and_asks_for_a_rebook(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    appointment = case.appointment
    with pytest.raises(ValidationError):
        services.postpone_case(actors["nurse"], case, version=case.version, reason="bored")
    case = services.postpone_case(actors["nurse"], case, version=case.version, reason="no_driver")
    appointment.refresh_from_db()
    assert case.stage == Stage.POSTPONED and case.appointment is None
    assert appointment.status == AppointmentStatus.CANCELLED
    assert open_tasks(case) == {TaskKind.REBOOK}
    # Rebooking from postponed goes back to scheduled, into the freed slot.
    case = services.book_case(
        actors["scheduler"],
        case,
        version=case.version,
        room=appointment.room,
        start=appointment.start,
        minutes=60,
    )
    assert case.stage == Stage.SCHEDULED and open_tasks(case) == {TaskKind.PRECALL}


def test_cancel_keeps_the_history(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    events_before = case.events.count()
    tasks_open = open_tasks(case)
    with pytest.raises(ValidationError):
        services.cancel_case(actors["scheduler"], case, version=case.version, reason="other", note="")
    case = services.cancel_case(actors["scheduler"], case, version=case.version, reason="pain_resolved")
    assert case.stage == Stage.CANCELLED and case.end_reason == "pain_resolved"
    # One transition, and one line for each task the cancellation closed (the call), nothing else.
    assert tasks_open == {TaskKind.PRECALL}
    assert case.events.count() == events_before + 2 and open_tasks(case) == set()
    last_two = list(case.events.order_by("-id")[:2])
    closed = next(e for e in last_two if e.kind == EventKind.TASK_CLOSED)
    assert closed.summary == "Pre-procedure call: cancelled" and closed.reason == "case cancelled"
    assert case.appointment.status == AppointmentStatus.CANCELLED
    with pytest.raises(TransitionError):
        services.book_case(
            actors["scheduler"],
            case,
            version=case.version,
            room=case.appointment.room,
            start=datetime(2031, 1, 6, 8, tzinfo=NEW_YORK),
            minutes=60,
        )


def test_a_stale_version_is_refused_and_changes_nothing(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case()
    seen = case.version
    services.triage_case(actors["radiologist"], case, version=seen)
    with pytest.raises(StaleEdit, match="changed by someone else"):
        services.decline_case(actors["radiologist"], case, version=seen, reason="second opinion")
    case.refresh_from_db()
    assert case.stage == Stage.TRIAGED


def test_roles_are_enforced_by_the_services(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case()
    for who in ("scheduler", "nurse", "ward_nurse", "manager", "outsider"):
        with pytest.raises(NotPermitted):
            services.triage_case(actors[who], case, version=case.version)
    with pytest.raises(NotPermitted):
        services.refer_patient(actors["nurse"], site=case.site, details=referral(), new_patient=new_patient("X1"))


@pytest.mark.parametrize(
    "stage,action",
    [
        (Stage.REFERRED, "book"),
        (Stage.SCHEDULED, "triage"),
        (Stage.CLOSED, "cancel"),
        (Stage.RECOVERY, "postpone"),
        (Stage.CANCELLED, "book"),
        (Stage.REFERRED, "discharge"),
    ],
)
def test_the_transition_table_refuses_moves_it_does_not_list(stage: Stage, action: str) -> None:
    with pytest.raises(TransitionError):
        check_move(stage, action)


def test_every_move_has_a_service_function() -> None:
    for action, move in MOVES.items():
        module_name, function_name = move.owner.split(":")
        owner = getattr(importlib.import_module(module_name), function_name)
        assert callable(owner) and action in owner.__kyphos_moves__


def test_the_timeline_is_append_only(make_case: Any) -> None:
    case = make_case()
    event = case.events.first()
    event.summary = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        Event.objects.filter(case=case).delete()
    with pytest.raises(RuntimeError):
        Event.objects.filter(case=case).update(summary="x")


def test_claiming_a_task_is_exclusive(make_case: Any, actors: dict[str, Any], people: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group, User

    case = make_case("scheduled")
    call = case.tasks.get(kind=TaskKind.PRECALL)
    services.claim_task(actors["nurse"], call)
    other = User.objects.create_user("t_nurse2", password="x")
    other.groups.add(Group.objects.get(name="nurse"))
    from kyphos.audit.actor import Actor

    with pytest.raises(ValidationError, match="already taken by t_nurse"):
        services.claim_task(Actor(other), call)
    with pytest.raises(NotPermitted):
        services.claim_task(actors["scheduler"], call)
    call.refresh_from_db()
    assert call.assignee == people["nurse"]


@pytest.mark.parametrize("hour", [7, 13, 23])
def test_demo_department_builds_every_stage_at_any_hour(db: Any, hour: int) -> None:
    """The demo opens whenever someone runs it: early morning once put a today case on top of a booking."""
    from kyphos.demo.department import load_demo

    with time_machine.travel(datetime(2026, 12, 2, hour, 52, tzinfo=NEW_YORK), tick=False):
        load_demo(seed=3)
    stages = set(Case.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert Case.objects.count() >= 55
    assert Task.objects.filter(kind=TaskKind.PRECALL, status=TaskStatus.OPEN).exists()


def test_demo_is_deterministic_for_a_seed(transactional_db: Any) -> None:
    # transactional: `demo --reset` flushes with TRUNCATE, which PostgreSQL refuses inside a test transaction
    from kyphos.demo.department import load_demo

    with time_machine.travel(datetime(2026, 12, 2, 15, tzinfo=NEW_YORK), tick=False):
        load_demo(seed=11)
    first = list(Patient.objects.order_by("mrn").values_list("mrn", "family_name", "given_name", "date_of_birth"))
    levels = list(Case.objects.order_by("patient__mrn").values_list("patient__mrn", "stage", "etiology"))
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    with time_machine.travel(datetime(2026, 12, 2, 15, tzinfo=NEW_YORK), tick=False):
        load_demo(seed=11)
    assert first == list(
        Patient.objects.order_by("mrn").values_list("mrn", "family_name", "given_name", "date_of_birth")
    )
    assert levels == list(Case.objects.order_by("patient__mrn").values_list("patient__mrn", "stage", "etiology"))


def test_arrival_time_follows_the_site_setting(make_case: Any, site: Any) -> None:
    site.arrival_lead_minutes = 120
    site.save()
    case = make_case("scheduled", start=datetime(2030, 1, 9, 9, 30, tzinfo=NEW_YORK))
    assert case.appointment.arrival_at.astimezone(NEW_YORK).time() == time(7, 30)


def test_an_object_returned_by_a_service_is_still_version_checked(make_case: Any, actors: dict[str, Any]) -> None:
    # A service returns the row it locked; handing that object to a later call must not skip the check.
    case = make_case("triaged")
    seen = case.version
    Case.objects.filter(pk=case.pk).update(version=seen + 1)  # someone else saved meanwhile
    with pytest.raises(StaleEdit):
        services.cancel_case(actors["scheduler"], case, version=seen, reason="pain_resolved")
    case.refresh_from_db()
    assert case.stage == Stage.TRIAGED
