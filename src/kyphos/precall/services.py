"""The pre-procedure call: attempts, the structured call, the blood-thinner plan, sign-off, the letter.

Every write is one transaction that checks the nurse's role, the call's version (a stale save is refused)
and records the timeline event and the audit entry. The case reaches "pre-call done" only through sign_call.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.messaging.letters import issue_letter
from kyphos.messaging.models import Letter
from kyphos.pathway import kernel
from kyphos.pathway import services as pathway
from kyphos.pathway.errors import NotPermitted, StaleEdit
from kyphos.pathway.kernel import owns
from kyphos.pathway.models import Case, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, may
from kyphos.pathway.stages import BOOKED_STAGES, Stage
from kyphos.patients.models import Allergy, AllergyStatus, Patient
from kyphos.patients.services import record_allergy
from kyphos.precall.imaging import received_boxes
from kyphos.precall.letter import pre_procedure_letter
from kyphos.precall.models import (
    AttemptOutcome,
    CallAttempt,
    CallOutcome,
    CallStatus,
    DriverStatus,
    ImagingStatus,
    Indication,
    Medication,
    PatientChecklist,
    PreCall,
    PregnancyStatus,
)
from kyphos.rules import precall as precall_rules
from kyphos.rules.antithrombotics import CRCL_MAX, CRCL_MIN, PlanError, plan_drug
from kyphos.rules.findings import Finding, Severity
from kyphos.rules.medicines import Drug, Frequency, InvalidDose, UnknownDrug, find_drug, parse_dose
from kyphos.translation import Words

THERAPEUTIC_INDICATIONS = {
    Indication.SECONDARY_PREVENTION,
    Indication.MECHANICAL_VALVE,
    Indication.RECENT_STENT,
    Indication.AF,
    Indication.VTE,
}
MAX_MEDICATIONS = 20
# Medicines whose plan turns on why they are taken: ASRA 2018 holds aspirin 6 days for primary prevention but does
# not routinely stop it for secondary prevention (shared decision with the prescriber). The call asks before signing.
INDICATION_DECIDES = {"aspirin", "aspirin-dipyridamole"}


@dataclass(frozen=True)
class MedicationInput:
    name: str
    dose: str = ""
    frequency: str = ""
    indication: str = ""
    prescriber_name: str = ""
    prescriber_phone: str = ""
    last_taken: datetime | None = None


@dataclass(frozen=True)
class AllergyInput:
    category: str
    substance: str
    reaction: str = ""
    severity: str = ""


CALL_FIELDS = (
    "identity_confirmed",
    "crcl",
    "pain_notes",
    "no_known_allergies",
    "sleep_apnea",
    "heart_failure",
    "ckd",
    "insulin_diabetes",
    "prior_spine_surgery",
    "fever_or_infection",
    "new_neuro_symptoms",
    "history_note",
    "driver_status",
    "driver_name",
    "driver_phone",
    "imaging_status",
    "imaging_mri",
    "imaging_ct",
    "imaging_xray",
    "imaging_films",
    "imaging_reports",
    "imaging_cd",
    "imaging_source",
    "pregnancy_status",
    "nursing",
    "fasting_given",
    "arrival_confirmed",
    "questions",
)


@dataclass(frozen=True)
class CallInput:
    values: dict[str, Any]
    medications: list[MedicationInput] = field(default_factory=list)
    allergies: list[AllergyInput] = field(default_factory=list)


def _require_nurse(actor: Actor) -> None:
    if actor.user is not None and not may(actor.user, "case.complete_precall"):
        raise NotPermitted(_("Only the pre-procedure nurse makes the call."))


def call_task(case: Case) -> Task | None:
    return case.tasks.filter(kind=TaskKind.PRECALL, status=TaskStatus.OPEN).order_by("-created_at").first()


# --- attempts -------------------------------------------------------------------------------------------


@transaction.atomic
def record_attempt(
    actor: Actor, case: Case, outcome: str, *, call_back_at: datetime | None = None, note: str = ""
) -> CallAttempt:
    """Record a try; when not reached, schedule the next one or, if none fits the window, escalate."""
    _require_nurse(actor)
    if outcome not in AttemptOutcome.values:
        raise ValidationError({"outcome": _("Choose what happened on the call.")})
    task = call_task(case)
    if task is None:
        raise ValidationError(_("There is no open pre-procedure call for this case."))
    now = clock.current()
    if outcome == AttemptOutcome.CALL_BACK:
        if call_back_at is None:
            raise ValidationError({"call_back_at": _("Enter when the patient asked to be called back.")})
        if call_back_at <= now:
            raise ValidationError({"call_back_at": _("The call-back time has passed; enter a later time.")})
        if case.appointment and call_back_at >= case.appointment.start:
            raise ValidationError({"call_back_at": _("The call-back time is after the procedure starts.")})
    attempt = CallAttempt.objects.create(
        case=case,
        task=task,
        at=now,
        by=actor.user_or_none,
        by_name=actor.name,
        outcome=outcome,
        call_back_at=call_back_at if outcome == AttemptOutcome.CALL_BACK else None,
        note=note[:300],
    )
    summary = gettext("Call attempt: {outcome}").format(outcome=str(AttemptOutcome(outcome).label).lower())
    if outcome != AttemptOutcome.REACHED:
        failed = CallAttempt.objects.filter(task=task).exclude(outcome=AttemptOutcome.REACHED).count()
        site = case.site
        next_try = call_back_at or now + timedelta(minutes=site.call_retry_minutes)
        if (failed >= site.call_max_attempts and outcome != AttemptOutcome.CALL_BACK) or next_try >= task.due_end:
            _escalate(case, task, failed)
            summary += f"; attempt {failed}: escalated to the radiologist"
        else:
            Task.objects.filter(pk=task.pk).update(
                due_start=next_try,
                note=gettext("Attempt {number} not reached; next try from {when}").format(
                    number=failed, when=_local(case, next_try)
                ),
            )
            summary += f"; next try from {_local(case, next_try)}"
    kernel.record_event(actor, case, EventKind.NOTE, summary, reason=note)
    audit.record(
        actor,
        AuditAction.UPDATE,
        "call_attempt",
        attempt.pk,
        patient_uuid=case.patient.uuid,
        detail=f"attempt {outcome}",
    )
    return attempt


def _escalate(case: Case, task: Task, failed: int) -> None:
    if case.tasks.filter(kind=TaskKind.CALL_ESCALATION, status=TaskStatus.OPEN).exists():
        return
    start = clock.current()
    end = case.appointment.start - timedelta(hours=12) if case.appointment else start + timedelta(days=1)
    kernel.open_task(
        case,
        TaskKind.CALL_ESCALATION,
        Role.RADIOLOGIST,
        start,
        max(end, start + timedelta(hours=1)),
        note=gettext("{number} call attempts failed: postpone or proceed").format(number=failed),
    )


def _local(case: Case, moment: datetime) -> str:
    return when.staff_when(moment, case.site)


# --- the call --------------------------------------------------------------------------------------------


@transaction.atomic
def why_call_unavailable(actor: Actor, case: Case) -> str:
    """Why this person cannot make the case's call now ("" when they can); reads only."""
    if case.stage != Stage.SCHEDULED or case.appointment is None:
        return gettext("The pre-procedure call is made for a booked case that has not had it yet.")
    task = call_task(case)
    if task is None:
        return gettext("There is no open pre-procedure call for this case.")
    if task.assignee_id is not None and (actor.user_or_none is None or task.assignee_id != actor.user.pk):
        holder = task.assignee.get_username() if task.assignee else gettext("someone else")
        return gettext("This task is already taken by {holder}.").format(holder=holder)
    return ""


