"""The only functions that change patient records."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.patients.models import Allergy, AllergyStatus, Patient, PatientVersion
from kyphos.translation import Words

IDENTITY_FIELDS = (
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "phone_mobile",
    "phone_home",
    "email",
    "address",
    "preferred_language",
    "preferred_channel",
    "needs_interpreter",
    "caregiver_name",
    "caregiver_relationship",
    "caregiver_phone",
)


@dataclass(frozen=True)
class PatientDetails:
    assigning_authority: str
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str = "U"
    phone_mobile: str = ""
    phone_home: str = ""
    email: str = ""
    address: str = ""
    preferred_language: str = "en"
    preferred_channel: str = "phone"
    needs_interpreter: bool = False
    caregiver_name: str = ""
    caregiver_relationship: str = ""
    caregiver_phone: str = ""


# An MRN as most record systems issue them: letters and digits, with hyphens inside; a site sets its own pattern.
DEFAULT_MRN_PATTERN = r"[A-Za-z0-9][A-Za-z0-9-]{0,39}"
NAME_MAX = 100


def _check(details: PatientDetails, mrn_pattern: str = DEFAULT_MRN_PATTERN) -> None:
    errors: dict[str, Words] = {}
    today = clock.current().date()
    mrn = details.mrn.strip()
    if not mrn:
        errors["mrn"] = _("Enter the MRN.")
    elif not re.fullmatch(mrn_pattern, mrn):
        errors["mrn"] = _("This is not an MRN of this site (letters, digits and hyphens, as the site issues them).")
    for name, empty in (("family_name", _("Enter the family name.")), ("given_name", _("Enter the given name."))):
        value = str(getattr(details, name)).strip()
        if not value:
            errors[name] = empty
        elif len(value) > NAME_MAX:
            errors[name] = format_lazy(_("A name of at most {most} characters."), most=NAME_MAX)
    if details.date_of_birth > today:
        errors["date_of_birth"] = _("The date of birth is in the future.")
    elif details.date_of_birth.year < today.year - 120:
        errors["date_of_birth"] = _("The date of birth is more than 120 years ago.")
    if len(details.address) > 500:
        errors["address"] = _("An address of at most 500 characters.")
    for name in (
        "mrn",
        "family_name",
        "given_name",
        "phone_mobile",
        "phone_home",
        "email",
        "address",
        "caregiver_name",
    ):
        if "\x00" in str(getattr(details, name)):
            errors[name] = _("This field contains a character that is not allowed.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def register_patient(actor: Actor, details: PatientDetails, *, mrn_pattern: str = DEFAULT_MRN_PATTERN) -> Patient:
    """Create a patient; an MRN already known for the same authority, or not in its pattern, is refused."""
    _check(details, mrn_pattern)
    if Patient.objects.filter(assigning_authority=details.assigning_authority, mrn=details.mrn.strip()).exists():
        raise ValidationError({"mrn": _("A patient with this MRN already exists; choose the existing patient.")})
    moment = clock.current()
    values: dict[str, Any] = {name: getattr(details, name) for name in IDENTITY_FIELDS}
    values["family_name"] = values["family_name"].strip()
    values["given_name"] = values["given_name"].strip()
    patient = Patient.objects.create(
        assigning_authority=details.assigning_authority,
        mrn=details.mrn.strip(),
        created_at=moment,
        updated_at=moment,
        **values,
    )
    audit.record(actor, AuditAction.CREATE, "patient", patient.uuid, patient_uuid=patient.uuid, detail="registered")
    return patient


@transaction.atomic
def update_patient(
    actor: Actor,
    patient: Patient,
    details: PatientDetails,
    *,
    fields: Iterable[str] = IDENTITY_FIELDS,
    mrn_pattern: str = DEFAULT_MRN_PATTERN,
) -> list[str]:
    """Bring the patient's identity and contact details to ``details`` for the ``fields`` given (a registration
    system's update names only what it carries). Returns the fields that changed; the audit entry names them
    (never their values)."""
    _check(details, mrn_pattern)
    locked = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    before = PatientVersion.record_of(locked)
    wanted = [name for name in IDENTITY_FIELDS if name in set(fields)]
    changed = []
    for name in wanted:
        value = getattr(details, name)
        value = value.strip() if isinstance(value, str) else value
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if changed:
        _keep(before, clock.current())
        locked.version += 1
        locked.updated_at = clock.current()
        locked.save(update_fields=[*changed, "version", "updated_at"])
        audit.record(
            actor,
            AuditAction.UPDATE,
            "patient",
            locked.uuid,
            patient_uuid=locked.uuid,
            detail=("changed: " + ", ".join(changed))[:200],
        )
    return changed


def _keep(record: dict[str, Any], moment: Any) -> None:
    """Keep the version a change is about to replace (the caller holds the patient's row lock)."""
    PatientVersion.objects.create(patient_id=record["id"], version=record["version"], record=record, replaced_at=moment)


@transaction.atomic
def retire_patient(actor: Actor, retired: Patient, survivor: Patient) -> bool:
    """Mark ``retired`` as merged into ``survivor`` and give the survivor its allergies (the pathway moves the
    cases: pathway.services.merge_patients). Both records stay, with their identifiers and audit trails. Returns
    False when it was already merged there."""
    locked = Patient.objects.select_for_update(no_key=True).get(pk=retired.pk)
    if locked.merged_into_id == survivor.pk:
        return False
    if locked.pk == survivor.pk:
        raise ValidationError(_("A patient cannot be merged into itself."))
    if locked.merged_into_id is not None:
        raise ValidationError(_("This patient was already merged into another record."))
    if survivor.merged_into_id is not None:
        raise ValidationError(_("The surviving patient was itself merged into another record."))
    moment = clock.current()
    Allergy.objects.filter(patient=locked).update(patient=survivor)
    statuses = {locked.allergy_status, survivor.allergy_status}
    if AllergyStatus.RECORDED in statuses or Allergy.objects.filter(patient=survivor, active=True).exists():
        status = AllergyStatus.RECORDED
    elif AllergyStatus.NONE_KNOWN in statuses:
        status = AllergyStatus.NONE_KNOWN
    else:
        status = AllergyStatus.NOT_RECORDED
    Patient.objects.filter(pk=survivor.pk).update(allergy_status=status, updated_at=moment)
    _keep(PatientVersion.record_of(locked), moment)
    Patient.objects.filter(pk=locked.pk).update(
        merged_into=survivor, merged_at=moment, updated_at=moment, version=F("version") + 1
    )
    for who, detail in ((locked, f"merged into {survivor.uuid}"), (survivor, f"kept; {locked.uuid} merged into it")):
        audit.record(actor, AuditAction.UPDATE, "patient", who.uuid, patient_uuid=who.uuid, detail=detail)
    return True


@transaction.atomic
def record_allergy(actor: Actor, patient: Patient, category: str, substance: str, reaction: str = "") -> Allergy:
    allergy = Allergy.objects.create(
        patient=patient,
        category=category,
        substance=substance,
        reaction=reaction,
        recorded_at=clock.current(),
    )
    Patient.objects.filter(pk=patient.pk).update(allergy_status=AllergyStatus.RECORDED, updated_at=clock.current())
    patient.allergy_status = AllergyStatus.RECORDED
    audit.record(actor, AuditAction.UPDATE, "allergy", allergy.pk, patient_uuid=patient.uuid, detail="allergy added")
    return allergy


@transaction.atomic
def record_no_known_allergies(actor: Actor, patient: Patient) -> None:
    if patient.allergies.filter(active=True).exists():
        raise ValidationError(_("Active allergies are recorded; remove them before recording no known allergies."))
    Patient.objects.filter(pk=patient.pk).update(allergy_status=AllergyStatus.NONE_KNOWN, updated_at=clock.current())
    patient.allergy_status = AllergyStatus.NONE_KNOWN
    audit.record(
        actor,
        AuditAction.UPDATE,
        "patient",
        patient.uuid,
        patient_uuid=patient.uuid,
        detail="no known allergies",
    )


# A mobile number a text can go to: E.164, "+" and the country code, 7 to 15 digits (ITU-T E.164, 2010, section 6).
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CONTACT_FIELDS = {"phone_mobile": "mobile phone", "email": "e-mail"}


def e164(text: str) -> str | None:
    """``+1 (212) 555-0100`` → ``+12125550100``; None when it is not an international mobile number."""
    compact = re.sub(r"[\s().-]", "", text or "")
    return compact if E164.match(compact) else None


@transaction.atomic
def change_contact(actor: Actor, patient: Patient, field: str, value: str) -> bool:
    """Change the patient's mobile phone or e-mail (already checked by the caller); the audit entry keeps the old
    and the new value, as the privacy officer needs to tell who changed where messages go. False if unchanged."""
    if field not in CONTACT_FIELDS:
        raise ValueError(f"Not a contact field: {field}")
    locked = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    old = getattr(locked, field)
    if old == value:
        return False
    _keep(PatientVersion.record_of(locked), clock.current())
    setattr(locked, field, value)
    locked.version += 1
    locked.updated_at = clock.current()
    locked.save(update_fields=[field, "version", "updated_at"])
    setattr(patient, field, value)
    patient.version, patient.updated_at = locked.version, locked.updated_at
    audit.record(
        actor,
        AuditAction.UPDATE,
        "patient",
        patient.uuid,
        patient_uuid=patient.uuid,
        detail=f"{CONTACT_FIELDS[field]} changed from {old or '(none)'} to {value}",
    )
    return True
