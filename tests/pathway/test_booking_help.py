"""Booking gives help: the room's free times within the site's hours, and a reason needed to book a time outside
them, after the call window or the arrival has passed, or when a blood-thinner hold cannot fit."""

from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kyphos.pathway import services
from kyphos.pathway.models import Event, EventKind
from kyphos.scheduling.selectors import free_times
from tests.accounts import sign_in
from tests.conftest import MONDAY, NEW_YORK

pytestmark = pytest.mark.django_db
THURSDAY = datetime(2030, 1, 3, 10, tzinfo=NEW_YORK)  # the Monday's call window is Friday 4 January


def triaged(make_case: Any) -> Any:
    with time_machine.travel(THURSDAY, tick=False):
        return make_case("triaged")


def book(actors: dict[str, Any], case: Any, start: datetime, at: datetime = THURSDAY, **kwargs: Any) -> Any:
    with time_machine.travel(at, tick=False):
        room = case.site.rooms.order_by("name").first()
        return services.book_case(
            actors["scheduler"], case, version=case.version, room=room, start=start, minutes=60, **kwargs
        )


def test_a_time_outside_the_sites_hours_needs_a_reason(make_case: Any, actors: dict[str, Any]) -> None:
    """A booking at 20:10 on a 07:00–17:00 day was taken without a word: now it asks why."""
    case = triaged(make_case)
    evening = datetime(2030, 1, 7, 20, 10, tzinfo=NEW_YORK)
    with pytest.raises(ValidationError) as refused:
        book(actors, case, evening)
    assert "outside the site's hours that day (07:00–17:00)" in str(refused.value)
    assert case.appointment is None
    case = book(actors, case, evening, override_reason="On-call team, emergency list")
    event = Event.objects.get(case=case, kind=EventKind.OVERRIDE)
    assert event.summary.startswith("Booked despite:") and event.reason == "On-call team, emergency list"


def test_a_closed_call_window_and_a_passed_arrival_need_a_reason(make_case: Any, actors: dict[str, Any]) -> None:
    case = triaged(make_case)
    sunday_evening = datetime(2030, 1, 6, 19, tzinfo=NEW_YORK)
    with pytest.raises(ValidationError, match="call window has already closed"):
        book(actors, case, MONDAY, at=sunday_evening)
    early_monday = datetime(2030, 1, 7, 7, tzinfo=NEW_YORK)
    with pytest.raises(ValidationError, match=r"arrival time \(06:30\) has already passed"):
        book(actors, case, MONDAY, at=early_monday)


def test_a_time_inside_the_hours_with_time_to_call_books_without_a_word(make_case: Any, actors: dict[str, Any]) -> None:
    case = book(actors, triaged(make_case), MONDAY)
    assert case.appointment is not None
    assert not Event.objects.filter(case=case, kind=EventKind.OVERRIDE).exists()


def test_the_rooms_free_times_within_the_sites_hours(make_case: Any, actors: dict[str, Any]) -> None:
    case = book(actors, triaged(make_case), MONDAY)
    room = case.appointment.room
    free = [
        (s.astimezone(NEW_YORK).strftime("%H:%M"), e.astimezone(NEW_YORK).strftime("%H:%M"))
        for s, e in free_times(room, date(2030, 1, 7), 60)
    ]
    assert free == [("07:00", "08:00"), ("09:00", "17:00")]
    assert free_times(room, date(2030, 1, 5), 60) == []  # a Saturday: closed


def test_the_booking_page_shows_free_times_and_the_warnings(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    case = triaged(make_case)
    room = case.site.rooms.order_by("name").first()
    with time_machine.travel(THURSDAY, tick=False):
        client = Client()
        sign_in(client, people["scheduler"])  # signed in then (a session from today would have expired by 2030)
        help_page = client.get(
            reverse("case_book_plan", args=[case.uuid]),
            {"room": room.pk, "day": "2030-01-07", "start_time": "20:10", "minutes": "60"},
        ).content.decode()
        assert "Free in IR Suite 1 on Mon 07-Jan-2030" in help_page and "07:00–17:00" in help_page
        assert "20:10–21:10 is outside the site&#x27;s hours that day" in help_page
        page = client.post(
            reverse("case_book", args=[case.uuid]),
            {"version": case.version, "room": room.pk, "day": "2030-01-07", "start_time": "20:10", "minutes": "60"},
        )
    assert page.status_code == 400 and "give a reason to book anyway" in page.content.decode()
    case.refresh_from_db()
    assert case.appointment is None


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"mrn": "<script>"}, "mrn"),
        ({"given_name": "A" * 10_000}, "given_name"),
        ({"family_name": "B" * 101}, "family_name"),
    ],
)
def test_what_a_person_types_is_bounded(site: Any, actors: dict[str, Any], changes: dict[str, str], field: str) -> None:
    """`<script>` was accepted as an MRN and a 10,000-character given name pushed the banner off the page: the
    service refuses both (the same check serves a page, an HL7 message or a FHIR request)."""
    from tests.conftest import new_patient, referral

    with pytest.raises(ValidationError) as refused:
        services.refer_patient(
            actors["scheduler"], site=site, details=referral(), new_patient=new_patient(**{"mrn": "H123456", **changes})
        )
    assert field in refused.value.message_dict


def test_a_site_sets_its_own_mrn_pattern(site: Any, actors: dict[str, Any]) -> None:
    from tests.conftest import new_patient, referral

    site.mrn_pattern = r"H\d{6}"
    site.save()
    with pytest.raises(ValidationError, match="not an MRN of this site"):
        services.refer_patient(actors["scheduler"], site=site, details=referral(), new_patient=new_patient("X12"))
    case = services.refer_patient(
        actors["scheduler"], site=site, details=referral(), new_patient=new_patient("H123456")
    )
    assert case.patient.mrn == "H123456"
