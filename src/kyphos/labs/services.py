"""Lab results: one way in for every source (typed on the admission screen, the HL7 lab feed, the FHIR API).

``record_lab`` checks the value against what is possible for the test, stores it with its LOINC code and
source, closes the pregnancy-test task when an hCG arrives, puts a result the rules stop on (a high INR, low
platelets, a positive hCG) on the case's findings so the day list and the banner show it at once, and writes the
timeline event and the audit row. A result the laboratory sends again under the same name (``external_id``) is
either the same (nothing changes) or a correction: the new value replaces the old, which stays on record as
superseded, and the timeline says so. ``lab_values`` and ``lab_policy`` are what the procedure's readiness rules
read: current results only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.labs.models import LabResult, ResultStatus
from kyphos.pathway import kernel
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import Case, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import may
from kyphos.pathway.stages import TERMINAL
from kyphos.rules import data
from kyphos.rules import labs as lab_rules
from kyphos.rules.findings import Finding

SOURCES = ("manual", "hl7")


def _parse_value(code: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"value": format_lazy(_("“{value}” is not a number."), value=value)}) from exc
    low, high = data.load("procedure")["lab_ranges"][code]
    if not Decimal(str(low)) <= number <= Decimal(str(high)):
        raise ValidationError(
            {
                "value": format_lazy(
                    _("{number} is not a possible {name} value ({low}–{high})."),
                    number=number,
                    name=lab_rules.tests()[code].name,
                    low=low,
                    high=high,
                )
            }
        )
    return number


@transaction.atomic
def record_lab(
    actor: Actor,
    case: Case,
    code: str,
    *,
    value: Any = None,
    positive: bool | None = None,
    taken_at: datetime,
    source: str = "manual",
    status: str = ResultStatus.FINAL,
    external_id: str = "",
    refresh: bool = True,
) -> LabResult:
    """Record one lab result, typed by hand or sent by the laboratory (HL7 ORU, FHIR): the same checks and effects."""
    if actor.user is not None and not (may(actor.user, "case.admit") or may(actor.user, "case.clear")):
        raise NotPermitted(_("Your role does not allow entering lab results."))
    if source not in SOURCES:
        raise InvalidInput(format_lazy(_("Unknown lab source {source!r}."), source=source), field="source")
    if status not in ResultStatus.values:
        raise InvalidInput(format_lazy(_("Unknown result status {status!r}."), status=status), field="status")
    tests = lab_rules.tests()
    if code not in tests:
        raise ValidationError({"code": _("Choose a test.")})
    now = clock.current()
    if taken_at > now + timedelta(minutes=5):
        raise ValidationError({"taken_at": _("The sample time is in the future.")})
    if taken_at < now - timedelta(days=90):
        raise ValidationError({"taken_at": _("The sample is more than 90 days old.")})
    if code == "hcg":
        if positive is None:
            raise ValidationError({"positive": _("Say whether the pregnancy test is positive or negative.")})
        number = None
    else:
        number = _parse_value(code, value)
    previous = None
    if external_id:
        previous = (
            LabResult.objects.select_for_update()
            .filter(case=case, external_id=external_id[:200], superseded_at__isnull=True)
            .first()
        )
        if previous is not None and (previous.code, previous.value, previous.positive, previous.status) == (
            code,
            number,
            positive if code == "hcg" else None,
            status,
        ):
            return previous  # the laboratory sent the same result again: nothing changes
    result = LabResult.objects.create(
        case=case,
        code=code,
        loinc=tests[code].loinc,
        value=number,
        positive=positive if code == "hcg" else None,
        unit=tests[code].unit,
        taken_at=taken_at,
        entered_at=now,
        entered_by=actor.user_or_none,
        source=source,
        status=status,
        external_id=external_id[:200],
        corrects=previous,
    )
    if previous is not None:
        LabResult.objects.filter(pk=previous.pk).update(superseded_at=now)
    if code == "hcg" and status != ResultStatus.PRELIMINARY:
        for task in Task.objects.select_for_update().filter(case=case, kind=TaskKind.HCG_TEST, status=TaskStatus.OPEN):
            task.case = case
            kernel.close_task(actor, task, TaskStatus.DONE, gettext("positive") if positive else gettext("negative"))
    shown = _shown(code, number, positive)
    if previous is not None:
        summary = gettext("Lab corrected: {test} {old} → {new} ({status})").format(
            test=tests[code].name,
            old=_shown(previous.code, previous.value, previous.positive),
            new=shown,
            status=ResultStatus(status).label,
        )
    else:
        summary = gettext("Lab: {test} {value}").format(test=tests[code].name, value=shown)
        if status == ResultStatus.PRELIMINARY:
            summary += " " + gettext("(preliminary)")
    kernel.record_event(actor, case, EventKind.NOTE, summary)
    audit.record(
        actor,
        AuditAction.UPDATE if previous is not None else AuditAction.CREATE,
        "lab",
        result.pk,
        patient_uuid=case.patient.uuid,
        detail=f"{code} corrects {previous.pk}" if previous is not None else code,
    )
    if refresh:  # a feed recording several results refreshes once, after the last (refresh_findings)
        refresh_findings(actor, case, [result])
    return result


def _shown(code: str, number: Decimal | None, positive: bool | None) -> str:
    if code == "hcg":
        return gettext("positive") if positive else gettext("negative")
    return str(number)


def _value_finding(finding: Finding) -> bool:
    """A finding about a result's value (INR high, platelets low, hCG positive), not about a result not yet taken:
    missing and stale results are the admission's business, checked before the procedure starts."""
    code = finding.code
    return code.startswith("labs.") and not code.startswith(("labs.missing.", "labs.stale.", "labs.heparin_check"))


