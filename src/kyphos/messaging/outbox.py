"""The outbox: queue a message once, claim one due row at a time, deliver it, record the outcome.

Several workers may run against PostgreSQL: a row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked
"sending" in its own committed transaction. A worker that dies after claiming leaves the row "sending"; after the
lease another worker delivers it again with the same key (see gateways: the repeat is recognisably the same).
One failing row (no address, a gateway error) is recorded on the row and the worker moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput, Refused
from kyphos.messaging.gateways import DeliveryError, send_email, sms_gateway
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import kernel
from kyphos.patients import services as patients

LEASE = timedelta(minutes=5)  # the default of KYPHOS_OUTBOX_LEASE_SECONDS


def lease() -> timedelta:
    return timedelta(seconds=settings.KYPHOS_OUTBOX_LEASE_SECONDS)


MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=10)


def message_key(case: Any, purpose: str, channel: str, occurrence: str = "") -> str:
    """The unique key: one message per (case, purpose, channel) and, for repeating purposes, per occurrence."""
    return f"{case.uuid}:{purpose}:{channel}" + (f":{occurrence}" if occurrence else "")


def enqueue(
    case: Any,
    purpose: str,
    channel: str,
    *,
    to: str,
    body: str,
    subject: str = "",
    due_at: datetime | None = None,
    language: str = "en",
    occurrence: str = "",
    calendar: str = "",
) -> tuple[OutboxMessage, bool]:
    """Queue a message unless one with the same key exists; return it and whether it is new."""
    if channel not in OutboxMessage.Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    now = clock.current()
    return OutboxMessage.objects.get_or_create(
        key=message_key(case, purpose, channel, occurrence),
        defaults={
            "case": case,
            "purpose": purpose,
            "channel": channel,
            "to_address": to.strip(),
            "body": body,
            "subject": subject,
            "due_at": due_at or now,
            "language": language,
            "created_at": now,
            "calendar": calendar,
        },
    )


def claim_next(worker: str, now: datetime | None = None) -> OutboxMessage | None:
    now = now or clock.current()
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(
                Q(status=OutboxMessage.Status.PENDING, due_at__lte=now)
                | Q(status=OutboxMessage.Status.SENDING, claimed_at__lt=now - lease())
            )
            .order_by("due_at", "id")
            .first()
        )
        if row is None:
            return None
        row.status, row.claimed_at, row.claimed_by = OutboxMessage.Status.SENDING, now, worker[:80]
        row.attempts += 1
        row.save(update_fields=["status", "claimed_at", "claimed_by", "attempts"])
    return row


def deliver(row: OutboxMessage) -> None:
    if not row.to_address:
        raise DeliveryError(
            format_lazy(_("No {channel} address for this patient."), channel=row.get_channel_display().lower())
        )
    if row.channel == OutboxMessage.Channel.EMAIL:
        send_email(row.to_address, row.subject or "Kyphos", row.body, row.key, calendar=row.calendar)
    else:
        sms_gateway().send(row.to_address, row.body, row.key)


def process_one(
    worker: str = "worker", check: Callable[[OutboxMessage], OutboxMessage | None] | None = None
) -> OutboxMessage | None:
    """Claim and deliver one due message; return it (with its new status), or None when nothing is due.

    ``check`` sees the message just before it goes (the worker passes ``reminders.current_message``): it may
    rewrite it, or withdraw it by returning None (the row is then cancelled and returned as it is)."""
    row = claim_next(worker)
    if row is None:
        return None
    if check is not None:
        checked = check(row)
        if checked is None:
            row.refresh_from_db()
            return row
        row = checked
    try:
        deliver(row)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row; the worker goes on
        # No address will not fix itself: fail at once. Other errors are retried up to MAX_ATTEMPTS times.
        failed = row.attempts >= MAX_ATTEMPTS or (isinstance(exc, DeliveryError) and not row.to_address)
        row.status = OutboxMessage.Status.FAILED if failed else OutboxMessage.Status.PENDING
        row.due_at = clock.current() + RETRY_AFTER
        row.last_error = f"{type(exc).__name__}: {exc}"[:300]
        row.save(update_fields=["status", "due_at", "last_error"])
        return row
    row.status, row.sent_at, row.last_error = OutboxMessage.Status.SENT, clock.current(), ""
    row.save(update_fields=["status", "sent_at", "last_error"])
    return row


def not_sent() -> Any:
    """The "messages that did not go out" worklist."""
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).select_related("case__patient")


@transaction.atomic
def retry(actor: Actor, row: OutboxMessage, to: str | None = None) -> OutboxMessage:
    """Send a failed message again (with a corrected address if given): it goes back to the queue, due now. Only
    people who contact patients may; the address must fit the channel, and a new address becomes the patient's."""
    kernel.require(actor, "message.resend")
    if row.status != OutboxMessage.Status.FAILED:
        raise Refused(_("Only a message that did not go out can be sent again."))
    if to is not None and to.strip() != row.to_address:
        address = _address_for(row.channel, to)
        patients.change_contact(actor, row.case.patient, CONTACT_FIELD[row.channel], address)
        row.to_address = address
    if not row.to_address:
        raise InvalidInput(
            _("This message has no address: give a mobile number or an e-mail address to send it to."), field="to"
        )
    row.status, row.due_at, row.attempts, row.last_error = (
        OutboxMessage.Status.PENDING,
        clock.current(),
        0,
        "",
    )
    row.save(update_fields=["to_address", "status", "due_at", "attempts", "last_error"])
    audit.record(
        actor,
        AuditAction.UPDATE,
        "outbox",
        row.pk,
        patient_uuid=row.case.patient.uuid,
        detail=f"message sent again by {row.channel} to {row.to_address}",
    )
    return row


CONTACT_FIELD: dict[str, str] = {OutboxMessage.Channel.SMS: "phone_mobile", OutboxMessage.Channel.EMAIL: "email"}


def _address_for(channel: str, text: str) -> str:
    """The address typed for a channel, checked: a mobile number in international form for a text, an e-mail
    address for an e-mail."""
    text = text.strip()
    if channel == OutboxMessage.Channel.SMS:
        number = patients.e164(text)
        if number is None:
            raise InvalidInput(
                _("Enter the mobile number in international form, with + and the country code (+1 212 555 0100)."),
                field="to",
            )
        return number
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidInput(_("Enter an e-mail address, such as name@example.org."), field="to") from None
    return text
