"""The only functions that change cases, their timeline and their tasks.

Each public function is one transaction: it checks who may act, that the move is in the transition table
and that the case is the version the user saw; it asks the guard for findings, refuses on a stop unless a
permitted role overrides it with a reason, writes the change, the timeline event and the audit entry. The
web UI, the FHIR API and the HL7 handlers all call these same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.pathway import kernel, selectors
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.kernel import owns, require
from kyphos.pathway.models import (
    Case,
    CaseLevel,
    Eligibility,
    Etiology,
    EventKind,
    Task,
    TaskKind,
    TaskStatus,
)
from kyphos.pathway.policy import Role, may, roles_of
from kyphos.pathway.stages import CancelReason, PostponeReason, Stage, check_move
from kyphos.patients import services as patients
from kyphos.patients.models import Patient
from kyphos.rules import triage as triage_rules
from kyphos.rules.findings import Severity
from kyphos.rules.levels import InvalidLevel, parse_level
from kyphos.rules.windows import call_window
from kyphos.scheduling import services as booking
from kyphos.scheduling.models import AppointmentStatus, Room, Site

SCREEN_FLAGS = (
    "infection",
    "pregnant",
    "pain_not_from_fracture",
    "cement_allergy",
    "contrast_allergy",
    "uncorrected_coagulopathy",
    "retropulsion",
    "neuro_deficit",
    "spinal_instability",
)
# How long each kind of task may wait when no clinical window governs it (local policy, not a guideline).
TRIAGE_DAYS = 2
BOOK_DAYS = 5


@dataclass(frozen=True)
class LevelInput:
    level: str
    acuity: str
    edema: str
    height_loss_percent: int | None = None


@dataclass(frozen=True)
class ReferralDetails:
    referring_clinician: str
    etiology: str
    pain_nrs: int
    levels: list[LevelInput]
    referral_date: date | None = None  # defaults to today in the site's zone
    referring_contact: str = ""
    steroid_disease: str = ""
    neoplastic_kind: str = ""
    etiology_note: str = ""
    hospitalized: bool = False
    weeks_conservative_care: int | None = None
    rdq: int | None = None
    pain_trend: str = ""
    kyphotic_deformity: bool = False
    progressive_height_loss: bool = False
    medications_note: str = ""
    clinical_note: str = ""
    screen: dict[str, bool] = field(default_factory=dict)


# --- helpers -------------------------------------------------------------------------------------------


def _site_now_window(case: Case, days: int) -> tuple[datetime, datetime]:
    start = clock.current()
    return start, start + timedelta(days=days)


# --- referral and triage --------------------------------------------------------------------------------


def triage_facts(case: Case, levels: list[CaseLevel] | None = None) -> triage_rules.TriageFacts:
    levels = levels if levels is not None else list(case.levels.all())
    return triage_rules.TriageFacts(
        levels=tuple(
            triage_rules.LevelFacts(
                lv.level,
                triage_rules.Acuity(lv.acuity),
                triage_rules.Evidence(lv.edema),
                lv.height_loss_percent,
            )
            for lv in levels
        ),
        etiology=triage_rules.Etiology(case.etiology),
        pain_nrs=case.pain_nrs,
        hospitalized=case.hospitalized,
        weeks_conservative_care=case.weeks_conservative_care,
        pain_trend=triage_rules.PainTrend(case.pain_trend) if case.pain_trend else None,
        kyphotic_deformity=case.kyphotic_deformity,
        progressive_height_loss=case.progressive_height_loss,
        rdq=case.rdq,
        **{flag: bool(getattr(case, flag)) for flag in SCREEN_FLAGS},
    )


def _validate_referral(details: ReferralDetails) -> list[str]:
    errors: dict[str, Any] = {}
    names: list[str] = []
    if not details.levels:
        errors["levels"] = _("Give at least one vertebral level (T1–T12, L1–L5).")
    for item in details.levels:
        try:
            name = parse_level(item.level)
        except InvalidLevel as exc:
            errors["levels"] = str(exc)
            break
        if name in names:
            errors["levels"] = format_lazy(_("{name} is listed twice."), name=name)
            break
        names.append(name)
        if item.height_loss_percent is not None and not 0 <= item.height_loss_percent <= 100:
            errors["levels"] = format_lazy(_("{name}: height loss must be 0–100 %."), name=name)
    if not 0 <= details.pain_nrs <= 10:
        errors["pain_nrs"] = _("Pain is scored 0 to 10.")
    if details.rdq is not None and not 0 <= details.rdq <= 24:
        errors["rdq"] = _("The RDQ score runs 0 to 24.")
    if details.etiology not in Etiology.values:
        errors["etiology"] = _("Choose the cause of the fracture.")
    if details.etiology == Etiology.STEROID and not details.steroid_disease:
        errors["steroid_disease"] = _("Say which disease the steroids are for.")
    if details.etiology == Etiology.NEOPLASTIC and not details.neoplastic_kind:
        errors["neoplastic_kind"] = _("Say whether this is myeloma or a metastasis.")
    if not details.referring_clinician.strip():
        errors["referring_clinician"] = _("Enter the referring clinician.")
    unknown = set(details.screen) - set(SCREEN_FLAGS)
    if unknown:
        errors["screen"] = format_lazy(_("Unknown screening item: {names}."), names=", ".join(sorted(unknown)))
    if errors:
        raise ValidationError(errors)
    return names


@transaction.atomic
def refer_case(actor: Actor, patient: Patient, site: Site, details: ReferralDetails) -> Case:
    """Open a case from a referral and queue it for the radiologist's triage."""
    require(actor, "case.refer")
    names = _validate_referral(details)
    moment = clock.current()
    referral_date = details.referral_date or when.local_day(moment, site)
    case = Case.objects.create(
        patient=patient,
        site=site,
        stage=Stage.REFERRED,
        stage_changed_at=moment,
        referral_date=referral_date,
        referring_clinician=details.referring_clinician.strip(),
        referring_contact=details.referring_contact.strip(),
        etiology=details.etiology,
        steroid_disease=details.steroid_disease if details.etiology == Etiology.STEROID else "",
        neoplastic_kind=details.neoplastic_kind if details.etiology == Etiology.NEOPLASTIC else "",
        etiology_note=details.etiology_note,
        pain_nrs=details.pain_nrs,
        hospitalized=details.hospitalized,
        weeks_conservative_care=details.weeks_conservative_care,
        pain_trend=details.pain_trend,
        kyphotic_deformity=details.kyphotic_deformity,
        progressive_height_loss=details.progressive_height_loss,
        rdq=details.rdq,
        medications_note=details.medications_note,
        clinical_note=details.clinical_note,
        created_at=moment,
        updated_at=moment,
        **{flag: bool(details.screen.get(flag, False)) for flag in SCREEN_FLAGS},
    )
    levels = []
    for name, item in zip(names, details.levels, strict=True):
        level = CaseLevel(
            case=case,
            level=name,
            acuity=item.acuity,
            edema=item.edema,
            height_loss_percent=item.height_loss_percent,
        )
        level.save()
        levels.append(level)
    findings = triage_rules.triage_findings(triage_facts(case, levels))
    case.findings = kernel.findings_json(findings)
    case.open_stops = sum(1 for f in findings if f.severity is Severity.STOP)
    case.save(update_fields=["findings", "open_stops"])
    kernel.record_event(
        actor,
        case,
        EventKind.REFERRED,
        gettext("Referred by {clinician}: {levels}").format(
            clinician=case.referring_clinician, levels=", ".join(names)
        ),
        to_stage=Stage.REFERRED,
        data={"levels": names, "findings": [f.code for f in findings]},
    )
    start, end = _site_now_window(case, TRIAGE_DAYS)
    kernel.open_task(case, TaskKind.TRIAGE, Role.RADIOLOGIST, start, end)
    audit.record(actor, AuditAction.CREATE, "case", case.uuid, patient_uuid=patient.uuid, detail="referral")
    return case


