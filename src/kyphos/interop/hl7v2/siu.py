"""SIU from the hospital's scheduling system: the procedure's booking, through the pathway's own services.

HL7 v2.5.1 chapter 10. The booking is named by SCH-1 (placer appointment ID) and SCH-2 (filler appointment ID),
kept in ``BookingLink`` so later messages find the case. Only services the site lists as kyphoplasty (AIS-3) are
taken; other bookings are acknowledged as not applicable. The room is AIL-3 (point of care or room, with the
facility naming the site), the start AIS-4 (else SCH-11's start), the length AIS-7 / AIS-8 (else SCH-9 / SCH-10,
else the site's usual length).

- S12 (new), S13 (reschedule), S14 (modify): the case is booked (``book_case``) or moved (``reschedule_case``)
  exactly as the booking screen does it: the call task and its window follow the new time. A booking outside the
  site's hours or too close for the call is the hospital's fact: it is made, with its warnings on the timeline.
- S15 (cancel), S17 (delete): the booking is released (``postpone_case``, reason "cancelled in the hospital's
  scheduling system"); the scheduler's rebook task opens. The case itself is not cancelled: that is a clinical
  decision.
- S26 (no-show): the booking is kept as a no-show and the case waits to be rebooked.

A booking for a patient with no open case, or whose case still awaits triage, is **held for review** (AA): SIU
carries none of what triage needs (the levels, how old each fracture is, the pain, the cause), and Kyphos does not
invent them. Once the referral is entered and triaged, the held message is replayed from the integration page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import hl7
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from kyphos.errors import InvalidInput
from kyphos.interop.hl7v2.adt import actor_of, find_patient, patient_from_pid
from kyphos.interop.hl7v2.fields import has_segment, value
from kyphos.interop.hl7v2.inbound import HANDLERS, Outcome
from kyphos.interop.hl7v2.reading import Header
from kyphos.interop.hl7v2.sites import hl7_moment, interface_of, site_named
from kyphos.interop.models import BookingLink, Hl7Message
from kyphos.pathway import services as pathway
from kyphos.pathway.models import Case
from kyphos.pathway.stages import TERMINAL, PostponeReason, Stage
from kyphos.scheduling.models import Room, Site

EVENTS = {"S12": "book", "S13": "book", "S14": "book", "S15": "cancel", "S17": "cancel", "S26": "no_show"}
# Where a refused value came from, for the ERR segment.
PLACE = {"start": "AIS^1^4", "room": "AIL^1^3", "duration": "AIS^1^7", "reason": "SCH^1^6"}
UNITS = {"": 1, "MIN": 1, "M": 1, "MINUTE": 1, "MINUTES": 1, "S": 1 / 60, "SEC": 1 / 60, "H": 60, "HR": 60, "HOUR": 60}


@dataclass(frozen=True)
class Slot:
    room: Room
    start: datetime
    minutes: int

    def as_json(self) -> dict[str, object]:
        return {"room": self.room.name, "start": self.start.isoformat(), "minutes": self.minutes}


def _ids(message: hl7.Message) -> tuple[str, str]:
    placer, filler = value(message, "SCH", 1)[:120], value(message, "SCH", 2)[:120]
    if not placer and not filler:
        raise InvalidInput("SCH-1 / SCH-2: the booking has no appointment ID.", field="SCH^1^2")
    return placer, filler


def _link(app: str, placer: str, filler: str) -> BookingLink | None:
    wanted = Q()
    if filler:
        wanted |= Q(filler_id=filler)
    if placer:
        wanted |= Q(placer_id=placer)
    return BookingLink.objects.select_for_update(no_key=True).filter(wanted, sending_application=app).first()


def _site(header: Header, message: hl7.Message) -> Site:
    site = site_named(value(message, "AIL", 3, 1, 4), header.sending_facility)
    if site is None:
        raise InvalidInput(
            "The booking's site is not known: name the facility (AIL-3.4 or MSH-4) in a site's HL7 settings.",
            field="AIL^1^3",
        )
    return site


def _minutes(amount: str, units: str, field: str) -> int | None:
    if not amount:
        return None
    factor = UNITS.get(units.upper())
    try:
        number = Decimal(amount)
    except InvalidOperation:
        number = None
    if factor is None or number is None:
        raise InvalidInput(f"{field}: the length “{amount} {units}” is not in minutes or hours.", field=field)
    return int(number * Decimal(str(factor)))


def _slot(message: hl7.Message, site: Site) -> Slot:
    room_name = value(message, "AIL", 3, 1, 2) or value(message, "AIL", 3, 1, 1)
    room = Room.objects.filter(site=site, name__iexact=room_name).first() if room_name else None
    if room is None:
        raise InvalidInput(f"AIL-3: {site.code} has no room named “{room_name}”.", field="AIL^1^3")
    start_text = value(message, "AIS", 4) or value(message, "SCH", 11, 1, 4) or value(message, "TQ1", 7)
    start = hl7_moment(start_text, site.zone) if start_text else None
    if start is None:
        raise InvalidInput("AIS-4: the start is missing or not a real time (YYYYMMDDHHMM).", field="AIS^1^4")
    minutes = _minutes(value(message, "AIS", 7), value(message, "AIS", 8), "AIS^1^7")
    if minutes is None:
        minutes = _minutes(value(message, "SCH", 9), value(message, "SCH", 10), "SCH^1^9")
    return Slot(room, start, minutes or site.default_procedure_minutes)


def _refusal(exc: ValidationError) -> InvalidInput:
    if hasattr(exc, "error_dict"):
        name, messages = next(iter(exc.message_dict.items()))
        return InvalidInput(f"{name}: {' '.join(messages)}", field=PLACE.get(name, "SCH^1"))
    return InvalidInput(" ".join(exc.messages), field="SCH^1")


def _open_case(patient_id: int, site: Site) -> Case | None:
    return (
        Case.objects.filter(patient_id=patient_id, site=site)
        .exclude(stage__in=TERMINAL)
        .select_related("appointment__room", "patient", "site")
        .order_by("-created_at")
        .first()
    )


def handle(header: Header, message: hl7.Message) -> Outcome:
    action = EVENTS.get(header.event)
    if action is None:
        return Outcome(
            Hl7Message.Status.NOT_APPLICABLE, f"SIU^{header.event} is recorded; Kyphos does nothing with it."
        )
    placer, filler = _ids(message)
    site = _site(header, message)
    interface = interface_of(site)
    if interface.scheduler_of_record:
        return Outcome(
            Hl7Message.Status.NOT_APPLICABLE, f"Kyphos is the scheduling system of record for {site.code}: ignored."
        )
    if has_segment(message, "AIS"):
        service = {value(message, "AIS", 3).upper(), value(message, "AIS", 3, 1, 2).upper()} - {""}
        if not service & interface.services():
            return Outcome(Hl7Message.Status.NOT_APPLICABLE, "Not a kyphoplasty service at this site: ignored.")
    app = header.sending_application[:180] or "?"
    link = _link(app, placer, filler)
    if action == "book":
        return _book(header, message, site, link, placer, filler)
    if link is None or link.case_uuid is None:
        if link is not None:
            _withdraw_held(link)
            return Outcome(Hl7Message.Status.PROCESSED, "The held booking is withdrawn.")
        return Outcome(Hl7Message.Status.PROCESSED, "No booking is known under this appointment ID: nothing to do.")
    case = Case.objects.select_related("appointment", "patient").get(uuid=link.case_uuid)
    _same_patient(message, case)
    actor = actor_of(header)
    reason_text = value(message, "SCH", 6, 1, 2) or value(message, "SCH", 6)
    if action == "cancel":
        if case.stage not in {Stage.SCHEDULED, Stage.PRECALL_DONE, Stage.ADMITTED, Stage.CLEARED}:
            return _done(case, "The case holds no booking: nothing to cancel.")
        note = f"{app}: {reason_text}" if reason_text else app
        _call(pathway.postpone_case, actor, case, version=None, reason=PostponeReason.BOOKING_CANCELLED, note=note)
        return _done(case, "Booking released; the case waits to be rebooked.")
    if case.stage in {Stage.ADMITTED, Stage.CLEARED}:
        raise InvalidInput("The patient was admitted: a no-show cannot be recorded.", field="SCH^1^25")
    if case.stage not in {Stage.SCHEDULED, Stage.PRECALL_DONE}:
        return _done(case, "The case holds no booking: nothing to record.")
    _call(pathway.postpone_case, actor, case, version=None, reason=PostponeReason.NO_SHOW, note=app)
    return _done(case, "No-show recorded; the case waits to be rebooked.")


def _book(
    header: Header, message: hl7.Message, site: Site, link: BookingLink | None, placer: str, filler: str
) -> Outcome:
    patient, _text = patient_from_pid(header, message)
    slot = _slot(message, site)
    case: Case | None
    if link is not None and link.case_uuid is not None:
        case = Case.objects.select_related("appointment__room", "patient", "site").get(uuid=link.case_uuid)
        _same_patient(message, case)
    else:
        case = _open_case(patient.pk, site)
    requested = {**slot.as_json(), "control_id": header.control_id}
    link = _keep_link(header, link, site, placer, filler, case, requested)
    actor = actor_of(header)
    app = header.sending_application or "?"
    if case is None:
        return Outcome(
            Hl7Message.Status.HELD,
            "Held for review: the patient has no open case here. Enter the referral; replay once it is triaged.",
            patient_uuid=patient.uuid,
        )
    if case.stage == Stage.REFERRED:
        return _done(
            case, "Held for review: the case awaits triage. Replay once it is triaged.", Hl7Message.Status.HELD
        )
    override = f"Booked in the hospital's scheduling system ({app})."
    if case.stage in {Stage.TRIAGED, Stage.POSTPONED}:
        _call(
            pathway.book_case,
            actor,
            case,
            version=None,
            room=slot.room,
            start=slot.start,
            minutes=slot.minutes,
            override_reason=override,
        )
        return _done(case, "Booked.")
    if case.stage in {Stage.SCHEDULED, Stage.PRECALL_DONE}:
        current = case.appointment
        assert current is not None
        if (current.room_id, current.start, int(current.duration.total_seconds() // 60)) == (
            slot.room.pk,
            slot.start,
            slot.minutes,
        ):
            return _done(case, "Already booked as sent: nothing changes.")
        reason = value(message, "SCH", 6, 1, 2) or value(message, "SCH", 6) or f"moved in {app}"
        _call(
            pathway.reschedule_case,
            actor,
            case,
            version=None,
            room=slot.room,
            start=slot.start,
            minutes=slot.minutes,
            reason=reason,
            override_reason=override,
        )
        return _done(case, "Rescheduled.")
    raise InvalidInput(
        f"The case is {Stage(case.stage).label.lower()}: its booking can no longer move.", field="SCH^1^11"
    )


def _keep_link(
    header: Header,
    link: BookingLink | None,
    site: Site,
    placer: str,
    filler: str,
    case: Case | None,
    requested: dict[str, object],
) -> BookingLink:
    now = timezone.now()
    if link is None:
        link = BookingLink.objects.create(
            sending_application=header.sending_application[:180] or "?",
            placer_id=placer,
            filler_id=filler,
            site=site,
            case_uuid=case.uuid if case else None,
            requested=requested,
            updated_at=now,
        )
        return link
    link.placer_id, link.filler_id = link.placer_id or placer, link.filler_id or filler
    link.case_uuid = link.case_uuid or (case.uuid if case else None)
    link.requested, link.updated_at = requested, now
    link.save()
    return link


def _withdraw_held(link: BookingLink) -> None:
    """A cancellation of a booking that was only held: the held message must not book it when replayed."""
    control_id = str(link.requested.get("control_id", ""))
    if control_id:
        Hl7Message.objects.filter(
            direction=Hl7Message.Direction.INBOUND,
            sending_application=link.sending_application,
            control_id=control_id,
            status=Hl7Message.Status.HELD,
        ).update(
            status=Hl7Message.Status.NOT_APPLICABLE, error="Withdrawn: the booking was cancelled before it was made."
        )
    link.requested = {"withdrawn": True}
    link.updated_at = timezone.now()
    link.save(update_fields=["requested", "updated_at"])


def _same_patient(message: hl7.Message, case: Case) -> None:
    sent = find_patient(message) if has_segment(message, "PID") else None
    if sent is not None and sent.pk != case.patient_id:
        raise InvalidInput("This appointment ID belongs to another patient's case.", field="PID^1^3")


def _call(service: object, *args: object, **kwargs: object) -> None:
    try:
        service(*args, **kwargs)  # type: ignore[operator]
    except ValidationError as exc:
        raise _refusal(exc) from None


def _done(case: Case, text: str, status: str = Hl7Message.Status.PROCESSED) -> Outcome:
    return Outcome(status, text, patient_uuid=case.patient.uuid, case_uuid=case.uuid)


HANDLERS["SIU"] = handle
