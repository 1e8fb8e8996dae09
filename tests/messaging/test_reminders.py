"""The worker derives each purpose's message at its time, once, in the patient's language and channel."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from kyphos.aftercare import followup
from kyphos.aftercare import selectors as aftercare_selectors
from kyphos.messaging import links, outbox, reminders
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import kernel
from kyphos.pathway.models import TaskKind
from kyphos.pathway.policy import Role
from kyphos.scheduling.models import Visit
from tests.conftest import MONDAY, NEW_YORK, case_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any, tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.KYPHOS_SMS_DIR = str(tmp_path / "sms")


def purposes(case: Any) -> list[str]:
    return sorted(OutboxMessage.objects.filter(case=case).values_list("purpose", flat=True))


def test_booking_confirmation_goes_once_with_a_working_link(make_case: Any) -> None:
    case = make_case("scheduled")
    assert reminders.derive() >= 1
    assert reminders.derive() == 0  # running again queues nothing twice
    (row,) = OutboxMessage.objects.filter(case=case, purpose="booking_confirmation")
    assert row.channel == "sms" and row.to_address == case.patient.phone_mobile
    token = row.body.split("/p/")[1].split("/")[0]
    assert links.open_token(token).case == case
    arrival = case.appointment.arrival_at.astimezone(NEW_YORK)
    assert f"arrive at {arrival:%H:%M}" in row.body


def test_an_email_patient_gets_a_calendar_invitation_in_spanish(make_case: Any) -> None:
    case = make_case("scheduled")
    patient = case.patient
    patient.email, patient.preferred_channel, patient.preferred_language = "ada@example.org", "email", "es"
    patient.save()
    reminders.derive()
    row = OutboxMessage.objects.get(case=case, purpose="booking_confirmation")
    assert row.channel == "email" and row.language == "es" and row.subject.startswith("Su cita")
    assert "BEGIN:VEVENT" in row.calendar and "Cifoplastia" in row.calendar
    outbox.process_one()
    (sent,) = mail.outbox
    assert sent.attachments[0][0] == "appointment.ics" and sent.attachments[0][2] == "text/calendar"


def test_the_reminder_goes_three_days_before_at_ten_and_never_after_the_appointment(make_case: Any) -> None:
    case = make_case("scheduled", start=MONDAY)
    OutboxMessage.objects.all().delete()  # the confirmation is another test's subject
    friday_10 = datetime(2030, 1, 4, 10, tzinfo=NEW_YORK)
    with time_machine.travel(friday_10 - timedelta(minutes=1)):
        reminders.derive()
        assert "appointment_reminder" not in purposes(case)
    with time_machine.travel(friday_10 + timedelta(minutes=1)):
        reminders.derive()
        assert "appointment_reminder" in purposes(case)


def test_nothing_is_sent_for_an_appointment_that_has_passed(make_case: Any) -> None:
    case = make_case("scheduled", start=MONDAY)
    with time_machine.travel(MONDAY + timedelta(minutes=5)):
        assert reminders.derive() == 0
    assert purposes(case) == []


def test_a_disabled_purpose_is_not_sent(make_case: Any, site: Any) -> None:
    site.message_settings = {"booking_confirmation": {"enabled": False}}
    site.save()
    case = make_case("scheduled")
    reminders.derive()
    assert "booking_confirmation" not in purposes(case)


def test_not_reached_goes_when_the_calls_ran_out(make_case: Any) -> None:
    case = make_case("scheduled")
    reminders.derive()
    assert "not_reached" not in purposes(case)
    kernel.open_task(
        case,
        TaskKind.CALL_ESCALATION,
        Role.RADIOLOGIST,
        case.appointment.start - timedelta(days=1),
        case.appointment.start,
    )
    with time_machine.travel(case.appointment.start - timedelta(hours=20)):
        reminders.derive()
    assert "not_reached" in purposes(case)


def test_diary_prompts_on_days_1_2_3_and_7_then_visit_messages(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    OutboxMessage.objects.all().delete()
    for day in range(0, 9):
        with time_machine.travel(datetime(2030, 1, 7, 11, tzinfo=NEW_YORK) + timedelta(days=day)):
            reminders.derive()
    assert sorted(
        OutboxMessage.objects.filter(case=case, purpose="diary_prompt").values_list("key", flat=True)
    ) == sorted(f"{case.uuid}:diary_prompt:sms:d{d}" for d in (1, 2, 3, 7))
    # The visit was booked on day 7 (Monday 14 January, 07:00): reminder 3 days before, questions 2, diary 1.
    assert {"follow_up_reminder", "previsit_questionnaire", "diary_prompt_before_visit"} <= set(purposes(case))


def test_a_prompt_more_than_a_day_late_is_not_sent(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    OutboxMessage.objects.all().delete()
    with time_machine.travel(datetime(2030, 1, 12, 11, tzinfo=NEW_YORK)):  # day 5: days 1–3 are stale
        reminders.derive()
    assert not OutboxMessage.objects.filter(case=case, purpose="diary_prompt").exists()


def test_a_missed_visit_gives_the_scheduler_a_task(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    visit = Visit.objects.get(case_uuid=case.uuid)
    with time_machine.travel(visit.start + timedelta(hours=3)):
        assert followup.mark_missed_visits() == 1
        assert followup.mark_missed_visits() == 0
    visit.refresh_from_db()
    assert visit.status == Visit.Status.MISSED
    task = case.tasks.get(kind=TaskKind.BOOK_FOLLOW_UP, status="open")
    assert "missed" in task.note
    rows = aftercare_selectors.worklist(visit.start + timedelta(hours=3))
    assert [r.case for r in rows["missed"]] == [case]


def test_the_worker_runs_the_jobs_each_room_registered(make_case: Any, actors: dict[str, Any]) -> None:
    """aftercare/ registers its missed-visit job itself; the worker (in messaging/) runs it without importing it."""
    from kyphos.messaging import jobs

    assert [job.name for job in jobs.registered()] == [
        "messaging.reminders",
        "aftercare.missed_visits",
        "interop.replay_held",
        "interop.expire_exports",
        "reports.refresh_dashboard",
        "reports.warm_dashboard",
    ]
    case = case_at(make_case, actors, "discharged")
    visit = Visit.objects.get(case_uuid=case.uuid)
    with time_machine.travel(visit.start + timedelta(hours=3)):
        call_command("worker", "--once")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.MISSED and case.tasks.filter(kind=TaskKind.BOOK_FOLLOW_UP).exists()


def test_the_worker_derives_and_sends(make_case: Any, tmp_path: Path) -> None:
    make_case("scheduled")
    call_command("worker", "--once")
    row = OutboxMessage.objects.get(purpose="booking_confirmation")
    assert row.status == "sent"
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 1
