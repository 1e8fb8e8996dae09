"""The procedure day's services: admission and labs, checklist, sedation, the procedure record, the note.

Each is one transaction with the role check, the audit entry and, where it changes the case, a timeline event.
The procedure cannot start until sign-in and time-out are signed and no stop finding is open (labs, pregnancy,
the call's stops), unless a radiologist overrides with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
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
from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.labs import services as labs
from kyphos.pathway import kernel
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.kernel import owns
from kyphos.pathway.models import Case, EventKind, TaskKind, TaskStatus
from kyphos.pathway.policy import may
from kyphos.pathway.stages import Stage
from kyphos.precall.models import CallStatus, Medication
from kyphos.procedure.models import (
    Addendum,
    Admission,
    Checklist,
    ChecklistPart,
    ProcedureNote,
    ProcedureRecord,
    Sedation,
    TreatedLevel,
)
from kyphos.rules import data
from kyphos.rules import labs as lab_rules
from kyphos.rules import precall as precall_rules
from kyphos.rules import triage as triage_rules
from kyphos.rules.cement import products
from kyphos.rules.coding import code_procedure
from kyphos.rules.findings import Finding, Severity, by_severity
from kyphos.rules.levels import InvalidLevel, parse_level
from kyphos.scheduling import services as scheduling
from kyphos.scheduling.models import AppointmentStatus
from kyphos.translation import Words

# A side of the body in a message or the note (the stored value is the English code).
SIDE_WORDS = {"left": _("left"), "right": _("right")}
ETIOLOGY_FOR_CODING = {"osteoporosis": "osteoporosis", "steroid": "steroid-induced", "other": "other"}


def _require(actor: Actor, permission: str) -> None:
    if actor.user is not None and not may(actor.user, permission):
        raise NotPermitted(format_lazy(_("Your role does not allow this ({permission})."), permission=permission))


def _bound(name: str) -> Decimal:
    return Decimal(str(data.sourced(data.load("procedure")["bounds"][name], name).value))


def checklist_items(part: str) -> list[tuple[str, str]]:
    """One part of the safety checklist, in the reader's language (``kyphos makemessages`` collects the items)."""
    return [(str(key), gettext(str(label))) for key, label in data.load("procedure")["checklist"][part]]


# --- admission and labs -----------------------------------------------------------------------------------

# What a measurement can possibly be (beyond it, a typing slip): the forms and the services check the same bounds.
VITAL_BOUNDS: dict[str, tuple[int, int]] = {
    "weight_kg": (20, 300),
    "bp_systolic": (50, 260),
    "bp_diastolic": (20, 160),
    "heart_rate": (20, 220),
    "spo2": (50, 100),
    "temperature_c": (30, 43),
}
DOSE_BOUNDS: dict[str, tuple[int, int]] = {
    "fluoro_seconds": (0, 7200),
    "air_kerma_mgy": (0, 20000),
    "dap_gycm2": (0, 2000),
}


@dataclass(frozen=True)
class AdmissionInput:
    identity_band: bool = False
    weight_kg: Decimal | None = None
    bp_systolic: int | None = None
    bp_diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    temperature_c: Decimal | None = None
    last_clear_liquid_at: datetime | None = None
    last_light_meal_at: datetime | None = None
    last_fatty_meal_at: datetime | None = None
    iv_access: bool = False
    consent_signed: bool = False
    driver_confirmed: bool = False
    allergies_reconfirmed: bool = False
    medicine_plan_followed: bool = False
    note: str = ""


def fasting_findings(case: Case, admission: Admission | AdmissionInput) -> list[Finding]:
    """Intake closer to the procedure start than the ASA hours allow → a stop for anesthesia."""
    assert case.appointment is not None
    start = case.appointment.start
    hours = precall_rules.fasting_hours()
    found = []
    for attribute, key, sentence in (
        (
            "last_clear_liquid_at",
            "clear_liquids_hours",
            gettext_noop("Clear liquids less than {limit} h before the procedure: anesthesia to decide."),
        ),
        (
            "last_light_meal_at",
            "light_meal_hours",
            gettext_noop("A light meal less than {limit} h before the procedure: anesthesia to decide."),
        ),
        (
            "last_fatty_meal_at",
            "fatty_meal_hours",
            gettext_noop("Fatty food less than {limit} h before the procedure: anesthesia to decide."),
        ),
    ):
        moment = getattr(admission, attribute)
        limit = int(hours[key].value)
        if moment is not None and moment > start - timedelta(hours=limit):
            found.append(
                Finding(
                    f"fasting.{key}",
                    Severity.STOP,
                    Text(sentence, limit=limit),
                    hours[key].source,
                    hours[key].confidence,
                )
            )
    return found


