"""Sending HL7 v2 to the hospital: the signed note to the EHR, the charges to billing, bookings when Kyphos is the
scheduling system of record. Each outgoing message is a row of ``Hl7Message`` (direction out): the queue, the
record of what was sent and the ACK that came back, all at once.

- **What to send** is found, not pushed: ``enqueue_due`` looks for signed notes, coded procedures and booking
  changes that a destination has not been given yet (one row per destination and source, by a unique constraint),
  so a change committed by any process is sent even if the process that made it died a moment later.
- **In order per destination**: only a destination's oldest unsent message may be claimed, and not while another
  worker holds it; on PostgreSQL the destination row is locked with SKIP LOCKED, so two workers never send the same
  and never overtake each other. A claim is a lease (``KYPHOS_OUTBOX_LEASE_SECONDS``): a worker killed mid-send
  leaves the row to be sent again (the receiver recognises the repeat by its MSH-10).
- **No ACK** (refused connection, timeout, a dropped connection, an answer that is not the ACK of this message) is
  retried with a growing wait, up to ``KYPHOS_HL7_SEND_ATTEMPTS``; an **AE / AR** is the receiver's refusal: the
  message is set aside as not sent, shown on the integration page with the reason, and the queue moves on. Resend
  puts it back at the head of its destination's queue.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import Refused
from kyphos.interop.hl7v2.acks import escape
from kyphos.interop.hl7v2.fields import has_segment, value
from kyphos.interop.hl7v2.reading import Unreadable, read
from kyphos.interop.hl7v2.sites import interface_of
from kyphos.interop.models import Hl7Destination, Hl7Message
from kyphos.pathway import kernel
from kyphos.pathway.models import Case
from kyphos.procedure.models import ProcedureNote, ProcedureRecord
from kyphos.scheduling.models import Appointment, AppointmentStatus

log = logging.getLogger("kyphos.hl7")
START, END = b"\x0b", b"\x1c\r"
OUT = Hl7Message.Direction.OUTBOUND
UNSENT = (Hl7Message.Status.PENDING,)


# --- building the messages ----------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(str(text or ""))


def _msh(destination: Hl7Destination, message_type: str, control_id: str, now: datetime) -> str:
    return "|".join(
        [
            "MSH",
            "^~\\&",
            _e(destination.sending_application),
            _e(destination.sending_facility or destination.site.code),
            _e(destination.receiving_application),
            _e(destination.receiving_facility),
            now.strftime("%Y%m%d%H%M%S+0000"),
            "",
            message_type,
            control_id,
            "P",
            "2.5.1",
            "",
            "",
            "AL",  # MSH-15: the receiver commits before it answers
            "NE",
            "",
            "UNICODE UTF-8",
        ]
    )


def _pid(case: Case) -> str:
    p = case.patient
    return "|".join(
        [
            "PID",
            "1",
            "",
            f"{_e(p.mrn)}^^^{_e(p.assigning_authority)}^MR",
            "",
            f"{_e(p.family_name)}^{_e(p.given_name)}",
            "",
            p.date_of_birth.strftime("%Y%m%d"),
            _e(p.sex),
        ]
    )


def _pv1(case: Case) -> str:
    room = case.appointment.room.name if case.appointment is not None else ""
    return f"PV1|1|O|{_e(case.site.code)}^{_e(room)}^^{_e(case.site.code)}|||||||||||||||||{case.uuid}"


def _ts(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000") if moment else ""


def _segment(name: str, fields: dict[int, str]) -> str:
    """A segment from its fields by number (the values already escaped)."""
    return "|".join([name, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def _note_lines(note: ProcedureNote) -> list[str]:
    lines: list[str] = []
    for section in note.sections:
        for line in str(section.get("text", "")).splitlines() or [""]:
            lines.append(line)
        lines.append("")
    return lines


def note_message(destination: Hl7Destination, note: ProcedureNote, control_id: str, now: datetime) -> str:
    """MDM^T02 (HL7 v2.5.1 9.6.2: original document notification and content) or ORU^R01 with the report: the
    note's text, one OBX per line (TX), and the signed PDF (ED, Base64)."""
    case = note.case
    pdf = base64.b64encode(bytes(note.pdf)).decode("ascii")
    text = [f"OBX|{n}|TX|PROCNOTE^Procedure note^L||{_e(line)}||||||F" for n, line in enumerate(_note_lines(note), 1)]
    text.append(f"OBX|{len(text) + 1}|ED|PDF^Procedure note PDF^L||^application^pdf^Base64^{pdf}||||||F")
    if destination.note_as == Hl7Destination.NoteAs.ORU:
        segments = [
            _msh(destination, "ORU^R01^ORU_R01", control_id, now),
            _pid(case),
            _pv1(case),
            _segment(
                "OBR",
                {
                    1: "1",
                    2: str(case.uuid),
                    3: f"NOTE-{note.pk}",
                    4: "PROCNOTE^Kyphoplasty procedure note^L",
                    7: _ts(note.signed_at),
                    22: _ts(note.signed_at),
                    25: "F",
                },
            ),
            *text,
        ]
    else:
        segments = [
            _msh(destination, "MDM^T02^MDM_T02", control_id, now),
            f"EVN|T02|{_ts(now)}",
            _pid(case),
            _pv1(case),
            f"TXA|1|PN^Procedure note^HL70270|TX|{_ts(note.signed_at)}|||{_ts(note.signed_at)}|||||"
            f"NOTE-{note.pk}|||||AU||AV||||{_e(note.signed_name)}",
            *text,
        ]
    return "\r".join(segments) + "\r"


