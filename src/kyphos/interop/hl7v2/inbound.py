"""Taking one inbound HL7 v2 message: store it, act on it, store the ACK, commit; only then is the ACK returned.

``receive(raw, peer)`` is what the MLLP listener calls for each framed message (in a worker thread: the ORM is
synchronous). It never raises: whatever happens, the sender gets an ACK (AR for what cannot be read, AE for an
error the sender can fix, AA otherwise) and the message is kept with its outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import hl7
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import KyphosError, Refused
from kyphos.interop.hl7v2 import acks
from kyphos.interop.hl7v2.reading import Header, Unreadable, read
from kyphos.interop.hl7v2.sites import interface_of, site_named
from kyphos.interop.models import Hl7Message
from kyphos.pathway.models import Case
from kyphos.pathway.stages import TERMINAL, Stage

log = logging.getLogger("kyphos.hl7")


@dataclass
class Outcome:
    """What a handler did with a message."""

    status: str = Hl7Message.Status.PROCESSED
    text: str = ""
    patient_uuid: UUID | None = None
    case_uuid: UUID | None = None
    error: acks.ErrorAt | None = field(default=None)


class Race(Exception):  # noqa: N818
    """Another message created the same record meanwhile: process this one again (it will now see it)."""


Handler = Callable[[Header, hl7.Message], Outcome]
# Message type ("ADT^A01") or code ("ORU") → handler; the rooms' adapters register here (interop.hl7v2.handlers).
HANDLERS: dict[str, Handler] = {}


def handler_for(header: Header) -> Handler | None:
    return HANDLERS.get(header.message_type) or HANDLERS.get(header.code)


def _ack_for(
    row: Hl7Message,
    received: dict[str, str],
    code: str,
    text: str,
    error: acks.ErrorAt | None,
    enhanced: bool,
    codec: str,
) -> bytes:
    return acks.build(
        code=code,
        control_id=received.get("control_id", ""),
        received=received,
        our_control_id=f"KY{row.pk}",
        text=text,
        error=error,
        enhanced=enhanced,
        codec=codec,
    )


def reject(raw: bytes, peer: str, problem: Unreadable) -> bytes:
    received = problem.partial
    with transaction.atomic():
        row = Hl7Message.objects.create(
            direction=Hl7Message.Direction.INBOUND,
            at=clock.current(),
            peer=peer,
            raw=raw,
            status=Hl7Message.Status.REJECTED,
            ack_code="AR",
            error=problem.reason[:300],
            error_location=problem.location,
            **{k: received.get(k, "")[:180] for k in ("sending_application", "sending_facility")},
            control_id="",  # not trusted: an unreadable message is never a duplicate of another
            message_type=received.get("message_type", "")[:30],
            version=received.get("version", "")[:12],
        )
        error = acks.ErrorAt(problem.reason, problem.location, problem.code)
        row.ack = _ack_for(row, received, "AR", problem.reason, error, False, "utf-8")
        row.save(update_fields=["ack"])
    return bytes(row.ack)


def _stored_ack(header: Header) -> bytes | None:
    if not header.control_id:
        return None
    found = (
        Hl7Message.objects.filter(
            direction=Hl7Message.Direction.INBOUND,
            sending_application=header.sending_application[:180],
            sending_facility=header.sending_facility[:180],
            control_id=header.control_id[:199],
        )
        .order_by()
        .values_list("pk", "ack")[:1]
    )
    if not found:
        return None
    pk, ack = found[0]
    Hl7Message.objects.filter(pk=pk).update(repeats=F("repeats") + 1)
    return bytes(ack)


def _act(header: Header, message: hl7.Message) -> Outcome:
    handle = handler_for(header)
    if handle is None:
        site = site_named(header.sending_facility)
        answer = (interface_of(site).unhandled if site is not None else "") or settings.KYPHOS_HL7_UNHANDLED
        if answer == "reject":
            return Outcome(
                Hl7Message.Status.REJECTED,
                f"{header.message_type} is not a message Kyphos handles.",
                error=acks.ErrorAt(f"{header.message_type} is not a message Kyphos handles.", "MSH^1^9", "200"),
            )
        return Outcome(Hl7Message.Status.NOT_APPLICABLE, "Not applicable: recorded, nothing to do in Kyphos.")
    try:
        with transaction.atomic():  # a refusal undoes whatever the handler had begun
            return handle(header, message)
    except KyphosError as exc:
        reason = str(exc.message)
        return Outcome(Hl7Message.Status.ERROR, reason, error=acks.ErrorAt(reason, getattr(exc, "field", None) or ""))


def _outcome(row_id: int, header: Header, message: hl7.Message) -> Outcome:
    try:
        return _act(header, message)
    except (IntegrityError, Race):
        raise  # a race with another message for the same record: receive() processes it again
    except Exception:  # noqa: BLE001 - never a crash: an AE the interface team can see and replay
        log.exception("HL7 message %s: handler failed", row_id)  # the row's number only: no patient data
        return Outcome(
            Hl7Message.Status.ERROR,
            "Kyphos could not process this message; it is kept for the interface team to replay.",
            error=acks.ErrorAt("internal error", "", "207"),
        )


def receive(raw: bytes, peer: str = "") -> bytes:
    """Store, act, store the ACK, commit; return the ACK's bytes (without the MLLP frame)."""
    try:
        header, message = read(raw)
    except Unreadable as problem:
        return reject(raw, peer, problem)
    # A repeat is found by its insert failing on the unique (sender, control id): no query before each new message.
    received = {
        "field_separator": header.field_separator,
        "encoding_characters": header.encoding_characters,
        "sending_application": header.sending_application,
        "sending_facility": header.sending_facility,
        "message_type": header.message_type,
        "control_id": header.control_id,
        "processing_id": header.processing_id,
        "version": header.version,
    }
    for attempt in range(3):
        try:
            return _process(raw, peer, header, message, received)
        except (IntegrityError, Race):
            # The same message on another connection committed first: answer as it was answered. Otherwise a
            # concurrent message won a race for the same record (two registrations of one MRN): process again,
            # now seeing what the other committed.
            stored = _stored_ack(header)
            if stored is not None:
                return stored
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _process(raw: bytes, peer: str, header: Header, message: hl7.Message, received: dict[str, str]) -> bytes:
    with transaction.atomic():
        row = Hl7Message.objects.create(
            direction=Hl7Message.Direction.INBOUND,
            at=clock.current(),
            peer=peer,
            sending_application=header.sending_application[:180],
            sending_facility=header.sending_facility[:180],
            receiving_application=header.receiving_application[:180],
            receiving_facility=header.receiving_facility[:180],
            control_id=header.control_id[:199],
            message_type=header.message_type[:30],
            version=header.version[:12],
            raw=raw,
            status=Hl7Message.Status.PROCESSED,
        )
        outcome = _outcome(row.pk, header, message)
        code = {"error": "AE", "rejected": "AR"}.get(str(outcome.status), "AA")  # held: accepted, kept for review
        row.status, row.ack_code = outcome.status, code
        row.error = outcome.error.reason[:300] if outcome.error else ""
        row.note = outcome.text[:300]
        row.error_location = outcome.error.location[:40] if outcome.error else ""
        row.patient_uuid, row.case_uuid = outcome.patient_uuid, outcome.case_uuid
        row.ack = _ack_for(row, received, code, outcome.text, outcome.error, header.enhanced, header.codec)
        row.save(
            update_fields=["status", "ack_code", "error", "error_location", "note", "patient_uuid", "case_uuid", "ack"]
        )
    return bytes(row.ack)


