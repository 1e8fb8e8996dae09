"""SIU from the hospital's scheduling system books, moves, releases and marks no-shows through the pathway's own
services: the booking a scheduler would see is the one the message asked for, the call task follows the new time,
and a booking Kyphos cannot place is held or refused with the field to blame, never half made.

These tests call ``interop.hl7v2.inbound.receive`` (what the listener runs for each framed message) in-process on
the test database, so the case can be set up through the real services; the socket path is test_mllp.py's."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import next_business_monday, referral
from tests.interop.test_mllp import err, msa

NEW_YORK = ZoneInfo("America/New_York")


def siu(
    event: str,
    control_id: str,
    *,
    mrn: str,
    start: datetime,
    placer: str = "PL-1",
    filler: str = "FL-1",
    minutes: int = 90,
    room: str = "IR Suite 2",
    service: str = "22513^Kyphoplasty thoracic^C4",
    facility: str = "HOSP",
    reason: str = "",
) -> bytes:
    stamp = start.astimezone(NEW_YORK).strftime("%Y%m%d%H%M")
    return (
        f"MSH|^~\\&|CADENCE|RIVERSIDE|KYPHOS|HOSP|20261203101500||SIU^{event}|{control_id}|P|2.5.1\r"
        f"SCH|{placer}|{filler}||||{reason}|^Back pain||{minutes}|min\r"
        f"PID|1||{mrn}^^^HOSP^MR||Testwoman^Ada||19480314|F\r"
        "RGS|1\r"
        f"AIS|1||{service}|{stamp}|||{minutes}|min\r"
        f"AIL|1||^{room}^^{facility}\r"
    ).encode()


def receive(raw: bytes) -> bytes:
    from kyphos.interop.hl7v2.inbound import receive as take

    return take(raw, "127.0.0.1")


@pytest.fixture
def slot(site: Any) -> datetime:
    from kyphos import clock

    monday = next_business_monday(site.calendar(), clock.current().astimezone(NEW_YORK).date())
    return datetime.combine(monday + timedelta(days=28), time(10, 0), tzinfo=NEW_YORK)


def open_tasks(case: Any, kind: str) -> list[Any]:
    return list(case.tasks.filter(kind=kind, status="open"))


def test_a_new_booking_books_the_triaged_case_and_opens_the_call_in_its_window(
    make_case: Any, site: Any, slot: datetime
) -> None:
    from kyphos.interop.models import BookingLink, Hl7Message
    from kyphos.rules.windows import call_window

    case = make_case("triaged")
    ack = receive(siu("S12", "SIU-1", mrn=case.patient.mrn, start=slot))
    assert msa(ack)[1:4] == ["AA", "SIU-1", "Booked."]
    case.refresh_from_db()
    assert case.stage == "scheduled"
    assert (case.appointment.room.name, case.appointment.start, case.appointment.end) == (
        "IR Suite 2",
        slot,
        slot + timedelta(minutes=90),
    )
    (call,) = open_tasks(case, "precall")
    window = call_window(slot, site.calendar())
    assert (call.due_start, call.due_end) == (window.start, window.end)
    assert not open_tasks(case, "book")
    link = BookingLink.objects.get()
    assert (link.placer_id, link.filler_id, link.case_uuid) == ("PL-1", "FL-1", case.uuid)
    row = Hl7Message.objects.get(control_id="SIU-1")
    assert (row.status, row.case_uuid, row.patient_uuid) == ("processed", case.uuid, case.patient.uuid)
    assert case.events.filter(summary__startswith="Booked IR Suite 2").exists()


def test_a_reschedule_moves_the_booking_and_the_call_window_as_the_booking_screen_does(
    make_case: Any, site: Any, slot: datetime
) -> None:
    from kyphos.rules.windows import call_window
    from kyphos.scheduling.models import Appointment

    case = make_case("triaged")
    receive(siu("S12", "SIU-2", mrn=case.patient.mrn, start=slot))
    later = slot + timedelta(days=7, hours=1)
    ack = receive(siu("S13", "SIU-3", mrn=case.patient.mrn, start=later, room="IR Suite 1", reason="^Surgeon away"))
    assert msa(ack)[1:4] == ["AA", "SIU-3", "Rescheduled."]
    case.refresh_from_db()
    assert (case.stage, case.appointment.start, case.appointment.room.name) == ("scheduled", later, "IR Suite 1")
    old = Appointment.objects.get(case_uuid=case.uuid, start=slot)
    assert (old.status, old.status_reason) == ("rescheduled", "Surgeon away")
    (call,) = open_tasks(case, "precall")
    window = call_window(later, site.calendar())
    assert (call.due_start, call.due_end) == (window.start, window.end)
    assert case.tasks.filter(kind="precall", status="cancelled").count() == 1
    # The same booking sent again (S14, nothing changed) changes nothing.
    version = case.version
    again = receive(siu("S14", "SIU-4", mrn=case.patient.mrn, start=later, room="IR Suite 1"))
    assert msa(again)[3] == "Already booked as sent: nothing changes."
    case.refresh_from_db()
    assert case.version == version


def test_a_cancellation_releases_the_booking_and_a_no_show_is_kept_as_one(make_case: Any, slot: datetime) -> None:
    from kyphos.scheduling.models import Appointment

    first, second = make_case("triaged"), make_case("triaged")
    receive(siu("S12", "SIU-5", mrn=first.patient.mrn, start=slot, placer="A", filler="A"))
    receive(siu("S12", "SIU-6", mrn=second.patient.mrn, start=slot, placer="B", filler="B", room="IR Suite 1"))
    cancel = receive(siu("S15", "SIU-7", mrn=first.patient.mrn, start=slot, placer="A", filler="A", reason="^Ill"))
    assert msa(cancel)[1:4] == ["AA", "SIU-7", "Booking released; the case waits to be rebooked."]
    gone = receive(siu("S26", "SIU-8", mrn=second.patient.mrn, start=slot, placer="B", filler="B"))
    assert msa(gone)[3] == "No-show recorded; the case waits to be rebooked."
    for case, status in ((first, "cancelled"), (second, "no_show")):
        case.refresh_from_db()
        assert (case.stage, case.appointment) == ("postponed", None)
        assert Appointment.objects.get(case_uuid=case.uuid).status == status
        assert open_tasks(case, "rebook") and not open_tasks(case, "precall")
    assert first.end_reason == "booking_cancelled" and "Ill" in first.end_note
    assert second.end_reason == "no_show"


def test_other_services_are_ignored_and_change_nothing(make_case: Any, slot: datetime) -> None:
    from kyphos.interop.models import BookingLink, Hl7Message

    case = make_case("triaged")
    ack = receive(siu("S12", "SIU-9", mrn=case.patient.mrn, start=slot, service="72148^MRI lumbar^C4"))
    assert msa(ack)[1:4] == ["AA", "SIU-9", "Not a kyphoplasty service at this site: ignored."]
    case.refresh_from_db()
    assert case.stage == "triaged" and not BookingLink.objects.exists()
    assert Hl7Message.objects.get(control_id="SIU-9").status == "not_applicable"


def test_a_site_names_its_own_kyphoplasty_services(make_case: Any, site: Any, slot: datetime) -> None:
    from kyphos.interop.models import SiteInterface

    SiteInterface.objects.create(site=site, kyphoplasty_services="KYPHO-T, KYPHO-L", facilities="RIVERSIDE")
    case = make_case("triaged")
    ack = receive(siu("S12", "SIU-10", mrn=case.patient.mrn, start=slot, service="KYPHO-L^Kypho", facility=""))
    assert msa(ack)[3] == "Booked."
    ignored = receive(siu("S12", "SIU-11", mrn="H1", start=slot, service="22513", placer="X", filler="X"))
    assert msa(ignored)[3] == "Not a kyphoplasty service at this site: ignored."


def test_a_booking_with_no_open_case_is_held_then_replayed_once_the_case_is_triaged(
    site: Any, actors: dict[str, Any], slot: datetime
) -> None:
    from kyphos.interop.hl7v2.inbound import replay
    from kyphos.interop.models import Hl7Message
    from kyphos.pathway import services
    from kyphos.patients.models import Patient

    ack = receive(siu("S12", "SIU-12", mrn="H555001", start=slot))
    assert msa(ack)[1:3] == ["AA", "SIU-12"]
    assert "Held for review" in msa(ack)[3]
    row = Hl7Message.objects.get(control_id="SIU-12")
    patient = Patient.objects.get(mrn="H555001")  # registered from PID, as ADT would
    assert (row.status, row.patient_uuid, row.case_uuid) == ("held", patient.uuid, None)
    assert not patient.cases.exists()  # no referral is invented from a booking
    case = services.refer_case(actors["scheduler"], patient, site, referral())
    replay(row)
    row.refresh_from_db()
    assert (row.status, row.case_uuid) == ("held", case.uuid)  # still awaiting triage
    case = services.triage_case(actors["radiologist"], case, version=case.version, reason="ok", override_reason="ok")
    replay(row)
    row.refresh_from_db()
    case.refresh_from_db()
    assert (row.status, row.note, case.stage, case.appointment.start) == ("processed", "Booked.", "scheduled", slot)


def test_a_cancellation_withdraws_a_held_booking(site: Any, slot: datetime) -> None:
    from kyphos.errors import Refused
    from kyphos.interop.hl7v2.inbound import replay
    from kyphos.interop.models import Hl7Message

    receive(siu("S12", "SIU-13", mrn="H555002", start=slot))
    ack = receive(siu("S15", "SIU-14", mrn="H555002", start=slot))
    assert msa(ack)[3] == "The held booking is withdrawn."
    row = Hl7Message.objects.get(control_id="SIU-13")
    assert row.status == "not_applicable"
    with pytest.raises(Refused):
        replay(row)


@pytest.mark.parametrize(
    "change,place,reason",
    [
        ({"room": "Broom cupboard"}, "AIL^1^3", "no room named"),
        ({"facility": "NOWHERE"}, "AIL^1^3", "site is not known"),
        ({"start": datetime(2020, 1, 6, 9, tzinfo=NEW_YORK)}, "AIS^1^4", "in the past"),
        ({"minutes": 5}, "AIS^1^7", "between 10 and"),
        ({"placer": "", "filler": ""}, "SCH^1^2", "no appointment ID"),
    ],
)
def test_a_booking_kyphos_cannot_place_is_refused_with_the_field_and_changes_nothing(
    make_case: Any, other_site: Any, slot: datetime, change: dict[str, Any], place: str, reason: str
) -> None:
    from kyphos.interop.models import BookingLink, Hl7Message

    case = make_case("triaged")
    values: dict[str, Any] = {"mrn": case.patient.mrn, "start": slot, **change}
    ack = receive(siu("S12", "SIU-BAD", **values))
    assert msa(ack)[1] == "AE"
    location, text = err(ack)
    assert location == place and reason in text
    case.refresh_from_db()
    assert case.stage == "triaged" and not BookingLink.objects.exists()
    assert Hl7Message.objects.get(control_id="SIU-BAD").status == "error"


def test_an_appointment_id_of_another_patients_case_is_refused(make_case: Any, slot: datetime) -> None:
    first, second = make_case("triaged"), make_case("triaged")
    receive(siu("S12", "SIU-15", mrn=first.patient.mrn, start=slot))
    ack = receive(siu("S13", "SIU-16", mrn=second.patient.mrn, start=slot + timedelta(days=1)))
    assert msa(ack)[1] == "AE" and err(ack) == ("PID^1^3", "This appointment ID belongs to another patient's case.")
    first.refresh_from_db()
    assert first.appointment.start == slot


def test_the_worker_books_a_held_booking_once_the_case_is_triaged(
    site: Any, actors: dict[str, Any], slot: datetime
) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.interop.hl7v2.inbound import replay_held
    from kyphos.interop.models import Hl7Message
    from kyphos.pathway import services
    from kyphos.patients.models import Patient

    receive(siu("S12", "SIU-17", mrn="H555003", start=slot))
    assert replay_held() == 0  # no case yet: left alone
    patient = Patient.objects.get(mrn="H555003")
    case = services.refer_case(actors["scheduler"], patient, site, referral())
    assert replay_held() == 0  # awaiting triage: still left alone
    assert Hl7Message.objects.get(control_id="SIU-17").status == "held"
    services.triage_case(actors["radiologist"], case, version=case.version, reason="ok", override_reason="ok")
    assert replay_held() == 1
    case.refresh_from_db()
    assert case.stage == "scheduled" and case.appointment.start == slot
    assert AuditEntry.objects.filter(detail="replayed automatically", patient_uuid=patient.uuid).exists()