@owns("triage")
@transaction.atomic
def triage_case(
    actor: Actor,
    case: Case,
    *,
    version: int | None,
    reason: str = "",
    screen: dict[str, bool] | None = None,
    override_reason: str = "",
) -> Case:
    """Record the radiologist's decision that the referral is eligible; opens the booking task."""
    require(actor, "case.triage")
    locked = kernel.lock_case(case, version)
    changed = _apply_screen(locked, screen)
    findings = triage_rules.triage_findings(triage_facts(locked))
    locked, _event = kernel.move(
        actor,
        locked,
        "triage",
        version=None,
        findings=findings,
        override_reason=override_reason,
        reason=reason,
        data={"screen_changed": changed},
        already_locked=True,
    )
    locked.eligibility = Eligibility.ELIGIBLE
    locked.eligibility_reason = reason
    locked.triaged_by = actor.user_or_none
    locked.triaged_at = clock.current()
    locked.save(update_fields=["eligibility", "eligibility_reason", "triaged_by", "triaged_at", *changed])
    kernel.close_tasks(actor, locked, [TaskKind.TRIAGE, TaskKind.REVIEW_FLAG], TaskStatus.DONE, gettext("eligible"))
    start, end = _site_now_window(locked, BOOK_DAYS)
    kernel.open_task(locked, TaskKind.BOOK, Role.SCHEDULER, start, end)
    return locked