def charge_message(destination: Hl7Destination, record: ProcedureRecord, control_id: str, now: datetime) -> str:
    """DFT^P03 (HL7 v2.5.1 6.4.3: post detail financial transaction): one FT1 per CPT code (add-on codes repeated
    as coded, quantity 1 each), the ICD-10-CM diagnoses in FT1-19 and as DG1 segments."""
    case = record.case
    coding = record.coding or {}
    diagnoses = [str(c) for c in coding.get("icd10cm", [])]
    labels = [str(c) for c in coding.get("cpt_labels", [])]
    diagnosis_field = "~".join(f"{_e(c)}^^I10" for c in diagnoses)
    segments = [_msh(destination, "DFT^P03^DFT_P03", control_id, now), f"EVN|P03|{_ts(now)}", _pid(case), _pv1(case)]
    for n, cpt in enumerate(coding.get("cpt", []), 1):
        label = labels[n - 1] if n - 1 < len(labels) else ""
        segments.append(
            f"FT1|{n}|||{_ts(record.ended_at)}|{_ts(now)}|CG|{_e(cpt)}^{_e(label)}^C4||||1||||||||{diagnosis_field}"
            f"||||||{_e(cpt)}^{_e(label)}^C4"
        )
    for n, code in enumerate(diagnoses, 1):
        segments.append(f"DG1|{n}||{_e(code)}^^I10||||F")
    return "\r".join(segments) + "\r"


SIU_EVENTS = {"new": "S12", "moved": "S13", "cancelled": "S15", "no_show": "S26"}