def admission_findings(case: Case) -> list[Finding]:
    """Admitting without the pre-procedure call on record is a stop (medicines, blood thinners, driver, pregnancy)."""
    if case.stage == Stage.SCHEDULED:
        return [
            Finding(
                "admit.no_precall",
                Severity.STOP,
                Text(
                    gettext_noop(
                        "The pre-procedure call is not recorded (medicines, blood thinners, driver, pregnancy)."
                    )
                ),
                "Service pathway step 3: call 24–48 h before the procedure",
                "seed",
            )
        ]
    return []


@owns("admit")
@transaction.atomic
def admit(
    actor: Actor, case: Case, *, version: int | None, data_in: AdmissionInput, override_reason: str = ""
) -> Admission:
    """Admit the patient the morning of the procedure with the pre-op nursing assessment."""
    _require(actor, "case.admit")
    errors: dict[str, Words] = {}
    now = clock.current()
    for name, (low, high) in VITAL_BOUNDS.items():
        value = getattr(data_in, name)
        if value is not None and not low <= value <= high:
            errors[name] = format_lazy(
                _("{value} is not a possible value ({low}–{high})."), value=value, low=low, high=high
            )
    for name in ("last_clear_liquid_at", "last_light_meal_at", "last_fatty_meal_at"):
        moment = getattr(data_in, name)
        if moment is not None and moment > now:
            errors[name] = _("This time is in the future.")
    if errors:
        raise ValidationError(errors)
    locked = kernel.lock_case(case, version)
    admission = Admission.objects.create(
        case=locked,
        arrived_at=now,
        assessed_at=now,
        assessed_by=actor.user_or_none,
        **{name: getattr(data_in, name) for name in AdmissionInput.__dataclass_fields__},
    )
    findings = fasting_findings(locked, admission)
    if not data_in.consent_signed:
        findings.append(
            Finding(
                "admission.no_consent",
                Severity.STOP,
                Text(gettext_noop("Consent is not signed.")),
                "Local pathway: consent before sedation",
                "local",
            )
        )
    if not data_in.medicine_plan_followed and _held_medicines(locked):
        findings.append(
            Finding(
                "admission.plan_not_followed",
                Severity.STOP,
                Text(gettext_noop("The blood-thinner plan was not confirmed as followed: radiologist review.")),
                "Blood-thinner table and the pre-procedure call",
                "local",
            )
        )
    admission.findings = [f.as_dict() for f in findings]
    admission.save(update_fields=["findings"])
    locked, _event = kernel.move(
        actor,
        locked,
        "admit",
        version=None,
        findings=admission_findings(locked),
        override_reason=override_reason,
        already_locked=True,
    )
    kernel.close_tasks(actor, locked, [TaskKind.PRECALL], TaskStatus.CANCELLED, gettext("admitted"))
    if locked.appointment is not None:
        scheduling.set_appointment_status(locked.appointment, AppointmentStatus.ARRIVED)
    audit.record(
        actor,
        AuditAction.CREATE,
        "admission",
        admission.pk,
        patient_uuid=locked.patient.uuid,
        detail="admitted",
    )
    return admission


def _held_medicines(case: Case) -> list[Medication]:
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    return [m for m in call.medications.all() if m.hold] if call else []