@owns("decline")
@transaction.atomic
def decline_case(
    actor: Actor, case: Case, *, version: int | None, reason: str, screen: dict[str, bool] | None = None
) -> Case:
    """Record that the referral is not eligible, with the reason; the case closes and keeps its history."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the referral is not eligible.")})
    require(actor, "case.decline")
    locked = kernel.lock_case(case, version)
    changed = _apply_screen(locked, screen)
    findings = triage_rules.triage_findings(triage_facts(locked))
    # A decision not to treat is never blocked by a stop finding: drop the stops from the guard.
    advisory = [f for f in findings if f.severity is not Severity.STOP]
    locked, _event = kernel.move(
        actor, locked, "decline", version=None, findings=advisory, reason=reason, already_locked=True
    )
    locked.findings = kernel.findings_json(findings, overridden=True)
    locked.eligibility = Eligibility.INELIGIBLE
    locked.eligibility_reason = reason
    locked.triaged_by = actor.user_or_none
    locked.triaged_at = clock.current()
    locked.end_reason = CancelReason.NOT_ELIGIBLE
    locked.end_note = reason
    locked.save(
        update_fields=[
            "findings",
            "eligibility",
            "eligibility_reason",
            "triaged_by",
            "triaged_at",
            "end_reason",
            "end_note",
            *changed,
        ]
    )
    kernel.close_tasks(actor, locked, None, TaskStatus.DONE, gettext("not eligible"))
    return locked


def _apply_screen(case: Case, screen: dict[str, bool] | None) -> list[str]:
    if not screen:
        return []
    unknown = set(screen) - set(SCREEN_FLAGS)
    if unknown:
        raise ValidationError(
            {"screen": format_lazy(_("Unknown screening item: {names}."), names=", ".join(sorted(unknown)))}
        )
    changed = [flag for flag, value in screen.items() if bool(getattr(case, flag)) != bool(value)]
    for flag in changed:
        setattr(case, flag, bool(screen[flag]))
    return changed


# --- booking ---------------------------------------------------------------------------------------------


def _open_call_task(case: Case) -> Task:
    assert case.appointment is not None
    window = call_window(case.appointment.start, case.site.calendar())
    note = gettext("Window moved to the last business day before it.") if window.moved else ""
    return kernel.open_task(case, TaskKind.PRECALL, Role.NURSE, window.start, window.end, note)


@owns("book")
@transaction.atomic
def book_case(
    actor: Actor,
    case: Case,
    *,
    version: int | None,
    room: Room,
    start: datetime,
    minutes: int,
    override_reason: str = "",
) -> Case:
    """Book the procedure in a room; the call task opens with the 24–48 h call window. A time outside the site's
    hours, a call window or arrival already past, or a blood-thinner hold that cannot fit needs a reason."""
    require(actor, "case.book")
    locked = kernel.lock_case(case, version)
    check_move(locked.stage, "book")
    if locked.eligibility != Eligibility.ELIGIBLE:
        raise ValidationError(_("Only a case triaged as eligible can be booked."))
    warnings = _booking_warnings(locked, start, minutes, override_reason)
    appointment = booking.book_appointment(locked.uuid, locked.site, room, start, minutes)
    locked, event = kernel.move(
        actor,
        locked,
        "book",
        version=None,
        data={"appointment": str(appointment.uuid)},
        summary=gettext("Booked {room} at {start}").format(room=room.name, start=_site_time(locked, start)),
        already_locked=True,
    )
    locked.appointment = appointment
    locked.save(update_fields=["appointment"])
    kernel.close_tasks(actor, locked, [TaskKind.BOOK, TaskKind.REBOOK], TaskStatus.DONE, gettext("booked"))
    _open_call_task(locked)
    _open_early_plan_task(locked)
    _record_booking_override(actor, locked, warnings, override_reason)
    return locked


@owns("reschedule")
@transaction.atomic
def reschedule_case(
    actor: Actor,
    case: Case,
    *,
    version: int | None,
    room: Room,
    start: datetime,
    minutes: int,
    reason: str,
    override_reason: str = "",
) -> Case:
    """Move the booking; the old one is kept as rescheduled and the call is due again in the new window."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the booking moves.")})
    require(actor, "case.reschedule")
    locked = kernel.lock_case(case, version)
    check_move(locked.stage, "reschedule")
    old = locked.appointment
    assert old is not None
    warnings = _booking_warnings(locked, start, minutes, override_reason)
    new = booking.reschedule_appointment(old, room, start, minutes, reason)
    locked, _event = kernel.move(
        actor,
        locked,
        "reschedule",
        version=None,
        reason=reason,
        data={"from": str(old.uuid), "to": str(new.uuid)},
        summary=gettext("Rescheduled from {old} to {new} ({room})").format(
            old=_site_time(locked, old.start), new=_site_time(locked, start), room=room.name
        ),
        already_locked=True,
    )
    locked.appointment = new
    locked.save(update_fields=["appointment"])
    kernel.close_tasks(
        actor, locked, [TaskKind.PRECALL, TaskKind.BLOOD_THINNER_PLAN], TaskStatus.CANCELLED, gettext("rescheduled")
    )
    _open_call_task(locked)
    _open_early_plan_task(locked)
    _record_booking_override(actor, locked, warnings, override_reason)
    return locked


