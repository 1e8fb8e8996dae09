"""The operative note: its sections prefilled from the record, edited by the radiologist, then signed for good.

A note is a sequence of sections (indication, consent, sedation, approach and technique per level, cement,
radiation dose, complications, impression, plan). ``prefilled`` writes each from what the record holds; a draft
keeps the radiologist's edits until signing; the signed note keeps the sections as text (for the EHR and registries)
beside its HTML and PDF, and is corrected only by addenda. Written in the site's language: it is the site's record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.messaging.letters import LetterContent, render_html, render_pdf, with_letterhead
from kyphos.pathway import kernel
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import Case, EventKind
from kyphos.pathway.policy import may
from kyphos.precall.models import CallStatus
from kyphos.procedure.models import (
    LEAKAGE_PLACES,
    Checklist,
    ChecklistPart,
    NoteDraft,
    ProcedureNote,
    ProcedureRecord,
    TreatedLevel,
)
from kyphos.rules import data
from kyphos.rules.cement import products

# The sections in the order a reader expects them; the headings are the site's words.
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("indication", _("Indication")),
    ("consent", _("Consent and time-out")),
    ("sedation", _("Sedation and anesthesia")),
    ("technique", _("Approach and technique")),
    ("cement", _("Cement")),
    ("dose", _("Radiation dose")),
    ("complications", _("Complications")),
    ("impression", _("Impression")),
    ("plan", _("Plan")),
)
KEYS = tuple(key for key, _heading in SECTIONS)
# What a note cannot be signed without.
REQUIRED = frozenset({"indication", "technique", "cement", "impression", "plan"})
SECTION_MAX = 4000

APPROACH_WORDS = {"transpedicular": _("transpedicular"), "extrapedicular": _("extrapedicular")}
GRADE_WORDS = {
    "minor": _("minor"),
    "moderate": _("moderate"),
    "severe": _("severe"),
    "life": _("life-threatening"),
}


def _require(actor: Actor) -> None:
    if not may(actor.user, "case.end_procedure"):
        raise NotPermitted(format_lazy(_("Your role does not allow this ({permission})."), permission="note"))


def _ml(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _product(code: str) -> str:
    return products()[code].name if code in products() else code


def _indication(case: Case) -> str:
    levels = ", ".join(f"{lv.level} {lv.get_acuity_display().lower()}" for lv in case.levels.order_by("position"))
    text = gettext(
        "Painful vertebral compression fracture: {levels}; cause {cause}. Pain {pain}/10 at referral"
    ).format(levels=levels or "—", cause=case.get_etiology_display().lower(), pain=case.pain_nrs)
    if case.pain_trend:
        text += gettext(", {trend}").format(trend=case.get_pain_trend_display().lower())
    if case.weeks_conservative_care is not None:
        text += ngettext(
            ", after {n} week of conservative care",
            ", after {n} weeks of conservative care",
            case.weeks_conservative_care,
        ).format(n=case.weeks_conservative_care)
    if case.hospitalized:
        text += gettext(", in hospital because of the pain")
    text += "."
    if case.kyphotic_deformity or case.progressive_height_loss:
        text += " " + gettext("Progressive height loss or kyphotic deformity on imaging.")
    return text


def _consent(case: Case) -> str:
    zone = case.site.zone
    admission = getattr(case, "admission", None)
    parts = [
        gettext("Written consent confirmed at admission ({at}).").format(
            at=when.staff_when(admission.assessed_at, zone)
        )
        if admission is not None and admission.consent_signed
        else gettext("Consent was not recorded at admission.")
    ]
    time_out = Checklist.objects.filter(case=case, part=ChecklistPart.TIME_OUT).select_related("signed_by").first()
    if time_out is not None:
        parts.append(
            gettext("Time-out done at {at}: patient, procedure, levels and side confirmed.").format(
                at=when.staff_time(time_out.signed_at, zone)
            )
        )
    return " ".join(parts)


def _sedation(case: Case) -> str:
    sedation = getattr(case, "sedation", None)
    if sedation is None:
        return gettext("No sedation recorded.")
    zone = case.site.zone
    text = gettext("{level} by {who} ({role}); ASA {asa}; from {start}").format(
        level=sedation.get_level_display(),
        who=sedation.provider_name,
        role=sedation.get_provider_role_display().lower(),
        asa=sedation.asa_class,
        start=when.staff_time(sedation.started_at, zone),
    )
    if sedation.ended_at:
        text += gettext(" to {end}").format(end=when.staff_time(sedation.ended_at, zone))
    text += "."
    for label, value in (
        (gettext("Agents"), sedation.agents),
        (gettext("Airway"), sedation.airway_notes),
        (gettext("Events"), sedation.events),
    ):
        if value:
            text += f" {label}: {value.strip()}."
    return text


def _technique(record: ProcedureRecord, levels: list[TreatedLevel]) -> str:
    lines = [
        gettext("Balloon kyphoplasty, {approach} approach, under fluoroscopic guidance.").format(
            approach=APPROACH_WORDS.get(record.approach, record.approach)
        )
    ]
    for lv in levels:
        text = gettext("{order}. {level}, {sides}").format(
            order=lv.order, level=lv.level, sides=lv.get_sides_display().lower()
        )
        if lv.balloon_size:
            text += gettext("; balloon {size}").format(size=lv.balloon_size)
        pressures = [
            f"{side} {value} psi"
            for side, value in ((gettext("left"), lv.pressure_left_psi), (gettext("right"), lv.pressure_right_psi))
            if value is not None
        ]
        if pressures:
            text += gettext("; inflated to {pressures}").format(pressures=", ".join(pressures))
        text += gettext("; height restoration {restoration}").format(restoration=lv.get_restoration_display().lower())
        if lv.biopsy:
            text += gettext("; biopsy taken")
        if lv.off_plan_reason:
            text += gettext("; not in the plan: {reason}").format(reason=lv.off_plan_reason)
        lines.append(text + ".")
    return "\n".join(lines)


def _cement(case: Case, levels: list[TreatedLevel]) -> str:
    zone = case.site.zone
    lines = []
    total = Decimal(0)
    for lv in levels:
        volume = sum((v for v in (lv.cement_ml_left, lv.cement_ml_right) if v is not None), Decimal(0))
        total += volume
        text = gettext("{level}: {product}, lot {lot}; left {left} mL, right {right} mL ({volume} mL)").format(
            level=lv.level,
            product=_product(lv.cement_product),
            lot=lv.cement_lot,
            left=_ml(lv.cement_ml_left),
            right=_ml(lv.cement_ml_right),
            volume=_ml(volume),
        )
        text += gettext("; mixed {at}").format(at=when.staff_time(lv.cement_mixed_at, zone))
        if lv.cement_set_at:
            text += gettext(", set {at}").format(at=when.staff_time(lv.cement_set_at, zone))
        text += gettext("; leakage {leakage}").format(leakage=lv.get_leakage_display().lower())
        if lv.leakage_location:
            text += f" ({str(LEAKAGE_PLACES.get(lv.leakage_location, lv.leakage_location)).lower()})"
        lines.append(text + ".")
    lines.append(gettext("Total cement {total} mL.").format(total=_ml(total)))
    return "\n".join(lines)


def _dose(record: ProcedureRecord) -> str:
    return gettext("Fluoroscopy {seconds} s; cumulative air kerma {kerma} mGy; dose–area product {dap} Gy·cm².").format(
        seconds=record.fluoro_seconds if record.fluoro_seconds is not None else "—",
        kerma=record.air_kerma_mgy if record.air_kerma_mgy is not None else "—",
        dap=record.dap_gycm2 if record.dap_gycm2 is not None else "—",
    )


def _complications(record: ProcedureRecord) -> str:
    if not record.complications and not record.complication_grade:
        return gettext("None.")
    text = record.complications or ""
    if record.complication_grade:
        grade = gettext("Grade: {grade}.").format(grade=GRADE_WORDS.get(record.complication_grade, "—"))
        text = f"{text} ({grade})" if text else grade
    return text


def _impression(record: ProcedureRecord, levels: list[TreatedLevel]) -> str:
    names = ", ".join(lv.level for lv in levels)
    text = ngettext(
        "Balloon kyphoplasty of {count} level ({levels}) completed",
        "Balloon kyphoplasty of {count} levels ({levels}) completed",
        len(levels),
    ).format(count=len(levels), levels=names)
    leaks = [lv for lv in levels if lv.leakage != TreatedLevel.Leakage.NONE]
    if leaks:
        text += gettext("; cement leakage at {levels}").format(
            levels=", ".join(f"{lv.level} ({lv.get_leakage_display().lower()})" for lv in leaks)
        )
    else:
        text += gettext(" without cement leakage")
    if not record.complications and not record.complication_grade:
        text += gettext(" and without immediate complications")
    return text + "."


def _plan(case: Case) -> str:
    site = case.site
    lines = [
        ngettext(
            "Recovery observations, then the ward; discharge no sooner than {hours} hour after the end and after at "
            "least {checks} recovery checks within the site's limits.",
            "Recovery observations, then the ward; discharge no sooner than {hours} hours after the end and after at "
            "least {checks} recovery checks within the site's limits.",
            site.discharge_min_hours,
        ).format(hours=site.discharge_min_hours, checks=site.discharge_min_checks)
    ]
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    for med in [m for m in call.medications.all() if m.hold] if call else []:
        if med.restart_after:
            lines.append(
                gettext("Restart {drug} from {at}, as planned with the prescriber.").format(
                    drug=med.name, at=when.staff_when(med.restart_after, site.zone)
                )
            )
        else:
            lines.append(gettext("Restart {drug}: the prescriber decides when.").format(drug=med.name))
    rules = data.load("windows")["follow_up"]
    lines.append(
        gettext("Follow-up visit {first}–{last} days after the procedure; physical therapy as assessed then.").format(
            first=data.sourced(rules["first_day"], "follow_up.first_day").value,
            last=data.sourced(rules["last_day"], "follow_up.last_day").value,
        )
    )
    return "\n".join(lines)


def prefilled(case: Case, record: ProcedureRecord) -> dict[str, str]:
    """Every section written from the record as it stands."""
    levels = list(record.levels.order_by("order"))
    return {
        "indication": _indication(case),
        "consent": _consent(case),
        "sedation": _sedation(case),
        "technique": _technique(record, levels),
        "cement": _cement(case, levels),
        "dose": _dose(record),
        "complications": _complications(record),
        "impression": _impression(record, levels),
        "plan": _plan(case),
    }


def current_sections(case: Case, record: ProcedureRecord) -> dict[str, str]:
    """The note as it would be signed now: the saved draft where there is one, else prefilled from the record."""
    draft = NoteDraft.objects.filter(case=case).first()
    filled = prefilled(case, record)
    if draft is None:
        return filled
    return {key: str(draft.sections.get(key, filled[key])) for key in KEYS}


def _checked(sections: dict[str, str], *, signing: bool) -> dict[str, str]:
    cleaned = {key: str(sections.get(key, "")).replace("\r\n", "\n").strip() for key in KEYS}
    errors: dict[str, Any] = {}
    for key, heading in SECTIONS:
        if len(cleaned[key]) > SECTION_MAX:
            errors[key] = format_lazy(
                _("{section}: at most {limit} characters (this has {count})."),
                section=heading,
                limit=SECTION_MAX,
                count=len(cleaned[key]),
            )
        elif signing and key in REQUIRED and not cleaned[key]:
            errors[key] = format_lazy(_("{section}: write this section before signing."), section=heading)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _ended_record(case: Case) -> ProcedureRecord:
    record = ProcedureRecord.objects.filter(case=case).first()
    if record is None or record.ended_at is None:
        raise ValidationError(_("End the procedure before writing the note."))
    if ProcedureNote.objects.filter(case=case).exists():
        raise ValidationError(_("The note is already signed; add an addendum to correct it."))
    return record


@transaction.atomic
def save_draft(actor: Actor, case: Case, sections: dict[str, str]) -> NoteDraft:
    """Keep the radiologist's edits before signing (nothing is required yet)."""
    _require(actor)
    _ended_record(case)
    cleaned = _checked(sections, signing=False)
    draft, _created = NoteDraft.objects.update_or_create(
        case=case, defaults={"sections": cleaned, "saved_at": clock.current(), "saved_by": actor.user_or_none}
    )
    audit.record(actor, AuditAction.UPDATE, "note_draft", draft.pk, patient_uuid=case.patient.uuid)
    return draft