def replay(row: Hl7Message) -> Hl7Message:
    """Process a stored message again once the cause of its error is fixed (a patient registered, a code mapped):
    the same path as on arrival, in one transaction. The ACK already sent stays what the sender got; the row's
    status, error and links show the new outcome. Only a message that ended in an error (AE) or was held for review
    is replayed."""
    again = {Hl7Message.Status.ERROR, Hl7Message.Status.HELD}
    if row.direction != Hl7Message.Direction.INBOUND or row.status not in again:
        raise Refused(_("Only a received message that ended in an error (AE) or was held for review can be replayed."))
    header, message = read(bytes(row.raw))
    with transaction.atomic():
        locked = Hl7Message.objects.select_for_update(no_key=True).get(pk=row.pk)
        if locked.status not in again:
            raise Refused(_("Someone replayed this message meanwhile."))
        outcome = _outcome(locked.pk, header, message)
        locked.status = outcome.status
        locked.error = outcome.error.reason[:300] if outcome.error else ""
        locked.error_location = outcome.error.location[:40] if outcome.error else ""
        locked.note = outcome.text[:300]
        locked.patient_uuid, locked.case_uuid = outcome.patient_uuid, outcome.case_uuid
        locked.save(update_fields=["status", "error", "error_location", "note", "patient_uuid", "case_uuid"])
    return locked


def replay_held(limit: int = 200) -> int:
    """The worker's job: replay the held messages whose cause may be gone, a patient who now has a case to file a
    result on or a triaged case to book. Returns how many were filed or booked. A message that is still held stays
    as it is; the ones whose patient has no fitting case are not touched (no churn every minute)."""
    done = 0
    open_cases = Case.objects.filter(patient__uuid=OuterRef("patient_uuid")).exclude(stage__in=TERMINAL)
    ready = (
        Hl7Message.objects.filter(
            direction=Hl7Message.Direction.INBOUND, status=Hl7Message.Status.HELD, patient_uuid__isnull=False
        )
        .filter(
            # A result needs an open case; a booking a case past triage. One query for them all.
            (~Q(message_type__startswith="SIU") & Exists(open_cases))
            | (Q(message_type__startswith="SIU") & Exists(open_cases.exclude(stage=Stage.REFERRED)))
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )
    for pk in list(ready[:limit]):
        try:
            replayed = replay(Hl7Message.objects.get(pk=pk))
        except Refused:
            continue
        audit.record(
            Actor.system("HL7 replay of held messages"),
            AuditAction.UPDATE,
            "hl7_message",
            pk,
            patient_uuid=replayed.patient_uuid,
            detail="replayed automatically",
        )
        done += replayed.status == Hl7Message.Status.PROCESSED
    return done