def _booking_warnings(case: Case, start: datetime, minutes: int, override_reason: str) -> list[str]:
    """Refuse a questionable booking without a reason; return its warnings (empty when there are none)."""
    if start.tzinfo is None or start <= clock.current():
        return []  # the booking itself refuses a naive time or a past one, with its own message
    warnings = selectors.booking_warnings(case, start, start + timedelta(minutes=minutes), clock.current())
    if warnings and not override_reason.strip():
        raise ValidationError(
            {"override_reason": [*warnings, gettext("Choose another time, or give a reason to book anyway.")]}
        )
    return warnings


def _record_booking_override(actor: Actor, case: Case, warnings: list[str], override_reason: str) -> None:
    if not warnings:
        return
    summary = gettext("Booked despite: {warnings}").format(warnings=" ".join(warnings))
    kernel.record_override(actor, case, summary, override_reason, "booking warnings")


def _open_early_plan_task(case: Case) -> Task | None:
    """A hold that must start before the 24–48 h call (clopidogrel, warfarin, aspirin…): the nurse reaches the
    prescriber a working day before the earliest last dose; the call later confirms or replaces the plan."""
    appointment = case.appointment
    assert appointment is not None
    plan = selectors.early_plan(case, appointment.start, appointment.end)
    if not plan.needed:
        return None
    now = clock.current()
    due = plan.nurse_by if plan.nurse_by is not None and plan.nurse_by > now else now + timedelta(hours=4)
    lines = [
        gettext("{drug}: last dose by {when}").format(drug=h.drug, when=_site_time(case, h.last_dose))
        if h.last_dose
        else gettext("{drug}: no guideline value").format(drug=h.drug)
        for h in plan.holds
    ]
    note = gettext("Prescriber: {who}. {holds}").format(who=case.referring_clinician, holds="; ".join(lines))
    return kernel.open_task(case, TaskKind.BLOOD_THINNER_PLAN, Role.NURSE, now, due, note, urgent=plan.too_late(now))


def _site_time(case: Case, moment: datetime) -> str:
    return when.staff_when(moment, case.site, zone=True)


# --- a stop finding: proceed, postpone or cancel, decided once -------------------------------------------------