def draft_in_hand(actor: Actor, case: Case) -> PreCall | None:
    """The draft call this person has taken, if any; reads only (opening the call is ``open_call``)."""
    task = call_task(case)
    if task is None or actor.user_or_none is None or task.assignee_id != actor.user.pk:
        return None
    return PreCall.objects.filter(case=case, status=CallStatus.DRAFT).first()


@transaction.atomic
def open_call(actor: Actor, case: Case) -> PreCall:
    """Take the call task (refused when another nurse holds it) and return the draft call."""
    _require_nurse(actor)
    reason = why_call_unavailable(actor, case)
    if reason:
        raise ValidationError(reason)
    task = call_task(case)
    assert task is not None  # why_call_unavailable checked it
    if actor.user_or_none is not None:
        pathway.claim_task(actor, task)
    draft = PreCall.objects.filter(case=case, status=CallStatus.DRAFT).first()
    if draft is not None:
        return draft
    try:
        with transaction.atomic():
            draft = PreCall.objects.create(
                case=case,
                task=task,
                started_at=clock.current(),
                started_by=actor.user_or_none,
                guideline=case.site.anticoagulant_guideline,
                pregnancy_status="" if _could_be_pregnant(case.patient) else PregnancyStatus.NOT_APPLICABLE,
                **received_boxes(case),  # outside imaging already read in from the patient's CD, reports, films
            )
    except IntegrityError:  # another nurse opened it in the same instant
        return PreCall.objects.get(case=case, status=CallStatus.DRAFT)
    audit.record(actor, AuditAction.CREATE, "precall", draft.uuid, patient_uuid=case.patient.uuid, detail="call opened")
    return draft