def content(
    case: Case, record: ProcedureRecord, sections: dict[str, str], signer: str, signed_at: Any
) -> LetterContent:
    """The signed note as a document: who and when, the sections as written, the coding for review."""
    patient = case.patient
    zone = case.site.zone
    blocks: list[tuple[str, Any]] = [
        (
            "p",
            gettext("Patient: {name}, MRN {mrn}, born {born}.").format(
                name=patient.display_name, mrn=patient.mrn, born=when.staff_date(patient.date_of_birth)
            ),
        ),
        (
            "p",
            gettext("Operators: {operators}. Start {start}, end {end} ({zone}).").format(
                operators=record.operators,
                start=when.staff_when(record.started_at, zone),
                end=when.staff_time(record.ended_at, zone) if record.ended_at else "—",
                zone=case.site.time_zone,
            ),
        ),
    ]
    for key, heading in SECTIONS:
        text = sections.get(key, "")
        if not text:
            continue
        blocks.append(("h", str(heading)))
        blocks.extend(("p", paragraph) for paragraph in text.split("\n") if paragraph.strip())
    coding = record.coding or {}
    blocks.append(("h", gettext("Coding (for review)")))
    blocks.append(
        (
            "p",
            gettext("CPT {cpt}; ICD-10-CM {icd}.").format(
                cpt=" + ".join(coding.get("cpt", [])), icd=", ".join(coding.get("icd10cm", [])) or gettext("(choose)")
            ),
        )
    )
    letter = LetterContent(
        title=gettext("Kyphoplasty procedure note"),
        language=settings.LANGUAGE_CODE,
        blocks=tuple(blocks),
        footer=gettext("Electronically signed by {signer}, {at}.").format(
            signer=signer, at=when.staff_when(signed_at, zone)
        ),
    )
    return with_letterhead(letter, case.site)


@transaction.atomic
def sign(actor: Actor, case: Case, sections: dict[str, str] | None = None) -> ProcedureNote:
    """Sign the note (after the checklist's sign-out): the sections given, else the draft or the prefilled text."""
    _require(actor)
    record = _ended_record(case)
    if not Checklist.objects.filter(case=case, part=ChecklistPart.SIGN_OUT).exists():
        raise ValidationError(_("Sign the sign-out part of the checklist first."))
    cleaned = _checked(sections if sections is not None else current_sections(case, record), signing=True)
    moment, signer = clock.current(), kernel.signature(actor)
    letter = content(case, record, cleaned, signer, moment)
    note = ProcedureNote(
        case=case,
        sections=[{"key": key, "text": cleaned[key]} for key in KEYS if cleaned[key]],
        html=render_html(letter),
        pdf=render_pdf(letter, moment),
        signed_at=moment,
        signed_by=actor.user_or_none,
        signed_name=signer,
    )
    note.save()
    NoteDraft.objects.filter(case=case).delete()
    kernel.record_event(actor, case, EventKind.NOTE, gettext("Procedure note signed"))
    audit.record(actor, AuditAction.CREATE, "procedure_note", note.pk, patient_uuid=case.patient.uuid, detail="signed")
    return note