# Tasks that ask the radiologist to decide on a stop ("postpone or proceed").
DECISION_TASKS = [TaskKind.REVIEW_FLAG, TaskKind.CALL_ESCALATION]


def stops_to_decide(case: Case) -> list[str]:
    """The stop findings open on the case, plus "no call on record" while the patient could not be reached."""
    codes = [str(f["code"]) for f in case.findings if f.get("severity") == "stop" and not f.get("overridden")]
    unreached = case.tasks.filter(kind=TaskKind.CALL_ESCALATION, status=TaskStatus.OPEN).exists()
    if unreached and case.stage == Stage.SCHEDULED:
        codes.append("admit.no_precall")
    return list(dict.fromkeys(codes))


@transaction.atomic
def proceed_despite_stops(actor: Actor, case: Case, *, version: int | None, reason: str) -> Case:
    """The radiologist decides to proceed despite the open stop findings, with a reason: recorded once (timeline,
    audit), the decision tasks close, and the moves that check those stops later (admission, the procedure's start)
    carry it instead of asking again. A stop that appears afterwards still asks."""
    require(actor, "finding.override")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case proceeds despite the stop.")})
    locked = kernel.lock_case(case, version)
    codes = stops_to_decide(locked)
    if not codes:
        raise ValidationError(_("There is no open stop to decide on."))
    now = clock.current()
    locked.decided_stops = [
        *locked.decided_stops,
        *({"code": code, "reason": reason.strip(), "by": actor.name, "at": now.isoformat()} for code in codes),
    ]
    for item in locked.findings:
        if item.get("severity") == "stop" and item.get("code") in codes:
            item["overridden"] = True
    locked.open_stops = 0
    kernel.save_case(locked, "decided_stops", "findings", "open_stops")
    summary = gettext("Proceed despite: {codes}").format(codes=", ".join(codes))
    kernel.record_override(actor, locked, summary, reason, "proceed decision", data={"findings": codes})
    kernel.close_tasks(
        actor, locked, DECISION_TASKS, TaskStatus.DONE, gettext("proceed: {reason}").format(reason=reason.strip())
    )
    return locked


@owns("postpone")
@transaction.atomic
def postpone_case(actor: Actor, case: Case, *, version: int | None, reason: str, note: str = "") -> Case:
    """Take the case off the list for now: the booking is released and the scheduler must rebook."""
    if reason not in PostponeReason.values:
        raise ValidationError({"reason": _("Choose why the case is postponed.")})
    if reason == PostponeReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Say why the case is postponed.")})
    locked, _event = kernel.move(
        actor, case, "postpone", version=version, reason=f"{PostponeReason(reason).label}. {note}".strip()
    )
    if locked.appointment is not None:
        # A patient who did not come keeps that on the booking (the no-show rate counts it), otherwise it is cancelled.
        status = AppointmentStatus.NO_SHOW if reason == PostponeReason.NO_SHOW else AppointmentStatus.CANCELLED
        booking.set_appointment_status(locked.appointment, status, f"postponed: {reason}")
    locked.appointment = None
    locked.end_reason = reason
    locked.end_note = note
    locked.save(update_fields=["appointment", "end_reason", "end_note"])
    kernel.close_tasks(actor, locked, None, TaskStatus.CANCELLED, gettext("postponed"))
    start, end = _site_now_window(locked, BOOK_DAYS)
    kernel.open_task(locked, TaskKind.REBOOK, Role.SCHEDULER, start, end, note=str(PostponeReason(reason).label))
    return locked


@owns("cancel")
@transaction.atomic
def cancel_case(actor: Actor, case: Case, *, version: int | None, reason: str, note: str = "") -> Case:
    """Cancel the episode with a reason from the list; its history stays."""
    if reason not in CancelReason.values:
        raise ValidationError({"reason": _("Choose why the case is cancelled.")})
    if reason == CancelReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Say why the case is cancelled.")})
    locked, _event = kernel.move(
        actor, case, "cancel", version=version, reason=f"{CancelReason(reason).label}. {note}".strip()
    )
    if locked.appointment is not None and locked.appointment.status in {"booked", "confirmed", "arrived"}:
        booking.set_appointment_status(locked.appointment, AppointmentStatus.CANCELLED, reason)
    locked.end_reason = reason
    locked.end_note = note
    locked.save(update_fields=["end_reason", "end_note"])
    kernel.close_tasks(actor, locked, None, TaskStatus.CANCELLED, gettext("case cancelled"))
    return locked