def _could_be_pregnant(patient: Patient) -> bool:
    # Asked of every patient recorded female or unknown, aged 10–60; anyone may still answer "possibly".
    age = patient.age_on(clock.current().date())
    return patient.sex in {"F", "U", "O"} and 10 <= age <= 60


def _lock_call(call: PreCall, version: int | None) -> PreCall:
    locked = (
        PreCall.objects.select_for_update(no_key=True, of=("self",))
        .select_related("case", "case__site", "case__appointment", "case__patient")
        .get(pk=call.pk)
    )
    if locked.status == CallStatus.SIGNED:
        raise ValidationError(_("This call is already signed; it cannot be changed or signed again."))
    if version is not None and locked.version != version:
        raise StaleEdit()
    return locked


def _validate(case: Case, data: CallInput) -> list[tuple[MedicationInput, Any]]:
    errors: dict[str, list[Words]] = {}

    def add(key: str, message: Words) -> None:
        errors.setdefault(key, []).append(message)

    unknown = set(data.values) - set(CALL_FIELDS)
    if unknown:
        add("__all__", format_lazy(_("Unknown call fields: {names}."), names=", ".join(sorted(unknown))))
    crcl = data.values.get("crcl")
    if crcl is not None and not CRCL_MIN <= int(crcl) <= CRCL_MAX:
        add(
            "crcl",
            format_lazy(
                _("A creatinine clearance of {crcl} mL/min is not possible; enter {low}–{high}."),
                crcl=crcl,
                low=CRCL_MIN,
                high=CRCL_MAX,
            ),
        )
    for key, choices in (
        ("driver_status", DriverStatus.values),
        ("imaging_status", ImagingStatus.values),
        ("pregnancy_status", PregnancyStatus.values),
    ):
        if data.values.get(key, "") not in choices:
            add(key, _("Choose one of the options."))
    if len(data.medications) > MAX_MEDICATIONS:
        add("medications", format_lazy(_("At most {most} medicines on one call."), most=MAX_MEDICATIONS))
    resolved = []
    for index, med in enumerate(data.medications):
        drug = None
        with contextlib.suppress(UnknownDrug):  # not in the catalogue: recorded as free text, not planned
            drug = find_drug(med.name)
        if med.dose:
            try:
                parse_dose(med.dose)
            except InvalidDose as exc:
                add(f"med_dose_{index}", format_lazy("{name}: {problem}", name=med.name, problem=exc.message))
        if med.frequency and med.frequency not in {f.value for f in Frequency}:
            add(f"med_frequency_{index}", format_lazy(_("{name}: choose how often it is taken."), name=med.name))
        if med.last_taken is not None and med.last_taken > clock.current():
            add(
                f"med_last_taken_{index}",
                format_lazy(_("{name}: the last dose taken cannot be in the future."), name=med.name),
            )
        if med.indication not in Indication.values:
            add(f"med_indication_{index}", format_lazy(_("{name}: choose what it is taken for."), name=med.name))
        resolved.append((med, drug))
    for index, allergy in enumerate(data.allergies):
        if allergy.category not in Allergy.Category.values:
            add(f"allergy_category_{index}", _("Choose the kind of allergy."))
        if not allergy.substance.strip():
            add(f"allergy_substance_{index}", _("Name the substance."))
    if errors:
        raise ValidationError(errors)
    return resolved


def intent_for(indication: str) -> str | None:
    """What a medicine is taken for → the guideline's intent (aspirin: primary or secondary prevention)."""
    if indication in THERAPEUTIC_INDICATIONS:
        return "therapeutic"
    return "prophylactic" if indication == Indication.PRIMARY_PREVENTION else None


