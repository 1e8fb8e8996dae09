"""Lab results: one way in for every source (typed on the admission screen, the HL7 lab feed, the FHIR API).

``record_lab`` checks the value against what is possible for the test, stores it with its LOINC code and
source, closes the pregnancy-test task when an hCG arrives, and writes the timeline event and the audit row;
``lab_values`` and ``lab_policy`` are what the procedure's readiness rules read.
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
from kyphos.labs.models import LabResult
from kyphos.pathway import kernel
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import Case, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import may
from kyphos.rules import data
from kyphos.rules import labs as lab_rules

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
) -> LabResult:
    """Record one lab result (by hand today; the HL7 feed will call this same function)."""
    if actor.user is not None and not (may(actor.user, "case.admit") or may(actor.user, "case.clear")):
        raise NotPermitted(_("Your role does not allow entering lab results."))
    if source not in SOURCES:
        raise InvalidInput(format_lazy(_("Unknown lab source {source!r}."), source=source), field="source")
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
    )
    if code == "hcg":
        for task in Task.objects.select_for_update().filter(case=case, kind=TaskKind.HCG_TEST, status=TaskStatus.OPEN):
            task.case = case
            kernel.close_task(actor, task, TaskStatus.DONE, gettext("positive") if positive else gettext("negative"))
    kernel.record_event(
        actor,
        case,
        EventKind.NOTE,
        f"Lab: {tests[code].name} {'positive' if positive else 'negative' if code == 'hcg' else number}",
    )
    audit.record(actor, AuditAction.CREATE, "lab", result.pk, patient_uuid=case.patient.uuid, detail=code)
    return result


def results(case: Case) -> list[LabResult]:
    """The case's results as stored, newest first (what the admission screen lists)."""
    return list(LabResult.objects.filter(case=case))


def lab_values(case: Case) -> list[lab_rules.LabValue]:
    """The case's results as the lab rules read them (newest first)."""
    return [lab_rules.LabValue(r.code, r.value, r.taken_at, r.positive) for r in LabResult.objects.filter(case=case)]


def lab_policy(case: Case) -> lab_rules.LabPolicy:
    site = case.site
    hcg = case.tasks.filter(kind=TaskKind.HCG_TEST).exists()
    return lab_rules.policy(site.inr_max, site.lab_freshness_days, hcg_required=hcg)