# --- tasks ------------------------------------------------------------------------------------------------


@transaction.atomic
def complete_task(actor: Actor, task: Task, outcome: str) -> Task:
    """Mark a task done with what was done; only a holder of the task's role may, and only once."""
    locked = Task.objects.select_for_update(no_key=True).select_related("case__patient").get(pk=task.pk)
    if actor.user is not None and Role(locked.role) not in roles_of(actor.user):
        raise NotPermitted(format_lazy(_("This task is for the {role}."), role=Role(locked.role).label.lower()))
    if locked.status != TaskStatus.OPEN:
        raise ValidationError(_("This task is already closed."))
    outcome = outcome.strip()
    if not outcome or "\x00" in outcome:
        raise ValidationError({"outcome": _("Say what was done.")})
    return kernel.close_task(actor, locked, TaskStatus.DONE, outcome)


@transaction.atomic
def claim_task(actor: Actor, task: Task) -> Task:
    """Take an open task from the unassigned queue; refused if someone else already holds it."""
    if actor.user_or_none is None:
        raise NotPermitted(_("Sign in to take a task."))
    if not may(actor.user, "worklist.view") or task.role not in {r.value for r in roles_of(actor.user)}:
        raise NotPermitted(_("This task belongs to another role."))
    claimed = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN, assignee__isnull=True).update(assignee=actor.user)
    task.refresh_from_db()
    if not claimed and task.assignee_id != actor.user.pk:
        holder = task.assignee.get_username() if task.assignee else "nobody (closed)"
        raise ValidationError(format_lazy(_("This task is already taken by {holder}."), holder=holder))
    audit.record(actor, AuditAction.UPDATE, "task", task.uuid, patient_uuid=task.case.patient.uuid, detail="claimed")
    return task


@transaction.atomic
def release_task(actor: Actor, task: Task) -> Task:
    """Give a task back to the unassigned queue; only the person holding it may."""
    if actor.user_or_none is None or task.assignee_id != actor.user.pk:
        raise ValidationError(_("Only the person who took this task can release it."))
    Task.objects.filter(pk=task.pk, assignee=actor.user).update(assignee=None)
    task.refresh_from_db()
    audit.record(actor, AuditAction.UPDATE, "task", task.uuid, patient_uuid=task.case.patient.uuid, detail="released")
    return task


@transaction.atomic
def refer_patient(
    actor: Actor,
    *,
    site: Site,
    details: ReferralDetails,
    patient: Patient | None = None,
    new_patient: patients.PatientDetails | None = None,
) -> Case:
    """Take a referral for an existing patient, or register the new patient and refer in one transaction."""
    require(actor, "case.refer")
    if (patient is None) == (new_patient is None):
        raise ValidationError(_("Choose an existing patient or enter a new one."))
    if patient is None and new_patient is not None:
        # Check the referral first so a bad level never leaves a half-registered patient behind.
        _validate_referral(details)
        patient = patients.register_patient(actor, new_patient, mrn_pattern=site.mrn_pattern)
    assert patient is not None
    return refer_case(actor, patient, site, details)


# --- merging duplicate patients (the registration system's ADT^A40) ----------------------------------------------


@transaction.atomic
def merge_patients(actor: Actor, survivor: Patient, retired: Patient) -> int:
    """Give ``survivor`` the cases of ``retired`` (each keeps its whole history, with a timeline line saying where it
    came from) and retire the duplicate record (patients.services.retire_patient). Returns how many cases moved."""
    if not patients.retire_patient(actor, retired, survivor):
        return 0
    moved = list(Case.objects.select_for_update(no_key=True).filter(patient=retired).select_related("site"))
    for case in moved:
        case.patient = survivor
        kernel.save_case(case, "patient")
        kernel.record_event(
            actor,
            case,
            EventKind.NOTE,
            gettext("Patient records merged: MRN {old} is now MRN {new}.").format(old=retired.mrn, new=survivor.mrn),
        )
        audit.record(actor, AuditAction.UPDATE, "case", case.uuid, patient_uuid=survivor.uuid, detail="patient merged")
    return len(moved)
