"""Messages stay true: a queued message is checked against the case as it is just before it goes — rewritten when
its words changed, withdrawn when it no longer applies or would arrive after the moment it speaks about."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from kyphos.messaging import outbox, reminders
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import services
from tests.conftest import MONDAY, NEW_YORK, advance

pytestmark = pytest.mark.django_db
REMINDER_DUE = datetime(2030, 1, 4, 10, tzinfo=NEW_YORK)  # Friday 10:00, three days before Monday 08:00


@pytest.fixture(autouse=True)
def _sms_to_files(settings: Any, tmp_path: Path) -> None:
    settings.KYPHOS_SMS_DIR = str(tmp_path / "sms")


def send(at: datetime) -> OutboxMessage | None:
    with time_machine.travel(at, tick=False):
        return outbox.process_one(check=reminders.current_message)


def queued_reminder(make_case: Any) -> Any:
    case = make_case("scheduled", start=MONDAY)
    with time_machine.travel(REMINDER_DUE, tick=False):
        reminders.derive()
    OutboxMessage.objects.filter(case=case).exclude(purpose="appointment_reminder").update(status="sent")
    return case


def test_the_reminder_saying_a_nurse_will_call_is_withdrawn_once_the_call_is_done(
    make_case: Any, actors: dict[str, Any]
) -> None:
    """An SMS saying "a nurse will call you 1 to 2 days before" arrived after the call: now it is withdrawn, and
    the reminder that goes instead does not say it."""
    case = queued_reminder(make_case)
    reminder = OutboxMessage.objects.get(case=case, purpose="appointment_reminder")
    assert "A nurse will call you" in reminder.body
    advance(case, actors, "precall_done")
    row = send(REMINDER_DUE + timedelta(minutes=1))
    assert row is not None and row.pk == reminder.pk and row.status == "cancelled"
    with time_machine.travel(REMINDER_DUE + timedelta(minutes=2), tick=False):
        reminders.derive()
    after = OutboxMessage.objects.get(case=case, purpose="appointment_reminder_after_call")
    assert "A nurse will call" not in after.body and "Follow what the nurse told you" in after.body
    assert send(REMINDER_DUE + timedelta(minutes=3)).status == "sent"


def test_a_message_about_a_booking_that_moved_is_withdrawn(make_case: Any, actors: dict[str, Any]) -> None:
    case = queued_reminder(make_case)
    with time_machine.travel(REMINDER_DUE, tick=False):
        services.reschedule_case(
            actors["scheduler"], case, version=case.version, room=case.appointment.room,
            start=MONDAY + timedelta(days=7), minutes=60, reason="patient asked",
        )  # fmt: skip
    assert send(REMINDER_DUE + timedelta(minutes=1)).status == "cancelled"


def test_a_message_is_never_sent_after_the_moment_it_speaks_about(make_case: Any) -> None:
    """A reminder still waiting (the worker was down) when the procedure has begun is withdrawn, not sent."""
    case = queued_reminder(make_case)
    row = send(MONDAY + timedelta(minutes=15))
    assert row.status == "cancelled" and row.sent_at is None
    assert OutboxMessage.objects.get(case=case, purpose="appointment_reminder").status == "cancelled"


def test_changed_words_are_rewritten_before_it_goes(make_case: Any) -> None:
    case = queued_reminder(make_case)
    site = case.site
    site.message_settings = {
        "appointment_reminder": {"text_en": "Reminder: {date} at {time}, arrive {arrival}. Call {phone}."}
    }
    site.save()
    row = send(REMINDER_DUE + timedelta(minutes=1))
    assert row.status == "sent" and row.body.startswith("Reminder: Monday 7 January 2030 at 08:00")