def _plan(case: Case, call: PreCall, med: MedicationInput, drug: Drug) -> dict[str, Any]:
    if drug is None or not drug.antithrombotic or case.appointment is None:
        return {}
    intent = intent_for(med.indication)
    try:
        plan = plan_drug(
            drug,
            case.appointment.start,
            procedure_end=case.appointment.end,
            zone=case.site.zone,
            frequency=med.frequency or None,
            intent=intent,
            crcl=call.crcl,
            guideline=call.guideline,
            restart_policy=case.site.restart_policy,
        )
    except PlanError as exc:
        raise ValidationError(
            {"medications": format_lazy("{name}: {problem}", name=med.name, problem=exc.message)}
        ) from exc
    return plan.as_json(case.site.zone) | {"display": drug.display}


def findings_for(call: PreCall) -> list[Finding]:
    now = clock.current()
    meds = tuple(
        precall_rules.MedicineFacts(
            name=m.name,
            drug_class=_class_of(m.drug_id),
            hold=m.hold if m.plan else False,
            last_dose_text=_local(call.case, m.last_dose) if m.last_dose else "",
            indication=m.indication,
            antithrombotic=bool(m.plan),
            deadline_passed=bool(m.last_dose and m.last_dose < now),
            last_taken_text=_local(call.case, m.last_taken) if m.last_taken else "",
            taken_after_deadline=bool(m.last_dose and m.last_taken and m.last_taken > m.last_dose),
        )
        for m in call.medications.all()
    )
    facts = precall_rules.CallFacts(
        fever_or_infection=call.fever_or_infection,
        new_neuro_symptoms=call.new_neuro_symptoms,
        sleep_apnea=call.sleep_apnea,
        heart_failure=call.heart_failure,
        ckd=call.ckd,
        insulin_diabetes=call.insulin_diabetes,
        prior_spine_surgery=call.prior_spine_surgery,
        pregnancy=call.pregnancy_status or "unknown",
        nursing=call.nursing,
        allergy_categories=frozenset(a["category"] for a in call.allergies) | _known_allergy_categories(call),
        driver_arranged=call.driver_status != DriverStatus.NOT_ARRANGED,
        imaging=call.imaging_status or "unknown",
        medicines=meds,
    )
    return precall_rules.call_findings(facts)


def _known_allergy_categories(call: PreCall) -> frozenset[str]:
    return frozenset(call.case.patient.allergies.filter(active=True).values_list("category", flat=True))


def _class_of(drug_id: str) -> str:
    if not drug_id:
        return ""
    try:
        return find_drug(drug_id).drug_class
    except UnknownDrug:
        return ""


@transaction.atomic
def save_call(actor: Actor, call: PreCall, *, version: int | None, data: CallInput) -> PreCall:
    """Save the draft as the nurse goes: the plan and the findings are recomputed from what is entered."""
    _require_nurse(actor)
    locked = _lock_call(call, version)
    case = locked.case
    task = locked.task
    if task is not None and task.assignee is not None and actor.user_or_none and task.assignee_id != actor.user.pk:
        raise ValidationError(
            format_lazy(
                _("{get_username} has this call; ask them to release it."), get_username=task.assignee.get_username()
            )
        )
    resolved = _validate(case, data)
    for name in CALL_FIELDS:
        if name in data.values:
            setattr(locked, name, data.values[name])
    locked.allergies = [a.__dict__ for a in data.allergies]
    locked.medications.all().delete()
    for position, (med, drug) in enumerate(resolved):
        plan = _plan(case, locked, med, drug)
        Medication.objects.create(
            precall=locked,
            position=position,
            drug_id=drug.id if drug else "",
            name=drug.generic if drug else med.name.strip()[:120],
            dose=med.dose.strip(),
            frequency=med.frequency or (drug.frequency.value if drug else ""),
            indication=med.indication,
            prescriber_name=med.prescriber_name.strip(),
            prescriber_phone=med.prescriber_phone.strip(),
            plan=plan,
            last_taken=med.last_taken,
            hold=plan.get("hold") if plan else False,
            last_dose=datetime.fromisoformat(plan["last_dose"]) if plan.get("last_dose") else None,
            restart_after=datetime.fromisoformat(plan["restart_after"]) if plan.get("restart_after") else None,
        )
    locked.findings = [f.as_dict() for f in findings_for(locked)]
    locked.version += 1
    locked.save()
    audit.record(actor, AuditAction.UPDATE, "precall", locked.uuid, patient_uuid=case.patient.uuid, detail="call saved")
    return locked