def readiness_findings(case: Case) -> list[Finding]:
    """Everything that must be true before the needle: labs, the call's and admission's stops, > 3 levels."""
    assert case.appointment is not None
    held = {m.drug_id for m in _held_medicines(case)}
    found = lab_rules.lab_findings(
        labs.lab_values(case),
        case.appointment.start,
        labs.lab_policy(case),
        inr_same_day="warfarin" in held,
        heparin_check=lab_rules.heparin_checked(held),
    )
    admission = getattr(case, "admission", None)
    if admission is not None:
        found += [Finding.from_dict(f) for f in admission.findings]
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    if call is not None:
        found += [Finding.from_dict(f) for f in call.findings if f["severity"] == "stop"]
    if case.levels.count() > int(triage_rules.thresholds()["max_levels"].value):
        found.append(triage_rules.finding("relative.too_many_levels", count=case.levels.count()))
    for part in (ChecklistPart.SIGN_IN, ChecklistPart.TIME_OUT):
        if not Checklist.objects.filter(case=case, part=part).exists():
            found.append(
                Finding(
                    f"checklist.{part}",
                    Severity.STOP,
                    Text(gettext_noop("{part} is not signed."), part=str(ChecklistPart(part).label)),
                    "Local pathway: three-part safety checklist",
                    "local",
                )
            )
    return by_severity(found)


# --- checklist and sedation ---------------------------------------------------------------------------------


CHECKLIST_PERMISSION = {
    ChecklistPart.SIGN_IN: "case.clear",
    ChecklistPart.TIME_OUT: "case.start_procedure",
    ChecklistPart.SIGN_OUT: "case.end_procedure",
}


@owns("clear")
@transaction.atomic
def sign_checklist(actor: Actor, case: Case, part: str, ticked: set[str], note: str = "") -> Checklist:
    if part not in ChecklistPart.values:
        raise ValidationError(_("Unknown checklist part."))
    _require(actor, CHECKLIST_PERMISSION[ChecklistPart(part)])
    if Checklist.objects.filter(case=case, part=part).exists():
        raise ValidationError(
            format_lazy(_("{checklist_part} is already signed."), checklist_part=ChecklistPart(part).label)
        )
    order = list(ChecklistPart.values)
    for earlier in order[: order.index(part)]:
        if not Checklist.objects.filter(case=case, part=earlier).exists():
            raise ValidationError(
                format_lazy(_("Sign {part} first."), part=ChecklistPart(earlier).label.split(" (")[0].lower())
            )
    items = checklist_items(part)
    missing = [label for key, label in items if key not in ticked]
    if missing:
        raise ValidationError([format_lazy(_("Not confirmed: {item}."), item=label) for label in missing])
    checklist = Checklist.objects.create(
        case=case,
        part=part,
        items={key: True for key, _label in items},
        note=note,
        signed_at=clock.current(),
        signed_by=actor.user_or_none,
    )
    if part == ChecklistPart.SIGN_IN and case.stage == Stage.ADMITTED:
        # Sign-in is the anesthesia check before sedation: it clears the case for the procedure room.
        # Open stops do not block here; they block the start (one place to override, with a reason).
        kernel.move(actor, case, "clear", version=None, reason=gettext("Sign-in signed"))
    summary = f"{ChecklistPart(part).label} signed"
    if part == ChecklistPart.TIME_OUT and case.levels.count() > int(triage_rules.thresholds()["max_levels"].value):
        summary += f" — caution: {case.levels.count()} levels in one session"
    kernel.record_event(actor, case, EventKind.NOTE, summary, reason=note)
    audit.record(actor, AuditAction.CREATE, "checklist", checklist.pk, patient_uuid=case.patient.uuid, detail=part)
    return checklist


@dataclass(frozen=True)
class SedationInput:
    provider_name: str
    provider_role: str
    asa_class: int
    level: str
    started_at: datetime
    ended_at: datetime | None = None
    airway_notes: str = ""
    agents: str = ""
    events: str = ""


@transaction.atomic
def record_sedation(actor: Actor, case: Case, data_in: SedationInput) -> Sedation:
    if actor.user is not None and not may(actor.user, "case.clear"):
        raise NotPermitted(_("Only anesthesia or the radiologist records sedation."))
    errors: dict[str, Words] = {}
    if not data_in.provider_name.strip():
        errors["provider_name"] = _("Enter the anesthesia provider.")
    if not 1 <= data_in.asa_class <= 6:
        errors["asa_class"] = _("ASA physical status is 1 to 6.")
    if data_in.level not in Sedation.Level.values:
        errors["level"] = _("Choose the sedation level.")
    if data_in.provider_role not in Sedation.ProviderRole.values:
        errors["provider_role"] = _("Choose the provider's role.")
    if data_in.ended_at is not None and data_in.ended_at < data_in.started_at:
        errors["ended_at"] = _("Sedation cannot end before it starts.")
    if errors:
        raise ValidationError(errors)
    values = {name: getattr(data_in, name) for name in SedationInput.__dataclass_fields__}
    sedation, _created = Sedation.objects.update_or_create(
        case=case, defaults=values | {"recorded_by": actor.user_or_none}
    )
    audit.record(actor, AuditAction.UPDATE, "sedation", sedation.pk, patient_uuid=case.patient.uuid, detail="sedation")
    return sedation


