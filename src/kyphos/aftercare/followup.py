"""The follow-up visit (7–14 days after the procedure), its orders, the follow-up worklist and closing the case.

Orders at the visit: physical therapy (a printable referral letter), a bone-density evaluation with referral to
osteoporosis care (Medicare's continuum-of-care requirement, LCD L34228), imaging when a new fracture is
suspected (a scheduler task), and either another visit or discharge from the service. Closing the case has its own
guard: no open urgent task (a diary red flag) may be left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.aftercare import questionnaires, selectors
from kyphos.aftercare.models import FollowUpRecord, Questionnaire, ResponseContext
from kyphos.aftercare.outcomes import refresh
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import Text, gettext_noop
from kyphos.messaging import links
from kyphos.messaging.letters import LetterContent, issue_letter
from kyphos.messaging.models import Letter
from kyphos.pathway import kernel
from kyphos.pathway.errors import GuardBlocked, NotPermitted
from kyphos.pathway.kernel import owns
from kyphos.pathway.models import Case, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, may
from kyphos.pathway.stages import Stage
from kyphos.rules import questionnaires as q_rules
from kyphos.rules.findings import Finding, Severity
from kyphos.rules.windows import follow_up_window
from kyphos.scheduling.models import Visit
from kyphos.translation import Words, lazy

COMPLICATIONS = {
    "none": _("None since discharge"),
    "pain_new_level": _("New or different back pain (possible new fracture)"),
    "wound": _("Needle-site problem (redness, swelling, drainage)"),
    "neuro": _("New numbness or weakness"),
    "breathing": _("Chest pain or breathlessness"),
    "fever": _("Fever"),
    "readmitted": _("Admitted to a hospital since discharge"),
    "other": _("Other (see note)"),
}
RESTART_CHOICES = {"yes": _("Restarted"), "no": _("Not restarted"), "na": _("Not applicable")}
# Tasks that must not be left open when a case is closed.
URGENT_KINDS = {TaskKind.DIARY_EMERGENCY, TaskKind.DIARY_SAME_DAY}
MISSED_GRACE = timedelta(hours=2)


@dataclass(frozen=True)
class VisitInput:
    pain_today: int
    outcome: str
    medicines_restarted: dict[str, str] = field(default_factory=dict)
    complications: tuple[str, ...] = ()
    complication_note: str = ""
    new_fracture_suspected: bool = False
    pt_referral: bool = False
    pt_note: str = ""
    bmd_referral: bool = False
    bmd_note: str = ""
    note: str = ""
    window_reason: str = ""  # why the visit is recorded outside the 7–14-day window


def outside_window(case: Case, now: datetime) -> str:
    """Why recording the (first) follow-up visit now is outside the 7–14-day window ("" when inside it)."""
    if FollowUpRecord.objects.filter(case=case).exists():
        return ""  # a further visit the radiologist asked for has no window of its own
    record = selectors.procedure_record(case)
    start = record.started_at if record is not None else (case.appointment.start if case.appointment else None)
    if start is None:
        return ""
    window = follow_up_window(start, case.site.calendar())
    days = (when.local_day(now, case.site) - when.local_day(start, case.site)).days
    if now < window.start:
        return gettext("Day {days} after the procedure: the 7–14-day follow-up window opens {opens}.").format(
            days=days, opens=when.staff_when(window.start, case.site)
        )
    if now > window.end:
        return gettext("Day {days} after the procedure: the 7–14-day follow-up window closed {closed}.").format(
            days=days, closed=when.staff_when(window.end, case.site)
        )
    return ""


def _validate(item: VisitInput) -> dict[str, list[Words]]:
    errors: dict[str, list[Words]] = {}
    if not 0 <= item.pain_today <= 10:
        errors["pain_today"] = [_("Pain is scored from 0 to 10.")]
    if item.outcome not in FollowUpRecord.Outcome.values:
        errors["outcome"] = [_("Choose discharge from the service or another visit.")]
    unknown = set(item.complications) - set(COMPLICATIONS)
    if unknown or ("none" in item.complications and len(item.complications) > 1):
        errors["complications"] = [_("Choose “none”, or the complications seen.")]
    if "other" in item.complications and not item.complication_note.strip():
        errors["complication_note"] = [_("Describe the other complication.")]
    if set(item.medicines_restarted.values()) - set(RESTART_CHOICES):
        errors["medicines_restarted"] = [_("For each held medicine: restarted, not restarted or not applicable.")]
    if item.pt_referral and not item.pt_note.strip():
        errors["pt_note"] = [_("Say what physical therapy should work on (and any precautions).")]
    return errors


@owns("complete_followup")
@transaction.atomic
def record_visit(
    actor: Actor,
    case: Case,
    item: VisitInput,
    *,
    version: int | None,
    questionnaire: Questionnaire | None = None,
    answers: dict[str, Any] | None = None,
) -> FollowUpRecord:
    """Record the follow-up visit, its questionnaire and its orders; discharge from the service moves the case to
    follow-up done. Any error (a visit field or a questionnaire answer) writes nothing."""
    if actor.user is not None and not may(actor.user, "case.complete_followup"):
        raise NotPermitted(_("Only a radiologist records the follow-up visit."))
    locked = kernel.lock_case(case, version)
    if locked.stage != Stage.DISCHARGED:
        raise ValidationError(
            format_lazy(
                _("The follow-up visit is recorded after discharge (the case is {stage})."),
                stage=Stage(locked.stage).label.lower(),
            )
        )
    errors = _validate(item)
    early_or_late = outside_window(locked, clock.current())
    if early_or_late and not item.window_reason.strip():
        errors["window_reason"] = [early_or_late, gettext("Give a reason to record the visit now.")]
    if questionnaire is not None:
        try:
            q_rules.score(questionnaires.instrument(questionnaire), answers or {})
        except q_rules.AnswerError as exc:
            errors.update({f"q_{key}": [lazy(message)] for key, message in exc.errors.items()})
    if errors:
        raise ValidationError(errors)
    now = clock.current()
    if questionnaire is not None:
        questionnaires.record(
            actor, locked, questionnaire, ResponseContext.FOLLOW_UP, answers or {}, refresh_outcome=False
        )
    record = FollowUpRecord.objects.create(
        case=locked,
        at=now,
        by=actor.user,
        pain_today=item.pain_today,
        medicines_restarted=item.medicines_restarted,
        complications=list(item.complications),
        complication_note=item.complication_note.strip(),
        new_fracture_suspected=item.new_fracture_suspected,
        pt_referral=item.pt_referral,
        pt_note=item.pt_note.strip(),
        bmd_referral=item.bmd_referral,
        bmd_note=item.bmd_note.strip(),
        outcome=item.outcome,
        note=item.note.strip(),
    )
    visit = Visit.objects.filter(case_uuid=locked.uuid, status=Visit.Status.BOOKED).order_by("start").first()
    if visit is not None:
        visit.status = Visit.Status.COMPLETED
        visit.save(update_fields=["status"])
    if item.new_fracture_suspected:
        kernel.open_task(
            locked,
            TaskKind.IMAGING,
            Role.SCHEDULER,
            now,
            now + timedelta(days=2),
            note=gettext("New fracture suspected at follow-up: book imaging as ordered"),
        )
    if item.pt_referral:
        issue_letter(actor, locked, Letter.Kind.PT_REFERRAL, pt_letter(locked, record))
    if item.bmd_referral:
        issue_letter(actor, locked, Letter.Kind.BMD_REFERRAL, bmd_letter(locked, record))
    orders = [
        label
        for flag, label in (
            (item.pt_referral, gettext("physical therapy")),
            (item.bmd_referral, gettext("bone density")),
            (item.new_fracture_suspected, gettext("imaging")),
        )
        if flag
    ]
    summary = gettext("Follow-up visit: pain {pain}/10").format(pain=item.pain_today)
    if orders:
        summary += gettext("; ordered {orders}").format(orders=", ".join(orders))
    if early_or_late:
        summary += " — " + early_or_late
    kernel.record_event(actor, locked, EventKind.NOTE, summary, reason=item.window_reason.strip())
    audit.record(actor, AuditAction.CREATE, "follow_up", record.uuid, patient_uuid=locked.patient.uuid)
    links.end_after_follow_up(actor, locked, now)
    if item.outcome == FollowUpRecord.Outcome.FURTHER:
        kernel.open_task(
            locked,
            TaskKind.BOOK_FOLLOW_UP,
            Role.SCHEDULER,
            now,
            now + timedelta(days=3),
            note=gettext("Further follow-up visit requested by the radiologist"),
        )
    else:
        note = gettext("Discharged from the service at follow-up")
        locked, _event = kernel.move(actor, locked, "complete_followup", version=None, reason=note, already_locked=True)
        kernel.close_tasks(actor, locked, [TaskKind.BOOK_FOLLOW_UP], TaskStatus.DONE, gettext("follow-up done"))
    refresh(locked)
    return record


def close_findings(case: Case) -> list[Finding]:
    open_urgent = Task.objects.filter(Q(kind__in=URGENT_KINDS) | Q(urgent=True), case=case, status=TaskStatus.OPEN)
    labels = sorted({TaskKind(kind).label for kind in open_urgent.values_list("kind", flat=True)})
    return [
        Finding(
            "close.urgent_task_open",
            Severity.STOP,
            Text(
                gettext_noop("An urgent task is still open: {task}. Deal with it before closing the case."),
                task=str(label),
            ),
            "Local pathway: a case is closed only when no urgent task is open",
        )
        for label in labels
    ]


@owns("close")
@transaction.atomic
def close_case(actor: Actor, case: Case, *, version: int | None, note: str = "") -> Case:
    """Close after follow-up; refused while an urgent task is open (it cannot be overridden)."""
    findings = close_findings(case)
    if findings:
        raise GuardBlocked(findings, findings[0].message)
    locked, _event = kernel.move(actor, case, "close", version=version, reason=note)
    kernel.close_tasks(actor, locked, None, TaskStatus.DONE, gettext("closed"))
    links.revoke(actor, locked, "the case closed")  # the patient's pages end with the case
    return locked


def mark_missed_visits(now: datetime | None = None) -> int:
    """A booked follow-up visit whose time has passed (2 h grace) is missed: the scheduler gets a task."""
    now = now or clock.current()
    count = 0
    for visit in Visit.objects.filter(status=Visit.Status.BOOKED, start__lt=now - MISSED_GRACE):
        with transaction.atomic():
            locked = Visit.objects.select_for_update(no_key=True).get(pk=visit.pk)
            if locked.status != Visit.Status.BOOKED:
                continue
            locked.status = Visit.Status.MISSED
            locked.save(update_fields=["status"])
            case = Case.objects.filter(uuid=locked.case_uuid).select_related("site").first()
            if case is None or case.stage != Stage.DISCHARGED:
                continue
            kernel.open_task(
                case,
                TaskKind.BOOK_FOLLOW_UP,
                Role.SCHEDULER,
                now,
                now + timedelta(days=1),
                note=gettext("Follow-up visit missed on {day}").format(day=when.staff_day(locked.start, case.site)),
            )
            count += 1
    return count


def _patient_lines(case: Case) -> list[str]:
    p = case.patient
    return [
        gettext("Patient: {family}, {given}").format(family=p.family_name.upper(), given=p.given_name),
        gettext("Date of birth: {born}").format(born=when.staff_date(p.date_of_birth)),
        gettext("MRN: {mrn}").format(mrn=p.mrn),
    ]


def _procedure_line(case: Case) -> str:
    record = selectors.procedure_record(case)
    levels = ", ".join(lvl.level for lvl in record.levels.all()) if record is not None else ""
    if record is None:
        line = gettext("Balloon kyphoplasty")
    else:
        line = gettext("Balloon kyphoplasty {day}").format(
            day=when.staff_date(when.local_day(record.started_at, case.site))
        )
    return line + (gettext(", levels {levels}").format(levels=levels) if levels else "")


def pt_letter(case: Case, record: FollowUpRecord) -> LetterContent:
    """A referral to physical therapy, for the patient to take or for staff to send (in the site's language)."""
    doctor = record.by.get_full_name() or record.by.get_username()
    return LetterContent(
        title=gettext("Referral to physical therapy"),
        language=settings.LANGUAGE_CODE,
        blocks=(
            ("ul", _patient_lines(case)),
            ("h", gettext("Reason")),
            (
                "p",
                gettext(
                    "{procedure} for a painful vertebral compression fracture ({cause}). Pain today {pain}/10 "
                    "(before the procedure {before}/10)."
                ).format(
                    procedure=_procedure_line(case),
                    cause=case.get_etiology_display().lower(),
                    pain=record.pain_today,
                    before=case.pain_nrs,
                ),
            ),
            ("h", gettext("Please")),
            ("p", record.pt_note),
            ("h", gettext("Contact")),
            ("p", _contact(case, doctor)),
        ),
        footer=_issued(case, doctor),
    )


def _contact(case: Case, doctor: str) -> str:
    return gettext("{doctor}, interventional radiology, {site}. Telephone {phone}.").format(
        doctor=doctor, site=case.site.name, phone=case.site.phone
    )


def _issued(case: Case, doctor: str) -> str:
    return gettext("Issued {when} by {doctor}.").format(when=when.staff_when(clock.current(), case.site), doctor=doctor)


def bmd_letter(case: Case, record: FollowUpRecord) -> LetterContent:
    doctor = record.by.get_full_name() or record.by.get_username()
    return LetterContent(
        title=gettext("Referral: bone density evaluation and osteoporosis care"),
        language=settings.LANGUAGE_CODE,
        blocks=(
            ("ul", _patient_lines(case)),
            ("h", gettext("Reason")),
            (
                "p",
                gettext(
                    "{procedure} for a vertebral compression fracture ({cause}). A fragility fracture of the spine "
                    "calls for a bone mineral density (DXA) evaluation, osteoporosis education and a prevention or "
                    "treatment programme."
                ).format(procedure=_procedure_line(case), cause=case.get_etiology_display().lower()),
            ),
            (
                "p",
                gettext(
                    "This referral is part of the continuum of care that Medicare coverage of vertebral "
                    "augmentation requires (Medicare LCD L34228 and its family)."
                ),
            ),
            *((("h", gettext("Notes")), ("p", record.bmd_note)) if record.bmd_note else ()),
            ("h", gettext("Contact")),
            ("p", _contact(case, doctor)),
        ),
        footer=_issued(case, doctor),
    )
