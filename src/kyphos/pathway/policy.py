"""Who may see and do what. Roles are Django groups; views and services ask ``may()``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SCHEDULER = "scheduler", _("Scheduler")
    NURSE = "nurse", _("Pre-procedure nurse")
    RADIOLOGIST = "radiologist", _("Radiologist")
    ANESTHESIA = "anesthesia", _("Anesthesia")
    WARD_NURSE = "ward_nurse", _("Ward nurse")
    MANAGER = "manager", _("Manager")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


R = Role
CLINICAL = {R.SCHEDULER, R.NURSE, R.RADIOLOGIST, R.ANESTHESIA, R.WARD_NURSE}

# The declared policy table: permission → roles that hold it. Tests walk every row (tests/web/test_policy.py).
POLICY: dict[str, frozenset[Role]] = {
    "worklist.view": frozenset(CLINICAL | {R.MANAGER}),
    "case.view": frozenset(CLINICAL | {R.MANAGER, R.ADMIN}),
    "case.list": frozenset(CLINICAL | {R.MANAGER, R.ADMIN}),
    "case.refer": frozenset({R.SCHEDULER, R.RADIOLOGIST}),
    "case.triage": frozenset({R.RADIOLOGIST}),
    "case.decline": frozenset({R.RADIOLOGIST}),
    "case.book": frozenset({R.SCHEDULER}),
    "case.reschedule": frozenset({R.SCHEDULER}),
    "case.complete_precall": frozenset({R.NURSE}),
    "case.admit": frozenset({R.WARD_NURSE}),
    "case.clear": frozenset({R.RADIOLOGIST, R.ANESTHESIA}),
    "case.start_procedure": frozenset({R.RADIOLOGIST}),
    "case.end_procedure": frozenset({R.RADIOLOGIST}),
    "case.discharge": frozenset({R.WARD_NURSE, R.RADIOLOGIST}),
    "case.complete_followup": frozenset({R.RADIOLOGIST}),
    "case.close": frozenset({R.RADIOLOGIST, R.SCHEDULER}),
    "case.postpone": frozenset({R.SCHEDULER, R.NURSE, R.RADIOLOGIST}),
    "case.cancel": frozenset({R.SCHEDULER, R.RADIOLOGIST}),
    # Overriding a stop finding is a clinical decision: the radiologist, always with a reason.
    # Outside imaging: the patient's CD, reports and films. Whoever receives them at the desk or on the phone reads
    # them in; only the radiologist decides that images which do not match the patient are theirs (or rejects them).
    "imaging.import": frozenset({R.SCHEDULER, R.NURSE, R.RADIOLOGIST}),
    "imaging.resolve": frozenset({R.RADIOLOGIST}),
    "finding.override": frozenset({R.RADIOLOGIST}),
    # Discharge before the site's minimum recovery, checks or vital-sign limits.
    "discharge.early": frozenset({R.RADIOLOGIST}),
    "audit.view": frozenset({R.AUDITOR, R.ADMIN}),
    # The dashboard: volumes, timeliness, outcomes and safety beside the published figures (no patient named).
    "dashboard.view": frozenset({R.MANAGER, R.RADIOLOGIST}),
    # The registry export (every treated patient of a period, named or de-identified): the department's manager.
    "registry.export": frozenset({R.MANAGER}),
    # The patient's own link: staff who talk to patients can issue, reissue and revoke it.
    "patient_link.manage": frozenset({R.SCHEDULER, R.NURSE, R.RADIOLOGIST, R.WARD_NURSE}),
    # Sending a message that did not go out again (perhaps to a corrected address): the same people.
    "message.resend": frozenset({R.SCHEDULER, R.NURSE, R.RADIOLOGIST, R.WARD_NURSE}),
    # Outcome questionnaires a site loads (FHIR Questionnaire definitions).
    "questionnaire.load": frozenset({R.MANAGER, R.ADMIN}),
    # The integration page: the HL7 messages by status, type and sender. Managers see the traffic; the
    # administrators (the interface analysts) also see the patient data inside and replay or resend.
    "interface.view": frozenset({R.MANAGER, R.ADMIN}),
    "interface.patient_data": frozenset({R.ADMIN}),
    "interface.manage": frozenset({R.ADMIN}),
}


def roles_of(user: Any) -> frozenset[Role]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_kyphos_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(Role(name) for name in names if name in Role.values)
        user._kyphos_roles = cached
    return cached


def may(user: Any, permission: str) -> bool:
    allowed = POLICY.get(permission)
    if allowed is None:
        raise KeyError(f"Unknown permission {permission!r}")
    return bool(roles_of(user) & allowed)


def site_ids_of(user: Any) -> frozenset[int] | None:
    """The sites whose patients this user sees, or None for every site (a superuser, or staff of every site).

    Scoping is by site, beside the roles: worklists, searches and lists show only these sites' patients, and a
    case elsewhere opens only by breaking the glass (web.scope). A user given no site sees no patient."""
    from kyphos.scheduling.models import Site

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_kyphos_sites", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    if user.is_superuser:
        result = None
    else:
        mine = frozenset(Site.objects.filter(staff=user).values_list("id", flat=True))
        result = None if mine and not Site.objects.exclude(id__in=mine).exists() else mine
    user._kyphos_sites = result
    return result