# --- the procedure ------------------------------------------------------------------------------------------


@owns("start_procedure")
@transaction.atomic
def start_procedure(
    actor: Actor, case: Case, *, version: int | None, operators: str, override_reason: str = ""
) -> ProcedureRecord:
    """Start: refused while sign-in or time-out is missing or a stop is open, unless a radiologist overrides."""
    if not operators.strip():
        raise ValidationError({"operators": _("Name the operator(s).")})
    findings = readiness_findings(case)
    checklist_missing = [f for f in findings if f.code.startswith("checklist.")]
    if checklist_missing:
        # The checklist is never overridden: it is done, not waived.
        raise ValidationError([f.message for f in checklist_missing])
    locked, _event = kernel.move(
        actor, case, "start_procedure", version=version, findings=findings, override_reason=override_reason
    )
    record = ProcedureRecord.objects.create(case=locked, operators=operators.strip(), started_at=clock.current())
    audit.record(actor, AuditAction.CREATE, "procedure", record.pk, patient_uuid=locked.patient.uuid, detail="started")
    return record


@dataclass(frozen=True)
class LevelInput:
    level: str
    sides: str
    cement_product: str
    cement_lot: str
    cement_mixed_at: datetime
    cement_ml_left: Decimal | None = None
    cement_ml_right: Decimal | None = None
    balloon_size: str = ""
    pressure_left_psi: int | None = None
    pressure_right_psi: int | None = None
    balloon_ml_left: Decimal | None = None
    balloon_ml_right: Decimal | None = None
    restoration: str = "partial"
    leakage: str = "none"
    leakage_location: str = ""
    biopsy: bool = False
    off_plan_reason: str = ""


def _check_level(case: Case, record: ProcedureRecord, item: LevelInput) -> str:
    errors: dict[str, Words] = {}
    try:
        level = parse_level(item.level)
    except InvalidLevel as exc:
        raise ValidationError({"level": str(exc)}) from exc
    if record.levels.filter(level=level).exists():
        errors["level"] = format_lazy(_("{level} is already recorded."), level=level)
    planned = set(case.levels.values_list("level", flat=True))
    if level not in planned and not item.off_plan_reason.strip():
        errors["off_plan_reason"] = format_lazy(
            _("{level} is not in the plan ({planned}): give the reason."),
            level=level,
            planned=", ".join(sorted(planned)),
        )
    if item.sides not in TreatedLevel.Sides.values:
        errors["sides"] = _("Choose the side(s).")
    if item.cement_product not in products():
        errors["cement_product"] = _("Choose the cement product.")
    if not item.cement_lot.strip():
        errors["cement_lot"] = _("Enter the cement lot.")
    if item.cement_mixed_at > clock.current() + timedelta(minutes=1):
        errors["cement_mixed_at"] = _("The mixing time is in the future.")
    if item.cement_mixed_at < record.started_at - timedelta(minutes=30):
        errors["cement_mixed_at"] = _("The cement was mixed long before the procedure started.")
    needed = {"bilateral": ("left", "right"), "left": ("left",), "right": ("right",)}.get(item.sides, ())
    cement_max, balloon_max = _bound("cement_ml_per_side_max"), _bound("balloon_ml_per_side_max")
    pressure_max = _bound("balloon_pressure_psi_max")
    for side in ("left", "right"):
        cement = getattr(item, f"cement_ml_{side}")
        if side in needed:
            if cement is None or not Decimal(0) < cement <= cement_max:
                errors[f"cement_ml_{side}"] = format_lazy(
                    _("Cement volume ({side}) must be more than 0 and at most {most} mL."),
                    side=SIDE_WORDS[side],
                    most=cement_max,
                )
        elif cement is not None:
            errors[f"cement_ml_{side}"] = format_lazy(_("The {side} side was not treated."), side=SIDE_WORDS[side])
        balloon = getattr(item, f"balloon_ml_{side}")
        if balloon is not None and not Decimal(0) < balloon <= balloon_max:
            errors[f"balloon_ml_{side}"] = format_lazy(
                _("Balloon volume must be more than 0 and at most {most} mL."), most=balloon_max
            )
        pressure = getattr(item, f"pressure_{side}_psi")
        if pressure is not None and not 0 < pressure <= pressure_max:
            errors[f"pressure_{side}_psi"] = format_lazy(
                _("Pressure must be more than 0 and at most {most} psi."), most=pressure_max
            )
    if item.leakage not in TreatedLevel.Leakage.values:
        errors["leakage"] = _("Choose the leakage.")
    if item.leakage != "none" and not item.leakage_location.strip():
        errors["leakage_location"] = _("Say where the cement leaked.")
    if case.etiology == "neoplastic" and not item.biopsy:
        errors["biopsy"] = _("A biopsy is required when malignancy is suspected.")
    if errors:
        raise ValidationError(errors)
    return level


