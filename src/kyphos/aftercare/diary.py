"""The patient's symptom diary: one short entry a day, red flags answered at once.

An entry is Kyphos's own short questionnaire (pain, pain medicines, walking, daily activities), the red-flag
questions of rules/data/redflags.toml, an optional temperature and free text. The strongest red flag decides
what happens (Krames/BayCare and Tri-State Brain & Spine kyphoplasty discharge sheets):

- emergency: the patient sees "call emergency services now"; an urgent nurse task heads the worklist (15 min);
- same day: the patient sees "call us today"; a nurse task due within 4 hours;
- review: a radiologist task due within 2 days.

Back pain that returns is also caught from the numbers: a pain score 3 or more points above the lowest score
since the procedure raises the "pain returns" flag even if the patient did not tick it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, measures, when
from kyphos.aftercare import questionnaires
from kyphos.aftercare.models import DiaryEntry, ResponseContext
from kyphos.aftercare.outcomes import procedure_end, refresh
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.pathway import kernel
from kyphos.pathway.models import Case, EventKind, TaskKind
from kyphos.pathway.policy import Role
from kyphos.pathway.stages import Stage
from kyphos.rules import questionnaires as q_rules
from kyphos.rules import redflags
from kyphos.translation import lazy

OPEN_STAGES = {Stage.RECOVERY, Stage.DISCHARGED, Stage.FOLLOWUP_DONE}
PAIN_RETURN_POINTS = 3
TASKS = {
    redflags.Action.EMERGENCY: (TaskKind.DIARY_EMERGENCY, Role.NURSE, timedelta(minutes=15), True),
    redflags.Action.SAME_DAY: (TaskKind.DIARY_SAME_DAY, Role.NURSE, timedelta(hours=4), False),
    redflags.Action.REVIEW: (TaskKind.DIARY_REVIEW, Role.RADIOLOGIST, timedelta(days=2), False),
}


@dataclass(frozen=True)
class DiaryInput:
    answers: dict[str, Any]  # the short questionnaire: linkId → answer
    flags: dict[str, Any]  # red-flag id → "yes" / "no"
    temperature: str = ""
    note: str = ""
    admitted: str | None = None  # admitted to a hospital since discharge: "yes" / "no" (None: not asked)


def closed_message(case: Case) -> Any:
    """Why the diary does not take an entry for this case now (a lazy, translatable sentence), or None."""
    if case.stage in (Stage.CLOSED, Stage.CANCELLED):
        return _("Your care with this service has ended, so the diary is closed. If you feel unwell, call your doctor.")
    if case.stage not in OPEN_STAGES:
        return _("Your diary opens after your procedure.")
    return None


def _flags(raw: dict[str, Any]) -> tuple[dict[str, bool], dict[str, Any]]:
    """Every red-flag question must be answered: an unanswered one is an error, never a silent "no"."""
    answers: dict[str, bool] = {}
    errors: dict[str, Any] = {}
    for flag_id in redflags.flags():
        value = str(raw.get(flag_id, "")).lower()
        if value in {"yes", "true", "1"}:
            answers[flag_id] = True
        elif value in {"no", "false", "0"}:
            answers[flag_id] = False
        else:
            errors[f"flag_{flag_id}"] = _("Please answer yes or no.")
    unknown = set(raw) - set(redflags.flags())
    for flag_id in unknown:
        errors[f"flag_{flag_id}"] = _("This question is not part of the diary.")
    return answers, errors


def _temperature(text: str, unit: str) -> Decimal | None:
    """The patient's temperature, typed in the site's unit, in °C (a body can be from 34 to 43 °C)."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    symbol = measures.SYMBOL[unit]
    example = measures.from_celsius(Decimal("37.2"), unit)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(
            format_lazy(_("Enter your temperature in {unit}, for example {example}."), unit=symbol, example=example)
        ) from None
    low, high = (measures.from_celsius(Decimal(bound), unit) for bound in (34, 43))
    if not value.is_finite() or not low <= value <= high:
        raise ValueError(
            format_lazy(_("Enter a temperature in {unit} between {low} and {high}."), unit=symbol, low=low, high=high)
        )
    return measures.to_celsius(value, unit)


@transaction.atomic
def record_entry(actor: Actor, case: Case, entry: DiaryInput) -> DiaryEntry:
    """Store one diary entry and open the task its red flags call for. Bad input changes nothing."""
    case = Case.objects.select_for_update(no_key=True).select_related("patient", "site").get(pk=case.pk)
    refusal = closed_message(case)
    if refusal:
        raise ValidationError(refusal)
    flag_answers, errors = _flags(entry.flags)
    temperature = None
    try:
        temperature = _temperature(entry.temperature, measures.unit_of(case.site))
    except ValueError as exc:
        errors["temperature"] = exc.args[0]
    admitted = None
    if entry.admitted is not None:
        admitted = {"yes": True, "no": False}.get(entry.admitted.strip().lower())
        if admitted is None:
            errors["admitted"] = _("Please answer yes or no.")
    note = entry.note.strip()
    if "\x00" in note or len(note) > 2000:
        errors["note"] = _("Please keep your note under 2000 characters.")
    recovery = questionnaires.recovery()
    try:
        q_rules.score(questionnaires.instrument(recovery), entry.answers)
    except q_rules.AnswerError as exc:
        errors.update({key: lazy(message) for key, message in exc.errors.items()})
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    response = questionnaires.record(
        actor, case, recovery, ResponseContext.DIARY, entry.answers, author="patient", refresh_outcome=False
    )
    pain = int(response.answer("pain"))
    site_flags = case.site.redflags()
    raised = list(redflags.evaluate(flag_answers, temperature, site_flags).flags)
    since = procedure_end(case)
    earlier = DiaryEntry.objects.filter(case=case, **({"at__gte": since} if since else {}))
    lowest = min((e.pain for e in earlier), default=None)
    pain_flag = site_flags.flags["pain_returns"]
    if lowest is not None and pain >= lowest + PAIN_RETURN_POINTS and pain_flag not in raised:
        raised.append(pain_flag)
    action = max((f.action for f in raised), key=lambda a: a.rank) if raised else None
    now = clock.current()
    diary = DiaryEntry.objects.create(
        case=case,
        day=when.local_day(now, case.site),
        at=now,
        response=response,
        pain=pain,
        red_flags=[f.id for f in raised],
        answers=flag_answers,
        temperature_c=temperature,
        admitted=admitted,
        action=action.value if action else "",
        note=note,
    )
    if action is not None:
        kind, role, within, urgent = TASKS[action]
        kernel.open_task(
            case,
            kind,
            role,
            now,
            now + within,
            urgent=urgent,
            note=gettext("Diary: {flags}").format(
                flags="; ".join(f.question.get(settings.LANGUAGE_CODE) or f.question["en"] for f in raised)
            ),
        )
        kernel.record_event(
            actor,
            case,
            EventKind.NOTE,
            gettext("Diary red flag ({action}): {flags}").format(
                action=action.value.replace("_", " "), flags=", ".join(f.id for f in raised)
            ),
        )
    if admitted:  # the service learns of it on the timeline (and the dashboard counts it)
        kernel.record_event(actor, case, EventKind.NOTE, gettext("Diary: admitted to a hospital since discharge"))
    audit.record(
        actor,
        AuditAction.CREATE,
        "diary_entry",
        diary.uuid,
        patient_uuid=case.patient.uuid,
        detail=f"pain {pain}" + (f", {action.value}" if action else ""),
    )
    refresh(case)
    return diary


def entries(case: Case) -> list[DiaryEntry]:
    return list(DiaryEntry.objects.filter(case=case).select_related("response"))
