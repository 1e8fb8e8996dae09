"""Signing in: guesses are limited, and every sign-in, failure, lock-out and sign-out is an audit entry.

django-axes counts the failures. Five for one user name in 15 minutes lock that name for 15 minutes; twenty from
one address in 15 minutes lock the address (axes counts one kind of key at a time, so the address's count is
added here). An administrator unlocks from the admin ("Access attempts") or with ``kyphos axes_reset_username``.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.middleware import client_address
from kyphos.audit.models import AuditAction

# Twenty failures from one address in the cool-off time lock the address (five for one user name: AXES_FAILURE_LIMIT).
ADDRESS_FAILURE_LIMIT = 20


def client_ip(request: HttpRequest) -> str:
    """The address axes counts: the same one the audit records (REMOTE_ADDR; a proxy's header only when trusted)."""
    return client_address(request) or "0.0.0.0"  # noqa: S104 - a placeholder for a request with no address


def address_failures(ip_address: str) -> int:
    since = clock.current() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
    return int(rows.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class SignInHandler(AxesDatabaseHandler):
    """axes's own handler, with the address limit beside the user-name limit."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        address = getattr(request, "axes_ip_address", None)
        return address is not None and address_failures(str(address)) >= ADDRESS_FAILURE_LIMIT


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """The sign-in page again, saying why and until when, with status 429 (too many requests)."""
    until = clock.current() + settings.AXES_COOLOFF_TIME
    message = _(
        "Too many failed sign-ins: signing in is locked for {minutes} minutes (until {until}). An administrator can "
        "unlock it sooner."
    ).format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), until=when.staff_time(until))
    context = {"form": AuthenticationForm(request), "next": "", "locked": message}
    return render(request, "registration/login.html", context, status=429)


def _actor(request: HttpRequest | None, user: Any = None, username: str = "") -> Actor:
    """The user signing in or out; for a failure, the user name that was typed (no user is known)."""
    addr = client_address(request) if request is not None else None
    return Actor(user=user, client_addr=addr, system_name="" if user is not None else username or "(blank)")


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record(_actor(request, user), AuditAction.SIGN_IN, "sign_in", user.pk, detail="signed in")


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        idle = getattr(request, "kyphos_sign_out_reason", "") == "idle"
        detail = "signed out after the idle time" if idle else "signed out"
        audit.record(_actor(request, user), AuditAction.SIGN_OUT, "sign_in", user.pk, detail=detail)


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150]
    locked = bool(request is not None and getattr(request, "axes_locked_out", False))
    audit.record(
        _actor(request, username=username),
        AuditAction.SIGN_IN_FAILED,
        "sign_in",
        "",
        detail="locked out" if locked else "wrong user name or password",
    )
