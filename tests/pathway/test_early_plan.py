"""Holds that start before the call: the referral's blood thinners are planned provisionally at booking, the nurse
gets a task a working day before the earliest last dose, the patient is told to stop nothing yet, and the signed
call confirms or replaces the plan."""

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kyphos.messaging import reminders
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import services
from kyphos.pathway.models import Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role
from tests.accounts import sign_in
from tests.conftest import MONDAY, NEW_YORK, advance

pytestmark = pytest.mark.django_db
BOOKED_AT = datetime(2029, 12, 20, 10, tzinfo=NEW_YORK)  # a Thursday, 18 days before MONDAY (7 Jan 2030)


def book(make_case: Any, note: str, at: datetime = BOOKED_AT, start: datetime = MONDAY) -> Any:
    with time_machine.travel(at, tick=False):
        return make_case("scheduled", start=start, medications_note=note)


def early_tasks(case: Any, status: str = TaskStatus.OPEN) -> list[Task]:
    return list(Task.objects.filter(case=case, kind=TaskKind.BLOOD_THINNER_PLAN, status=status))


def test_clopidogrel_5_days_before_opens_the_nurses_task_a_working_day_before_the_last_dose(make_case: Any) -> None:
    """SIR 2019, clopidogrel: hold 5 days. For Monday 7 January the last dose is Wednesday 2 January 08:00, long
    before the 24–48 h call (Friday): the nurse reaches the prescriber by the close of Tuesday 1 January."""
    case = book(make_case, "Plavix 75 mg daily; metformin 500 mg")
    [task] = early_tasks(case)
    assert task.role == Role.NURSE and not task.urgent
    assert task.due_end == datetime(2030, 1, 1, 17, tzinfo=NEW_YORK)
    assert "clopidogrel" in task.note and "Dr Okafor" in task.note and "Wed 02-Jan-2030 08:00" in task.note


def test_a_short_hold_the_call_can_still_arrange_opens_no_task(make_case: Any) -> None:
    """Enoxaparin, one daily dose held (SIR 2019): the last dose is Sunday, after the Friday call."""
    assert early_tasks(book(make_case, "enoxaparin 40 mg once daily")) == []
    assert early_tasks(book(make_case, "paracetamol as needed", start=MONDAY + timedelta(hours=2))) == []


def test_too_little_time_needs_a_reason_and_makes_the_task_urgent(make_case: Any, actors: dict[str, Any]) -> None:
    """Booked on Wednesday 2 January for Monday: clopidogrel should have stopped already. Booking asks for a
    reason, and the nurse's task is urgent."""
    at = datetime(2030, 1, 2, 9, tzinfo=NEW_YORK)
    with time_machine.travel(at, tick=False):
        case = make_case("triaged", medications_note="clopidogrel")
        room = case.site.rooms.first()
        with pytest.raises(ValidationError, match="cannot fit"):
            services.book_case(actors["scheduler"], case, version=case.version, room=room, start=MONDAY, minutes=60)
        case = services.book_case(
            actors["scheduler"], case, version=case.version, room=room, start=MONDAY, minutes=60,
            override_reason="Urgent: the prescriber already stopped it on Sunday",
        )  # fmt: skip
    [task] = early_tasks(case)
    assert task.urgent and task.due_end == at + timedelta(hours=4)


def test_rescheduling_replaces_the_task(make_case: Any, actors: dict[str, Any]) -> None:
    case = book(make_case, "warfarin 5 mg")
    later = MONDAY + timedelta(days=7)
    with time_machine.travel(BOOKED_AT + timedelta(hours=1)):
        case = services.reschedule_case(
            actors["scheduler"], case, version=case.version, room=case.appointment.room, start=later, minutes=60,
            reason="patient asked",
        )  # fmt: skip
    assert len(early_tasks(case, TaskStatus.CANCELLED)) == 1
    [task] = early_tasks(case)
    assert task.due_end == datetime(2030, 1, 8, 17, tzinfo=NEW_YORK)  # warfarin 5 days before 14 January


def test_the_signed_call_replaces_the_provisional_plan(make_case: Any, actors: dict[str, Any]) -> None:
    case = book(make_case, "aspirin 81 mg")
    assert early_tasks(case)
    case = advance(case, actors, "precall_done")
    assert early_tasks(case) == [] and len(early_tasks(case, TaskStatus.DONE)) == 1


def test_the_patient_is_told_to_stop_nothing_yet_and_when_the_nurse_will_call(make_case: Any) -> None:
    case = book(make_case, "Plavix")
    with time_machine.travel(BOOKED_AT + timedelta(minutes=5)):
        reminders.derive()
    message = OutboxMessage.objects.get(case=case, purpose="early_medicines")
    assert "Do not stop any medicine until your doctor or our nurse tells you to" in message.body
    assert "Tuesday 1 January 2030" in message.body


def test_the_booking_page_shows_the_referrals_holds_for_the_date_being_chosen(
    make_case: Any, people: dict[str, Any], site: Any
) -> None:
    with time_machine.travel(BOOKED_AT):
        case = make_case("triaged", medications_note="Plavix 75 mg")
        client = Client()
        sign_in(client, people["scheduler"])
        url = reverse("case_book_plan", args=[case.uuid])
        room = site.rooms.first().pk
        body = client.get(url, {"day": "2030-01-07", "start_time": "08:00", "minutes": "60", "room": room}).content
        text = body.decode()
        assert "clopidogrel" in text and "Wed 02-Jan-2030 08:00" in text and "booking opens a task" in text
        late = client.get(url, {"day": "2029-12-24", "start_time": "08:00", "minutes": "60", "room": room}).content
        assert "Too little time" in late.decode()
        page = client.get(reverse("case_book", args=[case.uuid])).content.decode()
        assert "Blood thinners on the referral" in page and 'hx-get="' + url in page


def test_the_case_page_shows_the_provisional_holds_at_referral(make_case: Any, people: dict[str, Any]) -> None:
    """At referral, before any date: the holds the referral's blood thinners will need."""
    case = make_case("referred", medications_note="Eliquis 5 mg twice daily\nPlavix 75 mg")
    client = Client()
    sign_in(client, people["radiologist"])
    text = client.get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "Blood thinners on the referral" in text
    assert "clopidogrel (Plavix): hold 5 days" in text and "apixaban (Eliquis): hold 6 doses" in text