@transaction.atomic
def record_level(actor: Actor, case: Case, item: LevelInput) -> TreatedLevel:
    _require(actor, "case.end_procedure")
    if case.stage != Stage.IN_PROCEDURE:
        raise ValidationError(_("Levels are recorded while the procedure is in progress."))
    record = ProcedureRecord.objects.select_for_update(no_key=True).get(case=case)
    level = _check_level(case, record, item)
    values = {name: getattr(item, name) for name in LevelInput.__dataclass_fields__} | {"level": level}
    treated = TreatedLevel.objects.create(
        record=record, order=record.levels.count() + 1, recorded_at=clock.current(), **values
    )
    kernel.record_event(
        actor,
        case,
        EventKind.NOTE,
        gettext("Level {level} treated ({sides})").format(level=level, sides=treated.get_sides_display().lower()),
    )
    audit.record(actor, AuditAction.CREATE, "treated_level", treated.pk, patient_uuid=case.patient.uuid, detail=level)
    return treated


@transaction.atomic
def declare_cement_set(actor: Actor, treated: TreatedLevel) -> TreatedLevel:
    _require(actor, "case.end_procedure")
    if treated.cement_set_at is not None:
        raise ValidationError(_("The cement is already recorded as set."))
    TreatedLevel.objects.filter(pk=treated.pk).update(cement_set_at=clock.current())
    treated.refresh_from_db()
    warning = cement_set_warning(treated)
    if warning:
        kernel.record_event(actor, treated.record.case, EventKind.NOTE, warning)
    return treated


def cement_set_warning(treated: TreatedLevel) -> str:
    """A "set" declared before the product's setting time after mixing reads as a mistake: say so ("" if not)."""
    if treated.cement_set_at is None or treated.cement_product not in products():
        return ""
    product = products()[treated.cement_product]
    elapsed = treated.cement_set_at - treated.cement_mixed_at
    if elapsed >= product.setting:
        return ""
    return gettext(
        "Cement at {level} declared set {elapsed} after mixing; {product} sets about {setting} min after mixing "
        "(working time {working} min). Check the times."
    ).format(
        level=treated.level,
        elapsed=when.duration(elapsed),
        product=product.name,
        setting=f"{product.setting.total_seconds() / 60:g}",
        working=f"{product.working.total_seconds() / 60:g}",
    )


def coding_for(case: Case, record: ProcedureRecord) -> dict[str, Any]:
    levels = list(record.levels.order_by("order").values_list("level", flat=True))
    etiology = ETIOLOGY_FOR_CODING.get(case.etiology) or (case.neoplastic_kind or "other")
    return code_procedure(levels, etiology).as_json() if levels else {}


@dataclass(frozen=True)
class EndInput:
    ended_at: datetime
    fluoro_seconds: int | None = None
    air_kerma_mgy: Decimal | None = None
    dap_gycm2: Decimal | None = None
    complications: str = ""
    complication_grade: str = ""


