"""The procedure day: admission, the safety checklist, sedation, the procedure record and its note."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.models import Case


class Admission(models.Model):
    """The morning of the procedure: arrival and the pre-op nursing assessment."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="admission")
    arrived_at = models.DateTimeField()
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    identity_band = models.BooleanField("identity band on and checked", default=False)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    bp_systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO₂ %", null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)  # °C
    last_clear_liquid_at = models.DateTimeField(null=True, blank=True)
    last_light_meal_at = models.DateTimeField(null=True, blank=True)
    last_fatty_meal_at = models.DateTimeField(null=True, blank=True)
    iv_access = models.BooleanField("IV access in place", default=False)
    consent_signed = models.BooleanField(default=False)
    driver_confirmed = models.BooleanField("driver confirmed today", default=False)
    allergies_reconfirmed = models.BooleanField(default=False)
    medicine_plan_followed = models.BooleanField("medicine plan followed (last doses checked)", default=False)
    note = models.TextField(blank=True)
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["assessed_at", "id"], name="admission_assessed")]  # FHIR date order

    def __str__(self) -> str:
        return f"Admission {self.case_id}"


class ChecklistPart(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign-in (before sedation)")
    TIME_OUT = "time_out", _("Time-out (before the needle)")
    SIGN_OUT = "sign_out", _("Sign-out (before leaving the room)")


class Checklist(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="checklists")
    part = models.CharField(max_length=10, choices=ChecklistPart.choices)
    items = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "part"], name="checklist_part_once")]

    def __str__(self) -> str:
        return f"{self.get_part_display()}"


class Sedation(models.Model):
    class Level(models.TextChoices):
        LOCAL = "local", _("Local anesthetic only")
        MODERATE = "moderate", _("Moderate sedation")
        DEEP = "deep", _("Deep sedation")
        GENERAL = "general", _("General anesthesia")

    class ProviderRole(models.TextChoices):
        ANESTHESIOLOGIST = "anesthesiologist", _("Anesthesiologist")
        CRNA = "crna", _("Nurse anesthetist")

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="sedation")
    provider_name = models.CharField(max_length=120)
    provider_role = models.CharField(max_length=20, choices=ProviderRole.choices)
    asa_class = models.PositiveSmallIntegerField("ASA physical status")
    airway_notes = models.TextField(blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    agents = models.TextField("agents and doses", blank=True)
    events = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return f"Sedation {self.get_level_display()}"


class ProcedureRecord(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="procedure")
    operators = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    approach = models.CharField(max_length=20, default="transpedicular")
    fluoro_seconds = models.PositiveIntegerField("fluoroscopy time (s)", null=True, blank=True)
    air_kerma_mgy = models.DecimalField(
        "cumulative air kerma (mGy)", max_digits=8, decimal_places=1, null=True, blank=True
    )
    dap_gycm2 = models.DecimalField("dose–area product (Gy·cm²)", max_digits=8, decimal_places=2, null=True, blank=True)
    complications = models.TextField(blank=True)
    complication_grade = models.CharField(max_length=12, blank=True)
    coding = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        # The dashboard's cohort (procedures started in a period) and the FHIR Procedure date order.
        indexes = [models.Index(fields=["started_at", "id"], name="procedure_started")]

    def __str__(self) -> str:
        return f"Procedure {self.case_id}"


# Where leaked cement went (stored as the code on the left).
LEAKAGE_PLACES = {
    "epidural": _("Epidural"),
    "foraminal": _("Foraminal"),
    "venous": _("Venous"),
    "disc": _("Disc"),
    "paravertebral": _("Paravertebral"),
}


class TreatedLevel(models.Model):
    class Sides(models.TextChoices):
        BILATERAL = "bilateral", _("Bilateral")
        LEFT = "left", _("Left only")
        RIGHT = "right", _("Right only")

    class Leakage(models.TextChoices):
        NONE = "none", _("None")
        ASYMPTOMATIC = "asymptomatic", _("Asymptomatic")
        SYMPTOMATIC = "symptomatic", _("Symptomatic")

    class Restoration(models.TextChoices):
        NONE = "none", _("None")
        PARTIAL = "partial", _("Partial")
        FULL = "full", _("Full")

    record = models.ForeignKey(ProcedureRecord, on_delete=models.PROTECT, related_name="levels")
    order = models.PositiveSmallIntegerField("treatment order")
    level = models.CharField(max_length=3)
    sides = models.CharField(max_length=10, choices=Sides.choices)
    balloon_size = models.CharField(max_length=20, blank=True)
    pressure_left_psi = models.PositiveSmallIntegerField(null=True, blank=True)
    pressure_right_psi = models.PositiveSmallIntegerField(null=True, blank=True)
    balloon_ml_left = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    balloon_ml_right = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    restoration = models.CharField(max_length=8, choices=Restoration.choices, default=Restoration.PARTIAL)
    cement_product = models.CharField(max_length=40)
    cement_lot = models.CharField(max_length=40)
    cement_mixed_at = models.DateTimeField()
    cement_set_at = models.DateTimeField(null=True, blank=True)
    cement_ml_left = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    cement_ml_right = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    leakage = models.CharField(max_length=12, choices=Leakage.choices, default=Leakage.NONE)
    leakage_location = models.CharField(max_length=60, blank=True)
    biopsy = models.BooleanField(default=False)
    off_plan_reason = models.CharField("reason for a level not in the plan", max_length=200, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["record", "level"], name="treated_level_once")]

    def __str__(self) -> str:
        return self.level


class ProcedureNote(models.Model):
    """The signed note: never changed; corrections are addenda."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="procedure_note")
    # The sections as signed, [{"key": "indication", "text": "…"}, …] (procedure/note.py names them).
    sections = models.JSONField(default=list, blank=True)
    html = models.TextField()
    pdf = models.BinaryField()
    signed_at = models.DateTimeField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    signed_name = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"Procedure note {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("A signed procedure note cannot be changed; add an addendum.")
        super().save(*args, **kwargs)


class NoteDraft(models.Model):
    """The radiologist's edits to the note before it is signed (removed when the note is signed)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="note_draft")
    sections = models.JSONField(default=dict)
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Note draft {self.case_id}"


class Addendum(models.Model):
    note = models.ForeignKey(ProcedureNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    author_name = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.at:%Y-%m-%d %H:%M}"
