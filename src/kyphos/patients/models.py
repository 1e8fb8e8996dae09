"""Patient identity and contact."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.rules.names import name_key


class Sex(models.TextChoices):
    # HL7 v2 table 0001 administrative sex, the subset a registration system sends.
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "O", _("Other")
    UNKNOWN = "U", _("Unknown")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    CHINESE = "zh", _("Chinese")
    VIETNAMESE = "vi", _("Vietnamese")
    ARABIC = "ar", _("Arabic")
    FRENCH = "fr", _("French")
    RUSSIAN = "ru", _("Russian")
    PORTUGUESE = "pt", _("Portuguese")
    OTHER = "other", _("Other (see note)")


class AllergyStatus(models.TextChoices):
    NOT_RECORDED = "not_recorded", _("Allergies not recorded")
    NONE_KNOWN = "none_known", _("No known allergies")
    RECORDED = "recorded", _("Allergies recorded")


def years_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (an age on that day)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Patient(models.Model):
    # Sequential ids stay inside the database; URLs and other systems see ``uuid``.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assigning_authority = models.CharField(max_length=40, default="HOSP")
    mrn = models.CharField("MRN", max_length=40)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    # Search keys (rules.names): lower case, no accents, letters and digits only; kept in step by save().
    family_key = models.CharField(max_length=100, default="", editable=False)
    given_key = models.CharField(max_length=100, default="", editable=False)
    date_of_birth = models.DateField()
    sex = models.CharField("administrative sex", max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    phone_mobile = models.CharField(max_length=32, blank=True)
    phone_home = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    # The home address as the registration system holds it (HL7 PID-11), one line per part.
    address = models.TextField(blank=True)
    preferred_language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    preferred_channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.PHONE)
    needs_interpreter = models.BooleanField(default=False)
    caregiver_name = models.CharField(max_length=200, blank=True)
    caregiver_relationship = models.CharField(max_length=60, blank=True)
    caregiver_phone = models.CharField(max_length=32, blank=True)
    allergy_status = models.CharField(max_length=16, choices=AllergyStatus.choices, default=AllergyStatus.NOT_RECORDED)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # A duplicate record merged into another by the registration system (HL7 ADT^A40): it keeps its identifiers
    # and its audit trail; its cases and allergies now belong to the surviving patient.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assigning_authority", "mrn"], name="patient_mrn_per_authority"),
        ]
        indexes = [
            # pathway.selectors.case_list text search by name: a range on the keys ("munoz, an")
            models.Index(fields=["family_key", "given_key", "id"], name="patient_name_key"),
            # pathway.selectors.case_list text search by MRN (any authority)
            models.Index(fields=["mrn"], name="patient_mrn"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.family_key, self.given_key = name_key(self.family_name)[:100], name_key(self.given_name)[:100]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"family_name", "given_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "family_key", "given_key"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """FAMILY, Given — the order staff screens use so that names are read the same way everywhere."""
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_on(self, day: date) -> int:
        return years_on(self.date_of_birth, day)


class PatientVersion(models.Model):
    """A patient record as it was before a change replaced it (an update, a contact change, a merge): who the
    patient was recorded as, version by version. The FHIR API serves these to ``vread`` and ``_history``."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    record = models.JSONField(encoder=DjangoJSONEncoder)  # the record's own columns at that version
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-version"]
        constraints = [models.UniqueConstraint(fields=["patient", "version"], name="patient_version_once")]

    def __str__(self) -> str:
        return f"Patient {self.patient_id} v{self.version}"

    @staticmethod
    def record_of(patient: Patient) -> dict[str, Any]:
        return {f.attname: f.value_from_object(patient) for f in Patient._meta.concrete_fields}

    def as_patient(self) -> Patient:
        """The record as it was (not saved): each column read back by its own field."""
        fields = {f.attname: f for f in Patient._meta.concrete_fields}
        values = {name: fields[name].to_python(value) for name, value in self.record.items() if name in fields}
        return Patient(**values)


class Allergy(models.Model):
    class Category(models.TextChoices):
        CONTRAST = "contrast", _("Contrast / iodine")
        LATEX = "latex", _("Latex")
        CEMENT = "cement", _("Bone cement (PMMA)")
        SEDATIVE = "sedative", _("Sedatives / anesthetics")
        ANTIBIOTIC = "antibiotic", _("Antibiotics")
        ANALGESIC = "analgesic", _("Pain medicines")
        ADHESIVE = "adhesive", _("Adhesives / dressings")
        OTHER = "other", _("Other")

    # The FHIR API's AllergyIntolerance id (sequential ids stay inside the database).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    category = models.CharField(max_length=16, choices=Category.choices)
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10,
        blank=True,
        choices=[("mild", _("Mild")), ("moderate", _("Moderate")), ("severe", _("Severe (anaphylaxis)"))],
    )
    recorded_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["substance"]

    def __str__(self) -> str:
        return self.substance