@owns("end_procedure")
@transaction.atomic
def end_procedure(actor: Actor, case: Case, *, version: int | None, data_in: EndInput) -> ProcedureRecord:
    """End the procedure (levels recorded, times consistent), code it, and move the case to recovery."""
    _require(actor, "case.end_procedure")
    record = ProcedureRecord.objects.select_for_update(no_key=True).get(case=case)
    errors: dict[str, Words] = {}
    if data_in.ended_at <= record.started_at:
        errors["ended_at"] = _("The end is before the start.")
    if data_in.ended_at > clock.current() + timedelta(minutes=1):
        errors["ended_at"] = _("The end is in the future.")
    if not record.levels.exists():
        errors["__all__"] = _("Record at least one treated level.")
    for name, (_low, high) in DOSE_BOUNDS.items():
        value = getattr(data_in, name)
        if value is not None and not 0 <= value <= high:
            errors[name] = format_lazy(_("{value} is not a possible value (0–{high})."), value=value, high=high)
    if errors:
        raise ValidationError(errors)
    for name in EndInput.__dataclass_fields__:
        setattr(record, name, getattr(data_in, name))
    record.coding = coding_for(case, record)
    record.version += 1
    record.save()
    locked, _event = kernel.move(actor, case, "end_procedure", version=version)
    if locked.appointment is not None:
        scheduling.set_appointment_status(locked.appointment, AppointmentStatus.COMPLETED)
    return record


@transaction.atomic
def add_addendum(actor: Actor, note: ProcedureNote, text: str) -> Addendum:
    _require(actor, "case.end_procedure")
    if not text.strip():
        raise ValidationError({"text": _("Write the addendum.")})
    addendum = Addendum.objects.create(
        note=note, text=text.strip(), author=actor.user_or_none, author_name=kernel.signature(actor), at=clock.current()
    )
    kernel.record_event(
        actor, note.case, EventKind.NOTE, gettext("Addendum to the procedure note"), reason=text.strip()
    )
    audit.record(actor, AuditAction.CREATE, "addendum", addendum.pk, patient_uuid=note.case.patient.uuid)
    return addendum


@dataclass(frozen=True)
class DoseReport:
    """What an X-Ray Radiation Dose SR of the procedure gives (the edge reads it: interop.dicom.dose)."""

    performed_on: date | None
    fluoro_seconds: int | None = None
    air_kerma_mgy: Decimal | None = None
    dap_gycm2: Decimal | None = None


@transaction.atomic
def record_dose_report(actor: Actor, case: Case, report: DoseReport) -> list[str]:
    """Fill the procedure record's fluoroscopy time, air kerma and dose-area product from the procedure's dose
    report. Only empty fields are filled: a value someone typed stays, and a report that disagrees with it is noted
    on the timeline for the radiologist. A report of another day than the procedure's changes nothing."""
    kernel.require(actor, "imaging.import")
    record = ProcedureRecord.objects.select_for_update(no_key=True).filter(case=case).first()
    if record is None:
        raise InvalidInput(gettext("A dose report can only be added once the procedure has started."))
    started_on = when.local_day(record.started_at, case.site)
    if report.performed_on is not None and report.performed_on != started_on:
        raise InvalidInput(gettext("The dose report is of another day than the procedure: it was not used."))
    filled, differs = [], []
    for name in DOSE_BOUNDS:
        value = getattr(report, name)
        if value is None or not 0 <= value <= DOSE_BOUNDS[name][1]:
            continue
        current = getattr(record, name)
        if current is None:
            setattr(record, name, value)
            filled.append(name)
        elif Decimal(current) != Decimal(value):
            differs.append(name)
    if filled:
        record.version += 1
        record.save(update_fields=[*filled, "version"])
    words = {
        "fluoro_seconds": gettext("fluoroscopy time"),
        "air_kerma_mgy": gettext("air kerma"),
        "dap_gycm2": gettext("dose-area product"),
    }
    if filled or differs:
        summary = gettext("Dose report read: {filled}").format(
            filled=", ".join(words[n] for n in filled) or gettext("nothing new")
        )
        if differs:
            summary += "; " + gettext("differs from the record: {names}").format(
                names=", ".join(words[n] for n in differs)
            )
        kernel.record_event(actor, case, EventKind.NOTE, summary)
        audit.record(
            actor, AuditAction.UPDATE, "procedure", record.pk, patient_uuid=case.patient.uuid, detail="dose report"
        )
    return filled
