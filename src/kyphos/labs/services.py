"""Lab results: one way in for every source (typed on the admission screen, the HL7 lab feed, the FHIR API).

``record_lab`` (``record_labs`` for several taken together) checks the value against what is possible for the
test, stores it with its LOINC code and source, closes the pregnancy-test task when an hCG arrives, puts a result
the rules stop on (a high INR, low platelets, a positive hCG) on the case's findings so the day list and the
banner show it at once, and writes the timeline event and the audit row. A result the laboratory sends again
under the same name (``external_id``) is either the same (nothing changes) or a correction: the new value
replaces the old, which stays on record as superseded, and the timeline says so. ``lab_values`` and
``lab_policy`` are what the procedure's readiness rules read: current results only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

SOURCES = ("manual", "hl7", "fhir")


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


@dataclass(frozen=True)
class LabEntry:
    """One result to record: what a lab form or one OBX of a lab message holds."""

    code: str
    taken_at: datetime
    value: Any = None
    positive: bool | None = None
    status: str = ResultStatus.FINAL
    external_id: str = ""


def check(entry: LabEntry) -> tuple[Decimal | None, bool | None]:
    """The entry's value as stored (a number, or positive/negative for hCG); ValidationError naming the field when
    the test, the value or the sample time is not possible. Changes nothing."""
    if entry.status not in ResultStatus.values:
        raise InvalidInput(format_lazy(_("Unknown result status {status!r}."), status=entry.status), field="status")
    if entry.code not in lab_rules.tests():
        raise ValidationError({"code": _("Choose a test.")})
    now = clock.current()
    if entry.taken_at > now + timedelta(minutes=5):
        raise ValidationError({"taken_at": _("The sample time is in the future.")})
    if entry.taken_at < now - timedelta(days=90):
        raise ValidationError({"taken_at": _("The sample is more than 90 days old.")})
    if entry.code == "hcg":
        if entry.positive is None:
            raise ValidationError({"positive": _("Say whether the pregnancy test is positive or negative.")})
        return None, entry.positive
    return _parse_value(entry.code, entry.value), None


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
    entry = LabEntry(code, taken_at, value, positive, status, external_id)
    return record_labs(actor, case, [entry], source=source, refresh=refresh)[0]


def record_labs(
    actor: Actor, case: Case, entries: Sequence[LabEntry], *, source: str = "manual", refresh: bool = True
) -> list[LabResult]:
    """Record results taken together (one lab message, one form): each checked as ``check`` does, all or none
    stored; then the same effects as one by one, written a statement per kind rather than per result. Returns the
    stored result of each entry, in order (the one already on record where the laboratory repeated itself)."""
    if actor.user is not None and not (may(actor.user, "case.admit") or may(actor.user, "case.clear")):
        raise NotPermitted(_("Your role does not allow entering lab results."))
    if source not in SOURCES:
        raise InvalidInput(format_lazy(_("Unknown lab source {source!r}."), source=source), field="source")
    checked = [check(entry) for entry in entries]
    names = [entry.external_id[:200] for entry in entries if entry.external_id]
    if len(set(names)) < len(names):  # the same result twice in one batch: the second corrects the first
        with transaction.atomic(savepoint=False):
            done = [r for e in entries for r in record_labs(actor, case, [e], source=source, refresh=False)]
            if refresh:
                refresh_findings(actor, case, done)
            return done
    with transaction.atomic(savepoint=False):  # every check is done: nothing below refuses half-way
        return _store(actor, case, entries, checked, source, refresh)


def _store(
    actor: Actor,
    case: Case,
    entries: Sequence[LabEntry],
    checked: list[tuple[Decimal | None, bool | None]],
    source: str,
    refresh: bool,
) -> list[LabResult]:
    tests, now = lab_rules.tests(), clock.current()
    names = [entry.external_id[:200] for entry in entries if entry.external_id]
    previous: dict[str, LabResult] = {}
    if names:
        current = LabResult.objects.select_for_update(no_key=True).filter(
            case=case, external_id__in=names, superseded_at__isnull=True
        )
        previous = {r.external_id: r for r in current}
    stored: list[LabResult | None] = []
    new: list[LabResult] = []
    replaced: list[LabResult | None] = []
    for entry, (number, positive) in zip(entries, checked, strict=True):
        before = previous.get(entry.external_id[:200]) if entry.external_id else None
        if before is not None and (before.code, before.value, before.positive, before.status) == (
            entry.code,
            number,
            positive,
            entry.status,
        ):
            stored.append(before)  # the laboratory sent the same result again: nothing changes
            continue
        stored.append(None)
        replaced.append(before)
        new.append(
            LabResult(
                case=case,
                code=entry.code,
                loinc=tests[entry.code].loinc,
                value=number,
                positive=positive,
                unit=tests[entry.code].unit,
                taken_at=entry.taken_at,
                entered_at=now,
                entered_by=actor.user_or_none,
                source=source,
                status=entry.status,
                external_id=entry.external_id[:200],
                corrects=before,
            )
        )
    if not new:
        return [r for r in stored if r is not None]
    LabResult.objects.bulk_create(new)
    gone = [before.pk for before in replaced if before is not None]
    if gone:
        LabResult.objects.filter(pk__in=gone).update(superseded_at=now)
    hcg = [r for r in new if r.code == "hcg" and r.status != ResultStatus.PRELIMINARY]
    if hcg:
        for task in Task.objects.select_for_update(no_key=True).filter(
            case=case, kind=TaskKind.HCG_TEST, status=TaskStatus.OPEN
        ):
            task.case = case
            outcome = gettext("positive") if hcg[-1].positive else gettext("negative")
            kernel.close_task(actor, task, TaskStatus.DONE, outcome)
    summaries = []
    for result, before in zip(new, replaced, strict=True):
        shown = _shown(result.code, result.value, result.positive)
        if before is not None:
            summaries.append(
                gettext("Lab corrected: {test} {old} → {new} ({status})").format(
                    test=tests[result.code].name,
                    old=_shown(before.code, before.value, before.positive),
                    new=shown,
                    status=ResultStatus(result.status).label,
                )
            )
            continue
        summary = gettext("Lab: {test} {value}").format(test=tests[result.code].name, value=shown)
        if result.status == ResultStatus.PRELIMINARY:
            summary += " " + gettext("(preliminary)")
        summaries.append(summary)
    kernel.record_events(actor, case, EventKind.NOTE, summaries)
    audit.record_each(
        actor,
        "lab",
        [
            (AuditAction.CREATE, r.pk, case.patient.uuid, r.code)
            if before is None
            else (AuditAction.UPDATE, r.pk, case.patient.uuid, f"{r.code} corrects {before.pk}")
            for r, before in zip(new, replaced, strict=True)
        ],
    )
    if refresh:  # a feed recording several batches refreshes once, after the last (refresh_findings)
        refresh_findings(actor, case, new)
    fresh = iter(new)
    return [r if r is not None else next(fresh) for r in stored]


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