def missing_for_signature(call: PreCall) -> list[Words]:
    missing: list[Words] = []
    if not call.identity_confirmed:
        missing.append(_("Confirm the patient's name and date of birth."))
    if not call.driver_status:
        missing.append(_("Ask about a driver."))
    if not call.imaging_status:
        missing.append(_("Ask about outside imaging."))
    if not call.pregnancy_status:
        missing.append(_("Ask about pregnancy and breastfeeding."))
    if not call.fasting_given:
        missing.append(_("Give the fasting instructions."))
    if not call.arrival_confirmed:
        missing.append(_("Confirm the arrival time and place."))
    if (
        not call.no_known_allergies
        and not call.allergies
        and not call.case.patient.allergies.filter(active=True).exists()
    ):
        missing.append(_("Record the allergies, or tick “no known allergies”."))
    if call.driver_status == DriverStatus.ARRANGED and not call.driver_name.strip():
        missing.append(_("Enter the driver's name."))
    for med in call.medications.filter(drug_id__in=INDICATION_DECIDES):
        if med.indication in ("", Indication.OTHER):
            missing.append(
                format_lazy(
                    _(
                        "{name}: say what it is taken for (primary or secondary prevention, a stent): its plan "
                        "depends on it."
                    ),
                    name=med.name,
                )
            )
    return missing


@owns("complete_precall")
@transaction.atomic
def sign_call(actor: Actor, call: PreCall, *, version: int | None) -> PreCall:
    """Sign the call: tasks for what must follow, findings to the case, "pre-call done", the patient's letter."""
    _require_nurse(actor)
    locked = _lock_call(call, version)
    missing = missing_for_signature(locked)
    if missing:
        raise ValidationError(missing)
    case = locked.case
    appointment = case.appointment
    assert appointment is not None
    now = clock.current()
    findings = findings_for(locked)

    # Allergies told on the call join the patient's record.
    for item in locked.allergies:
        record_allergy(actor, case.patient, item["category"], item["substance"], item.get("reaction", ""))
        Allergy.objects.filter(patient=case.patient, substance=item["substance"]).update(
            severity=item.get("severity", "")
        )
    if locked.no_known_allergies and not locked.allergies and case.patient.allergy_status == AllergyStatus.NOT_RECORDED:
        Patient.objects.filter(pk=case.patient.pk).update(allergy_status=AllergyStatus.NONE_KNOWN)

    # The patient stops nothing without their doctor: each held (or undecided) blood thinner → the prescriber.
    for med in locked.medications.all():
        if med.plan and med.hold is not False:
            who = med.prescriber_name or gettext("the prescriber")
            phone = f" ({med.prescriber_phone})" if med.prescriber_phone else ""
            what = (
                gettext("stop {medicine}, last dose {when}").format(medicine=med.name, when=_local(case, med.last_dose))
                if med.last_dose
                else gettext("a plan for {medicine} (no guideline value)").format(medicine=med.name)
            )
            end = med.last_dose - timedelta(hours=2) if med.last_dose else appointment.start - timedelta(hours=24)
            task = kernel.open_task(
                case,
                TaskKind.CONTACT_PRESCRIBER,
                Role.NURSE,
                now,
                max(end, now),
                note=gettext("{who}{phone}: agree {what}").format(who=who, phone=phone, what=what),
            )
            Medication.objects.filter(pk=med.pk).update(prescriber_task=task)
    if locked.driver_status == DriverStatus.NOT_ARRANGED:
        kernel.open_task(
            case,
            TaskKind.ARRANGE_TRANSPORT,
            Role.SCHEDULER,
            now,
            max(appointment.arrival_at, now),
            note=gettext("No driver: arrange transport home"),
        )
    if locked.pregnancy_status == PregnancyStatus.POSSIBLY_PREGNANT:
        kernel.open_task(
            case,
            TaskKind.HCG_TEST,
            Role.WARD_NURSE,
            appointment.arrival_at,
            appointment.start,
            note=gettext("Possibly pregnant: hCG before the procedure"),
        )
    stops = [f for f in findings if f.severity is Severity.STOP]
    if stops:
        locked.outcome = CallOutcome.NEEDS_REVIEW
        kernel.open_task(
            case,
            TaskKind.REVIEW_FLAG,
            Role.RADIOLOGIST,
            now,
            max(appointment.start - timedelta(hours=12), now + timedelta(hours=1)),
            note="; ".join(str(f.message) for f in stops)[:300],
        )
    elif any(f.severity is Severity.CAUTION for f in findings):
        locked.outcome = CallOutcome.CLEARED_WITH_CAUTIONS
    else:
        locked.outcome = CallOutcome.CLEARED

    locked.status = CallStatus.SIGNED
    locked.signed_at = now
    locked.signed_by = actor.user_or_none
    locked.findings = [f.as_dict() for f in findings]
    locked.version += 1
    locked.save()
    # The call's findings go onto the case (a stop shows on the banner and has opened a review task above);
    # they do not block the move: the call itself is done, and the radiologist decides what follows.
    note = gettext("Call signed: {outcome}").format(outcome=locked.get_outcome_display())
    case, _event = kernel.move(
        actor,
        case,
        "complete_precall",
        version=None,
        reason=note,
        data={"findings": [f.code for f in findings]},
    )
    if findings:
        case.findings = kernel.findings_json(findings)
        case.open_stops = sum(1 for f in findings if f.severity is Severity.STOP)
        case.save(update_fields=["findings", "open_stops"])
    kernel.close_tasks(actor, case, [TaskKind.PRECALL], TaskStatus.DONE, note)
    # The plan made before the call from the referral's list is now confirmed or replaced by the call's.
    kernel.close_tasks(
        actor, case, [TaskKind.BLOOD_THINNER_PLAN], TaskStatus.DONE, gettext("replaced by the signed call's plan")
    )
    issue_letter(actor, case, Letter.Kind.PRE_PROCEDURE, pre_procedure_letter(locked))
    audit.record(actor, AuditAction.UPDATE, "precall", locked.uuid, patient_uuid=case.patient.uuid, detail="signed")
    return locked