def refresh_findings(actor: Actor, case: Case, recorded: list[LabResult] | None = None) -> None:
    """Keep the case's findings in step with its current results: a stop raised by a value appears on the banner
    and the day list at once; a correction that clears it takes it away (a decision already made stays).

    ``recorded``: the results just added. When they are all unremarkable and the case carries no lab finding,
    nothing can change and the case is left alone (the usual result, and the feed's hot path)."""
    if recorded and _unremarkable(case, recorded):
        return
    locked = kernel.lock_case(case, None)
    if locked.stage in TERMINAL:
        return
    start = locked.appointment.start if locked.appointment is not None else clock.current()
    now_found = [
        f
        for f in lab_rules.lab_findings(lab_values(locked), start, lab_policy(locked))
        if _value_finding(f) and f.code != "labs.inr_not_same_day"
    ]
    codes_now = {f.code for f in now_found}
    kept, gone = [], []
    for item in locked.findings:
        code = str(item.get("code", ""))
        if code.startswith("labs.") and code not in codes_now and not item.get("overridden"):
            gone.append(item)
        else:
            kept.append(item)
    present = {str(item.get("code", "")) for item in kept}
    new = [f for f in now_found if f.code not in present]
    if not new and not gone:
        return
    locked.findings = kept
    locked.open_stops = max(0, locked.open_stops - sum(1 for item in gone if item.get("severity") == "stop"))
    if gone:
        kernel.save_case(locked, "findings", "open_stops")
    if new:
        summary = gettext("Lab result raises: {codes}").format(codes=", ".join(str(f.message) for f in new))
        kernel.raise_findings(actor, locked, new, summary)
    else:
        kernel.record_event(
            actor,
            locked,
            EventKind.NOTE,
            gettext("Lab finding cleared by a new result: {codes}").format(
                codes=", ".join(str(item.get("code")) for item in gone)
            ),
        )
    case.findings, case.open_stops, case.version = locked.findings, locked.open_stops, locked.version


def _unremarkable(case: Case, recorded: list[LabResult]) -> bool:
    findings = Case.objects.filter(pk=case.pk).values_list("findings", flat=True).first() or []
    if any(str(item.get("code", "")).startswith("labs.") for item in findings):
        return False
    values = [lab_rules.LabValue(r.code, r.value, r.taken_at, r.positive) for r in recorded]
    rules = lab_rules.policy(case.site.inr_max, case.site.lab_freshness_days)
    return not [f for f in lab_rules.lab_findings(values, clock.current(), rules) if _value_finding(f)]


def results(case: Case) -> list[LabResult]:
    """The case's results as stored, newest first (what the admission screen lists)."""
    return list(LabResult.objects.filter(case=case, superseded_at__isnull=True))


def lab_values(case: Case) -> list[lab_rules.LabValue]:
    """The case's results as the lab rules read them (newest first)."""
    current = LabResult.objects.filter(case=case, superseded_at__isnull=True)
    return [
        lab_rules.LabValue(code, value, taken_at, positive)
        for code, value, taken_at, positive in current.values_list("code", "value", "taken_at", "positive")
    ]


def lab_policy(case: Case) -> lab_rules.LabPolicy:
    site = case.site
    hcg = case.tasks.filter(kind=TaskKind.HCG_TEST).exists()
    return lab_rules.policy(site.inr_max, site.lab_freshness_days, hcg_required=hcg)