def booking_message(
    destination: Hl7Destination, appointment: Appointment, case: Case, event: str, control_id: str, now: datetime
) -> str:
    """SIU^S12 / S13 / S15 / S26 (HL7 v2.5.1 10.4) for a booking Kyphos made as the scheduling system of record."""
    code = SIU_EVENTS[event]
    minutes = int(appointment.duration.total_seconds() // 60)
    start = _ts(appointment.start)
    filler = str(appointment.replaces.uuid if event == "moved" and appointment.replaces else appointment.uuid)
    return (
        "\r".join(
            [
                _msh(destination, f"SIU^{code}^SIU_S12", control_id, now),
                f"SCH|{case.uuid}|{filler}||||{_e(appointment.status_reason)}|^Kyphoplasty||{minutes}|min|^^^{start}",
                _pid(case),
                "RGS|1",
                f"AIS|1||22513^Vertebral augmentation^C4|{start}|||{minutes}|min",
                f"AIL|1||^{_e(appointment.room.name)}^^{_e(case.site.code)}",
            ]
        )
        + "\r"
    )


# --- finding what to send ------------------------------------------------------------------------------------------


# A change committed up to this long after its own time stamp is still found (a long transaction, clocks apart).
LOOKBACK = timedelta(hours=1)


def enqueue_due(now: datetime | None = None) -> int:
    """Queue, for every active destination, what it has not been given yet. Returns how many rows were added."""
    now = now or clock.current()
    added = 0
    for destination in Hl7Destination.objects.filter(active=True).select_related("site"):
        since = max(destination.created_at, (destination.scanned_to or destination.created_at) - LOOKBACK)
        for source, case, build in _due(destination, since):
            added += _queue(destination, source, case, build, now)
        Hl7Destination.objects.filter(pk=destination.pk).update(scanned_to=now)
    return added


def _due(destination: Hl7Destination, since: datetime) -> Iterable[tuple[str, Case, Any]]:
    """What happened at the destination's site since ``since`` that it has not been given (sources queued since then:
    a source is queued after its own time, so the ones before ``since`` cannot matter)."""
    site = destination.site
    given = set(
        Hl7Message.objects.filter(direction=OUT, destination=destination, at__gte=since).values_list(
            "source", flat=True
        )
    )
    if destination.sends_notes:
        notes = (
            ProcedureNote.objects.filter(case__site=site, signed_at__gte=since)
            .select_related("case__patient", "case__site", "case__appointment__room")
            .order_by("signed_at", "pk")
        )
        for note in notes:
            if f"note:{note.pk}" not in given:
                yield f"note:{note.pk}", note.case, lambda c, now, n=note: note_message(destination, n, c, now)
    if destination.sends_charges:
        records = (
            ProcedureRecord.objects.filter(case__site=site, ended_at__gte=since)
            .exclude(coding={})
            .select_related("case__patient", "case__site", "case__appointment__room")
            .order_by("ended_at", "pk")
        )
        for record in records:
            if f"charge:{record.pk}" not in given:
                yield (
                    f"charge:{record.pk}",
                    record.case,
                    lambda c, now, r=record: charge_message(destination, r, c, now),
                )
    if destination.sends_bookings and interface_of(site).scheduler_of_record:
        appointments = list(
            Appointment.objects.filter(site=site, updated_at__gte=since)
            .select_related("room", "replaces")
            .order_by("updated_at", "pk")
        )
        cases = Case.objects.select_related("patient", "site").in_bulk(
            [a.case_uuid for a in appointments], field_name="uuid"
        )
        for appointment in appointments:
            case = cases[appointment.case_uuid]
            for event in _booking_events(appointment):
                source = f"booking:{appointment.uuid}:{event}"
                if source not in given:
                    yield (
                        source,
                        case,
                        lambda c, now, a=appointment, k=case, e=event: booking_message(destination, a, k, e, c, now),
                    )


def _booking_events(appointment: Appointment) -> list[str]:
    events = ["moved" if appointment.replaces_id else "new"]
    if appointment.status == AppointmentStatus.CANCELLED:
        events.append("cancelled")
    elif appointment.status == AppointmentStatus.NO_SHOW:
        events.append("no_show")
    return events


def _queue(destination: Hl7Destination, source: str, case: Case, build: Any, now: datetime) -> int:
    try:
        with transaction.atomic():
            row = Hl7Message.objects.create(
                direction=OUT,
                at=now,
                destination=destination,
                source=source,
                status=Hl7Message.Status.PENDING,
                due_at=now,
                raw=b"",
                sending_application=destination.sending_application[:180],
                sending_facility=(destination.sending_facility or destination.site.code)[:180],
                receiving_application=destination.receiving_application[:180],
                receiving_facility=destination.receiving_facility[:180],
            )
            control = f"KY{row.pk}"
            text = build(control, now)
            row.control_id = control
            row.message_type = text.split("\r", 1)[0].split("|")[8][:30]
            row.version = "2.5.1"
            row.raw = text.encode("utf-8")
            row.case_uuid, row.patient_uuid = case.uuid, case.patient.uuid
            row.save()
    except IntegrityError:
        return 0  # another worker queued it first
    return 1


# --- sending -------------------------------------------------------------------------------------------------------


class NoAck(Exception):  # noqa: N818
    """The receiver did not acknowledge this message (connection refused or dropped, timeout, a wrong answer)."""


def exchange(host: str, port: int, message: bytes, timeout: float) -> bytes:
    """Send one framed message and read the framed answer (MLLP, HL7 v2.5.1 appendix C)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(START + message + END)
            data = b""
            while END not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    raise NoAck("the connection closed before the ACK")
                data += chunk
                if len(data) > 1_000_000:
                    raise NoAck("the answer is too long to be an ACK")
    except OSError as exc:
        raise NoAck(type(exc).__name__) from exc
    start = data.find(START)
    return data[start + 1 if start >= 0 else 0 : data.find(END)]


def _ack_of(answer: bytes, control_id: str) -> tuple[str, str]:
    """(MSA-1, the reason) of the ACK for ``control_id``, read as any received message is (reading.read: its own
    delimiters and character set); NoAck when the answer is not that."""
    try:
        _header, message = read(answer)
    except Unreadable as problem:
        raise NoAck(f"the answer is not an HL7 message ({problem.reason})") from None
    if not has_segment(message, "MSA"):
        raise NoAck("the answer has no MSA segment")
    if value(message, "MSA", 2) != control_id:
        raise NoAck("the ACK is for another message")
    return value(message, "MSA", 1), value(message, "ERR", 8) or value(message, "MSA", 3)


def claim_next(worker: str, now: datetime | None = None) -> Hl7Message | None:
    """The oldest unsent message of a destination no other worker is sending to, marked as claimed."""
    now = now or clock.current()
    expired = now - timedelta(seconds=settings.KYPHOS_OUTBOX_LEASE_SECONDS)
    for destination_id in (
        Hl7Message.objects.filter(direction=OUT, status__in=UNSENT, due_at__lte=now)
        .values_list("destination_id", flat=True)
        .distinct()
    ):
        with transaction.atomic():
            destination = (
                Hl7Destination.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(pk=destination_id)
                .first()
            )
            if destination is None:
                continue  # another worker is choosing for this destination
            head = (
                Hl7Message.objects.select_for_update(no_key=True)
                .filter(direction=OUT, destination=destination, status__in=UNSENT)
                .order_by("id")
                .first()
            )
            if head is None or head.due_at is None or head.due_at > now:
                continue  # the head waits for its retry: the ones behind it wait too (order per destination)
            if head.claimed_at is not None and head.claimed_at > expired:
                continue  # being sent by another worker
            head.claimed_at, head.claimed_by = now, worker[:80]
            head.attempts += 1
            head.save(update_fields=["claimed_at", "claimed_by", "attempts"])
            return head
    return None


def send_one(worker: str = "worker") -> Hl7Message | None:
    """Claim one message, send it, record the outcome; None when nothing is due."""
    row = claim_next(worker)
    if row is None:
        return None
    destination = row.destination
    assert destination is not None
    answer = b""
    try:
        answer = exchange(destination.host, destination.port, bytes(row.raw), destination.timeout_seconds)
        code, reason = _ack_of(answer, row.control_id)
    except NoAck as exc:
        return _finish(row, None, str(exc), answer)
    return _finish(row, code, reason, answer)


def _finish(row: Hl7Message, code: str | None, reason: str, ack: bytes) -> Hl7Message:
    now = clock.current()
    fields: dict[str, Any] = {"claimed_at": None, "claimed_by": "", "ack": ack}
    if code in {"AA", "CA"}:
        fields |= {"status": Hl7Message.Status.SENT, "ack_code": code, "sent_at": now, "error": ""}
    elif code is not None:
        fields |= {"status": Hl7Message.Status.FAILED, "ack_code": code[:2], "error": f"{code}: {reason}"[:300]}
        log.warning("HL7 message %s refused by its destination (%s)", row.pk, code)
    elif row.attempts >= settings.KYPHOS_HL7_SEND_ATTEMPTS:
        fields |= {"status": Hl7Message.Status.FAILED, "error": f"No ACK after {row.attempts} attempts: {reason}"[:300]}
        log.warning("HL7 message %s not acknowledged after %s attempts", row.pk, row.attempts)
    else:
        wait = min(5 * 2 ** (row.attempts - 1), 300)
        fields |= {"due_at": now + timedelta(seconds=wait), "error": f"No ACK: {reason}"[:300]}
    # Only the worker that holds the claim may record its outcome (a lease that ran out went to another).
    Hl7Message.objects.filter(pk=row.pk, claimed_by=row.claimed_by, status=Hl7Message.Status.PENDING).update(**fields)
    row.refresh_from_db()
    return row


@transaction.atomic
def resend(actor: Actor, row: Hl7Message) -> Hl7Message:
    """Put a message that was not sent back at the head of its destination's queue (after the cause is fixed)."""
    kernel.require(actor, "interface.manage")
    locked = Hl7Message.objects.select_for_update(no_key=True).get(pk=row.pk)
    if locked.direction != OUT or locked.status != Hl7Message.Status.FAILED:
        raise Refused(_("Only a message that was not sent can be sent again."))
    Hl7Message.objects.filter(pk=locked.pk).update(
        status=Hl7Message.Status.PENDING, due_at=clock.current(), attempts=0, claimed_at=None, claimed_by=""
    )
    audit.record(actor, AuditAction.UPDATE, "hl7_message", locked.pk, patient_uuid=locked.patient_uuid, detail="resend")
    locked.refresh_from_db()
    return locked


def work(worker: str) -> bool:
    """One pass for the worker: send one message; when none is due, look for new ones to queue first. True when
    something was sent or tried."""
    if send_one(worker) is not None:
        return True
    return bool(enqueue_due()) and send_one(worker) is not None