@transaction.atomic
def agree_medication_plan(actor: Actor, task: Task, note: str = "") -> Medication:
    """The prescriber agreed the plan for one medicine: the task closes and the plan is marked agreed."""
    _require_nurse(actor)
    med = Medication.objects.select_related("precall__case__patient").filter(prescriber_task=task).first()
    if med is None or task.status != TaskStatus.OPEN:
        raise ValidationError(_("This task is not an open medicine plan to agree."))
    moment = clock.current()
    Medication.objects.filter(pk=med.pk).update(agreed=True, agreed_at=moment)
    case = med.precall.case
    locked_task = Task.objects.select_for_update(no_key=True).get(pk=task.pk)
    locked_task.case = case
    kernel.close_task(actor, locked_task, TaskStatus.DONE, note or gettext("plan agreed"))
    kernel.record_event(
        actor,
        case,
        EventKind.NOTE,
        gettext("Plan for {medicine} agreed with {who}").format(
            medicine=med.name, who=med.prescriber_name or gettext("the prescriber")
        ),
        reason=note,
    )
    audit.record(actor, AuditAction.UPDATE, "medication", med.pk, patient_uuid=case.patient.uuid, detail="plan agreed")
    med.agreed = True
    return med


@transaction.atomic
def tick_patient_checklist(actor: Actor, case: Case, ticked: set[str]) -> PatientChecklist:
    """The patient ticks their checklist on their own page (before the procedure only)."""
    if case.stage not in BOOKED_STAGES:
        raise ValidationError(_("The checklist is for before the procedure."))
    unknown = ticked - set(PatientChecklist.ITEMS)
    if unknown:
        raise ValidationError(format_lazy(_("Unknown checklist items: {names}."), names=", ".join(sorted(unknown))))
    checklist = PatientChecklist.objects.filter(case=case).first() or PatientChecklist(case=case)
    for key in PatientChecklist.ITEMS:
        setattr(checklist, key, key in ticked)
    checklist.updated_at = clock.current()
    checklist.save()
    audit.record(
        actor,
        AuditAction.UPDATE,
        "patient_checklist",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail=",".join(sorted(ticked)) or "none",
    )
    return checklist
