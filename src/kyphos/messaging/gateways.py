"""Where messages go. E-mail uses Django's e-mail backends; SMS goes through a pluggable gateway.

Both are given the message's key: the file gateway names its file by it (a repeat overwrites, never duplicates)
and e-mails carry a Message-ID made from it, so a resend after a crash is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class DeliveryError(RuntimeError):
    """The message could not be handed over; the reason is kept on the outbox row (not in the logs)."""


class SmsGateway(Protocol):
    def send(self, to: str, body: str, key: str) -> None: ...


class FileSmsGateway:
    """Writes each text message to ``<KYPHOS_VAR_DIR>/sms/<key>.txt`` (the default for the demo and tests)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(settings.KYPHOS_SMS_DIR)

    def send(self, to: str, body: str, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{_safe(key)}.txt"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        os.replace(temporary, target)  # atomic: a reader never sees half a message


class HttpSmsGateway:
    """Posts each text as JSON to an SMS provider's HTTPS endpoint (``KYPHOS_SMS_URL``, bearer ``KYPHOS_SMS_TOKEN``).

    Body: ``{"to": …, "body": …, "reference": <hash of the key>}`` with an ``Idempotency-Key`` header of the same
    hash, so a provider that honours it sends a repeated request once. Any answer other than 2xx, a timeout or a
    refused connection is a DeliveryError naming the status only (never the message)."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url or settings.KYPHOS_SMS_URL
        self.token = token if token is not None else settings.KYPHOS_SMS_TOKEN
        self.timeout = timeout
        if not self.url.startswith(("https://", "http://")):
            raise DeliveryError(_("KYPHOS_SMS_URL is not set to an http(s) address."))

    def send(self, to: str, body: str, key: str) -> None:
        reference = _safe(key)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.url,
            method="POST",
            data=json.dumps({"to": to, "body": body, "reference": reference}).encode(),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": reference,
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(format_lazy(_("The SMS gateway answered HTTP {code}."), code=exc.code)) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(
                format_lazy(_("The SMS gateway could not be reached ({kind})."), kind=type(exc).__name__)
            ) from None
        if not 200 <= status < 300:
            raise DeliveryError(format_lazy(_("The SMS gateway answered HTTP {status}."), status=status))


def _safe(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def sms_gateway() -> SmsGateway:
    gateway: type[SmsGateway] = import_string(settings.KYPHOS_SMS_GATEWAY)
    return gateway()


def send_email(to: str, subject: str, body: str, key: str, calendar: str = "") -> None:
    message = EmailMessage(subject=subject, body=body, to=[to], headers={"Message-ID": f"<{_safe(key)}@kyphos>"})
    if calendar:
        # An invitation the patient's phone offers to add (RFC 6047: text/calendar as an attachment).
        message.attach("appointment.ics", calendar, "text/calendar")
    if message.send(fail_silently=False) != 1:
        raise DeliveryError(_("The e-mail backend did not accept the message."))
