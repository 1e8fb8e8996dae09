"""Recovery, the ward stay and discharge.

A leg check worse than the first (baseline) check raises a stop and an urgent radiologist task (new weakness or
numbness after augmentation needs an emergent CT and a spine-surgery consult: RadiologyKey, post-vertebral-
augmentation spine imaging). Discharge checks the criteria, writes
the patient's instructions (restart times of every held medicine included) and books the follow-up visit in the
7–14 day window; if no slot is free, the scheduler's task stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.aftercare import selectors
from kyphos.aftercare.letter import discharge_letter
from kyphos.aftercare.models import PainScore, RecoveryCheck, Stay
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import Text, gettext_noop
from kyphos.messaging.letters import issue_letter
from kyphos.messaging.models import Letter
from kyphos.pathway import kernel
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.kernel import owns
from kyphos.pathway.models import Case, EventKind, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, may
from kyphos.pathway.stages import Stage
from kyphos.procedure.services import VITAL_BOUNDS
from kyphos.rules.findings import Finding, Severity
from kyphos.rules.windows import follow_up_window
from kyphos.scheduling import services as scheduling

DISCHARGE_CRITERIA = {
    "ambulating": _("Walking safely"),
    "pain_controlled": _("Pain controlled on oral medicine"),
    "voiding": _("Passing urine"),
    "neuro_intact": _("Legs: strength and sensation as before"),
}


def _require_ward(actor: Actor) -> None:
    if actor.user is not None and not (may(actor.user, "case.discharge")):
        raise NotPermitted(_("Only ward nurses and radiologists record recovery and discharge."))


@dataclass(frozen=True)
class CheckInput:
    legs_strength_normal: bool
    legs_sensation_normal: bool
    bp_systolic: int | None = None
    bp_diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    pain_nrs: int | None = None
    puncture_sites: str = "dry"
    note: str = ""


# The bounds of a recovery check's numbers (the admission's for the vital signs; pain 0–10).
CHECK_BOUNDS = {
    **{name: VITAL_BOUNDS[name] for name in ("bp_systolic", "bp_diastolic", "heart_rate", "spo2")},
    "pain_nrs": (0, 10),
}


@transaction.atomic
def record_check(actor: Actor, case: Case, item: CheckInput) -> RecoveryCheck:
    _require_ward(actor)
    if case.stage != Stage.RECOVERY:
        raise ValidationError(_("Recovery checks are recorded while the patient is in recovery or on the ward."))
    errors = {}
    for name, (low, high) in CHECK_BOUNDS.items():
        value = getattr(item, name)
        if value is not None and not low <= value <= high:
            errors[name] = format_lazy(
                _("{value} is not a possible value ({low}–{high})."), value=value, low=low, high=high
            )
    if item.puncture_sites not in RecoveryCheck.Sites.values:
        errors["puncture_sites"] = _("Choose how the puncture sites look.")
    if errors:
        raise ValidationError(errors)
    baseline = RecoveryCheck.objects.filter(case=case).first()
    check = RecoveryCheck.objects.create(
        case=case,
        at=clock.current(),
        by=actor.user_or_none,
        **{k: getattr(item, k) for k in CheckInput.__dataclass_fields__},
    )
    worse = baseline is not None and (
        (baseline.legs_strength_normal and not item.legs_strength_normal)
        or (baseline.legs_sensation_normal and not item.legs_sensation_normal)
    )
    if worse:
        finding = Finding(
            "recovery.neuro_worse",
            Severity.STOP,
            Text(
                gettext_noop(
                    "Leg strength or sensation is worse than at the first check: urgent radiologist review "
                    "(emergent CT, spine surgery consult)."
                )
            ),
            "RadiologyKey, post-vertebral-augmentation spine imaging (new neurologic deficit: emergent CT "
            "and spine-surgery consult); Tri-State Brain & Spine post-kyphoplasty sheet",
            "S",
        )
        now = clock.current()
        kernel.open_task(
            case,
            TaskKind.REVIEW_FLAG,
            Role.RADIOLOGIST,
            now,
            now + timedelta(minutes=30),
            note=str(finding.message),
        )
        kernel.raise_findings(actor, case, [finding], "Recovery: neuro check worse than baseline", reason=item.note)
    audit.record(actor, AuditAction.CREATE, "recovery_check", check.pk, patient_uuid=case.patient.uuid)
    return check


@transaction.atomic
def admit_to_ward(actor: Actor, case: Case, bed: str = "") -> Stay:
    _require_ward(actor)
    if case.stage != Stage.RECOVERY:
        raise ValidationError(_("Only a patient in recovery goes to the ward."))
    stay, _created = Stay.objects.get_or_create(case=case)
    if stay.ward_admitted_at:
        raise ValidationError(_("Already on the ward."))
    stay.ward_admitted_at, stay.ward_bed = clock.current(), bed[:40]
    stay.save()
    kernel.record_event(
        actor,
        case,
        EventKind.NOTE,
        gettext("To the ward ({bed})").format(bed=bed) if bed else gettext("To the ward"),
    )
    audit.record(actor, AuditAction.UPDATE, "stay", stay.pk, patient_uuid=case.patient.uuid, detail="ward")
    return stay


@transaction.atomic
def record_pain(actor: Actor, case: Case, nrs: int) -> PainScore:
    _require_ward(actor)
    if not 0 <= nrs <= 10:
        raise ValidationError({"nrs": _("Pain is scored 0 to 10.")})
    score = PainScore.objects.create(case=case, at=clock.current(), nrs=nrs, by=actor.user_or_none)
    audit.record(actor, AuditAction.CREATE, "pain_score", score.pk, patient_uuid=case.patient.uuid)
    return score


@owns("discharge")
@transaction.atomic
def discharge(
    actor: Actor, case: Case, *, version: int | None, criteria: set[str], note: str = "", early_reason: str = ""
) -> Stay:
    """Discharge from recovery or the ward. Before the site's minimum recovery, with fewer checks than it asks, or
    with the last check outside its vital-sign limits, a radiologist gives a reason, shown on the timeline."""
    _require_ward(actor)
    missing = [label for key, label in DISCHARGE_CRITERIA.items() if key not in criteria]
    if missing:
        raise ValidationError([format_lazy(_("Not met: {criterion}."), criterion=label) for label in missing])
    questions = discharge_questions(case)
    if questions and not early_reason.strip():
        raise ValidationError(
            {"early_reason": [*questions, gettext("A radiologist may discharge earlier with a reason.")]}
        )
    if questions and (actor.user is None or not may(actor.user, "discharge.early")):
        raise NotPermitted(_("Only a radiologist discharges before the site's recovery policy is met."))
    if case.open_stops and any(
        f.get("code") == "recovery.neuro_worse" and not f.get("overridden") for f in case.findings
    ):
        raise ValidationError(_("A worse neuro check is open: the radiologist must review before discharge."))
    locked, _event = kernel.move(actor, case, "discharge", version=version, reason=note)
    if questions:
        summary = gettext("Discharged early: {questions}").format(questions=" ".join(questions))
        kernel.record_override(actor, locked, summary, early_reason, "early discharge")
    stay, _created = Stay.objects.get_or_create(case=locked)
    stay.discharged_at, stay.discharged_by = clock.current(), actor.user_or_none
    stay.discharge_criteria = {key: True for key in DISCHARGE_CRITERIA}
    stay.save()
    start = locked.appointment.start if locked.appointment else clock.current()
    window = follow_up_window(start, locked.site.calendar())
    # The scheduler's task stays open when no slot in the window is free.
    kernel.open_task(
        locked,
        TaskKind.BOOK_FOLLOW_UP,
        Role.SCHEDULER,
        clock.current(),
        window.start,
        note=gettext("Visit due {start} – {end}").format(
            start=_site_time(locked, window.start), end=_site_time(locked, window.end)
        ),
    )
    visit = scheduling.book_follow_up(locked.uuid, locked.site, window.start, window.end)
    if visit is not None:
        kernel.close_tasks(
            actor, locked, [TaskKind.BOOK_FOLLOW_UP], TaskStatus.DONE, gettext("follow-up booked at discharge")
        )
        kernel.record_event(
            actor,
            locked,
            EventKind.NOTE,
            gettext("Follow-up visit booked {when}").format(when=when.staff_when(visit.start, locked.site, zone=False)),
        )
    issue_letter(actor, locked, Letter.Kind.DISCHARGE, discharge_letter(locked, visit))
    return stay


VITAL_WORDS = {
    "bp_systolic": _("Systolic blood pressure"),
    "bp_diastolic": _("Diastolic blood pressure"),
    "heart_rate": _("Heart rate"),
    "spo2": _("SpO₂"),
}


def discharge_questions(case: Case) -> list[str]:
    """Why discharging now would be earlier than the site's policy: too soon after the procedure's end, fewer
    recovery checks than it asks, or the last check outside its vital-sign limits (empty: nothing to question)."""
    site, now = case.site, clock.current()
    found: list[str] = []
    record = selectors.procedure_record(case)
    if record is not None and record.ended_at is not None:
        elapsed = now - record.ended_at
        if elapsed < timedelta(hours=site.discharge_min_hours):
            found.append(
                gettext("Only {elapsed} since the procedure ended; the site's minimum is {hours} h.").format(
                    elapsed=when.duration(elapsed), hours=site.discharge_min_hours
                )
            )
    checks = list(RecoveryCheck.objects.filter(case=case))
    if len(checks) < site.discharge_min_checks:
        found.append(
            gettext("{count} recovery checks recorded; the site asks for {needed}.").format(
                count=len(checks), needed=site.discharge_min_checks
            )
        )
    if checks:
        last = checks[-1]
        for name, (low, high) in (site.vital_limits or {}).items():
            value = getattr(last, name, None)
            if value is not None and not low <= value <= high:
                found.append(
                    gettext("Last check: {what} {value} is outside {low}–{high}.").format(
                        what=VITAL_WORDS.get(name, name), value=value, low=low, high=high
                    )
                )
    return found


def _site_time(case: Case, moment: datetime) -> str:
    return when.staff_when(moment, case.site, zone=True)
