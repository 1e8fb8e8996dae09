"""The patient's own link: ``/p/<token>``, a signed nonce that names one case.

The signature (Django's signing, salted) refuses a tampered or made-up token before the database is asked; the row
decides whether the link still works (not revoked, not expired). A case has at most one working link: issuing a new
one revokes the old. With ``require_dob`` the page first asks the patient's date of birth; five wrong answers
revoke the link, and staff must issue a new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.messaging.models import PatientLink

SALT = "kyphos.patient-link"
MAX_DOB_FAILURES = 5


class LinkError(ValueError):
    """Why a link cannot be used, in words for the patient (no detail that helps a guesser); ``site`` is the site
    to call when the link was real (its page says whom to call), None for a made-up or tampered one."""

    def __init__(self, message: Any, site: Any = None) -> None:
        super().__init__(message)
        self.site = site


# After the follow-up visit a link keeps working this long (the patient may still read the letters), then stops.
AFTER_FOLLOW_UP = timedelta(days=30)


@dataclass(frozen=True)
class Opened:
    link: PatientLink
    case: Any


def token_for(link: PatientLink) -> str:
    """The same token every time for one link (no time stamp in it: the row says when the link expires), so every
    message that carries the link carries the same address."""
    return str(signing.Signer(salt=SALT).sign_object(link.nonce))


def path_for(link: PatientLink) -> str:
    return f"/p/{token_for(link)}/"


def latest(case: Any) -> tuple[PatientLink | None, PatientLink | None]:
    """The newest link and, if it still works, the working one (issuing revokes older links): one query."""
    newest = PatientLink.objects.filter(case=case).order_by("-created_at", "-id").first()
    working = newest if newest and newest.revoked_at is None and newest.expires_at > clock.current() else None
    return newest, working


def current_link(case: Any) -> PatientLink | None:
    now = clock.current()
    return (
        PatientLink.objects.filter(case=case, revoked_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def issue(actor: Actor, case: Any, *, require_dob: bool | None = None, days: int | None = None) -> PatientLink:
    """A new link for the case (any working one is revoked), valid for the site's number of days; it asks the
    date of birth first unless the site turned that off (or the caller says otherwise)."""
    now = clock.current()
    if require_dob is None:
        require_dob = case.site.patient_link_asks_dob
    for old in PatientLink.objects.select_for_update(no_key=True).filter(case=case, revoked_at__isnull=True):
        _revoke(actor, old, "replaced by a new link")
    link = PatientLink.objects.create(
        case=case,
        nonce=secrets.token_urlsafe(18),
        created_at=now,
        created_by=actor.user_or_none,
        expires_at=now + timedelta(days=days or case.site.patient_link_days),
        require_dob=require_dob,
    )
    audit.record(
        actor,
        AuditAction.CREATE,
        "patient_link",
        link.pk,
        patient_uuid=case.patient.uuid,
        detail=f"issued, expires {link.expires_at:%Y-%m-%d}" + (", asks date of birth" if require_dob else ""),
    )
    return link


def ensure(actor: Actor, case: Any) -> PatientLink:
    """The case's working link, issuing one if there is none."""
    return current_link(case) or issue(actor, case)


def _revoke(actor: Actor, link: PatientLink, reason: str) -> None:
    link.revoked_at, link.revoked_by, link.revoke_reason = clock.current(), actor.user_or_none, reason[:200]
    link.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(
        actor,
        AuditAction.UPDATE,
        "patient_link",
        link.pk,
        patient_uuid=link.case.patient.uuid,
        detail=f"revoked: {reason[:100]}",
    )


@transaction.atomic
def revoke(actor: Actor, case: Any, reason: str) -> int:
    """Revoke every working link of the case; return how many."""
    reason = reason.strip()
    if not reason:
        raise ValueError(str(_("Say why the link is revoked.")))
    links = list(PatientLink.objects.select_for_update(no_key=True).filter(case=case, revoked_at__isnull=True))
    for link in links:
        _revoke(actor, link, reason)
    return len(links)


def open_token(token: str, now: datetime | None = None) -> Opened:
    """The link and case a token names; raise LinkError if it is tampered, unknown, revoked or expired."""
    now = now or clock.current()
    try:
        nonce = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        raise LinkError(_("This link is not valid. Please use the latest message we sent you, or call us.")) from None
    link = PatientLink.objects.select_related("case__patient", "case__site").filter(nonce=nonce).first()
    if link is None:
        raise LinkError(_("This link is not valid. Please use the latest message we sent you, or call us."))
    site = link.case.site
    if link.revoked_at is not None:
        raise LinkError(_("This link no longer works. Please use the latest message we sent you, or call us."), site)
    if link.expires_at <= now:
        raise LinkError(_("This link has expired. Please call us and we will send you a new one."), site)
    return Opened(link, link.case)


@transaction.atomic
def end_after_follow_up(actor: Actor, case: Any, visit_at: datetime) -> int:
    """The follow-up visit was recorded: the case's working links stop 30 days later (sooner if already due)."""
    until = visit_at + AFTER_FOLLOW_UP
    changed = 0
    for link in PatientLink.objects.select_for_update(no_key=True).filter(
        case=case, revoked_at__isnull=True, expires_at__gt=until
    ):
        link.expires_at = until
        link.save(update_fields=["expires_at"])
        audit.record(
            actor,
            AuditAction.UPDATE,
            "patient_link",
            link.pk,
            patient_uuid=case.patient.uuid,
            detail=f"expires {until:%Y-%m-%d}, 30 days after the follow-up visit",
        )
        changed += 1
    return changed


def check_dob(link: PatientLink, answer: date | None, client_addr: str | None) -> bool:
    """Compare the date of birth; count failures and revoke the link at the fifth (then raise LinkError).

    The count and the revocation are committed before the error is raised, so a lock-out cannot be undone by
    the error unwinding the transaction."""
    with transaction.atomic():
        outcome = _check_dob(link, answer, client_addr)
    if outcome == "locked":
        raise LinkError(
            _("This link has been locked after too many tries. Please call us for a new one."), link.case.site
        )
    if outcome == "revoked":
        raise LinkError(_("This link no longer works. Please call us and we will send you a new one."), link.case.site)
    return outcome == "ok"


def _check_dob(link: PatientLink, answer: date | None, client_addr: str | None) -> str:
    locked = PatientLink.objects.select_for_update(no_key=True).select_related("case__patient").get(pk=link.pk)
    if locked.revoked_at is not None:
        return "revoked"
    actor = Actor(user=None, client_addr=client_addr, system_name=f"patient link {locked.pk}")
    if answer is not None and answer == locked.case.patient.date_of_birth:
        locked.failed_dob = 0
        locked.save(update_fields=["failed_dob"])
        return "ok"
    locked.failed_dob += 1
    locked.save(update_fields=["failed_dob"])
    audit.record(
        actor,
        AuditAction.REFUSED,
        "patient_link",
        locked.pk,
        patient_uuid=locked.case.patient.uuid,
        detail=f"date of birth did not match ({locked.failed_dob})",
    )
    if locked.failed_dob >= MAX_DOB_FAILURES:
        _revoke(actor, locked, "too many wrong dates of birth")
        return "locked"
    return "wrong"


def touch(link: PatientLink) -> None:
    PatientLink.objects.filter(pk=link.pk).update(last_used_at=clock.current())
