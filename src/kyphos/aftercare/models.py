"""After the procedure: recovery checks, the ward stay, pain scores, discharge."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.models import Case


class RecoveryCheck(models.Model):
    class Sites(models.TextChoices):
        DRY = "dry", _("Dry")
        OOZING = "oozing", _("Oozing")
        HEMATOMA = "hematoma", _("Hematoma / swelling")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="recovery_checks")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    bp_systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_nrs = models.PositiveSmallIntegerField(null=True, blank=True)
    legs_strength_normal = models.BooleanField("leg strength as before")
    legs_sensation_normal = models.BooleanField("leg sensation as before")
    puncture_sites = models.CharField(max_length=10, choices=Sites.choices, default=Sites.DRY)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["at", "id"], name="check_at")]  # the FHIR API's Observation date order

    def __str__(self) -> str:
        return f"Check {self.at:%H:%M}"


class Stay(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="stay")
    ward_admitted_at = models.DateTimeField(null=True, blank=True)
    ward_bed = models.CharField(max_length=40, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge_criteria = models.JSONField(default=dict, blank=True)
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return f"Stay {self.case_id}"


class PainScore(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pain_scores")
    at = models.DateTimeField()
    nrs = models.PositiveSmallIntegerField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["at", "id"], name="pain_at")]

    def __str__(self) -> str:
        return f"Pain {self.nrs}/10"


class Questionnaire(models.Model):
    """A FHIR R4 Questionnaire a site loaded (or one of Kyphos's own), kept exactly as loaded."""

    url = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    definition = models.JSONField()
    scoring = models.CharField(max_length=16, blank=True)
    shipped = models.BooleanField("written for Kyphos", default=False)
    active = models.BooleanField(default=True)
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["title", "version"]
        constraints = [models.UniqueConstraint(fields=["url", "version"], name="questionnaire_url_version")]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"


class ResponseContext(models.TextChoices):
    BASELINE = "baseline", _("Before the procedure")
    DIARY = "diary", _("Symptom diary")
    PREVISIT = "previsit", _("Before the follow-up visit")
    FOLLOW_UP = "follow_up", _("At the follow-up visit")


class QuestionnaireResponse(models.Model):
    """Answers shaped as a FHIR QuestionnaireResponse (``items``), with the score the rule gave."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="questionnaire_responses")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="responses")
    context = models.CharField(max_length=12, choices=ResponseContext.choices)
    authored_at = models.DateTimeField()
    author = models.CharField(max_length=150)  # "patient" or the staff user's name
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    items = models.JSONField()
    score = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["authored_at", "id"]
        indexes = [
            models.Index(fields=["case", "context"], name="qr_case_context"),
            models.Index(fields=["authored_at", "id"], name="qr_authored"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} {self.get_context_display()}"

    def answer(self, link_id: str) -> Any:
        for item in self.items:
            if item.get("linkId") == link_id and item.get("answer"):
                value = item["answer"][0]
                return next(iter(value.values())) if len(value) == 1 else value
        return None


class DiaryEntry(models.Model):
    """One day's entry in the patient's symptom diary: the short questionnaire, the red-flag questions, free text."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="diary_entries")
    day = models.DateField()  # the patient's day, in the site's zone
    at = models.DateTimeField()
    response = models.OneToOneField(QuestionnaireResponse, on_delete=models.PROTECT, related_name="diary_entry")
    pain = models.PositiveSmallIntegerField()
    red_flags = models.JSONField(default=list, blank=True)  # ids of rules/data/redflags.toml raised
    answers = models.JSONField(default=dict, blank=True)  # red-flag question id → yes/no
    # "Since you went home, have you been admitted to a hospital?" (None: the entry did not ask)
    admitted = models.BooleanField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)  # °C
    action = models.CharField(max_length=12, blank=True)  # the strongest red-flag action, or ""
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["at", "id"], name="diary_at")]

    def __str__(self) -> str:
        return f"Diary {self.day}"


class FollowUpRecord(models.Model):
    """The radiologist's follow-up visit: how the patient is, what was found and what was ordered."""

    class Outcome(models.TextChoices):
        DISCHARGE = "discharge", _("Discharge from the kyphoplasty service")
        FURTHER = "further", _("See again (another follow-up visit)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    pain_today = models.PositiveSmallIntegerField()
    medicines_restarted = models.JSONField(default=dict, blank=True)  # medicine name → "yes" / "no" / "n/a"
    complications = models.JSONField(default=list, blank=True)
    complication_note = models.TextField(blank=True)
    new_fracture_suspected = models.BooleanField(default=False)
    pt_referral = models.BooleanField(default=False)
    pt_note = models.TextField(blank=True)
    bmd_referral = models.BooleanField(default=False)
    bmd_note = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["at", "id"], name="visit_at")]

    def __str__(self) -> str:
        return f"Follow-up {self.at:%Y-%m-%d}"


class CaseOutcome(models.Model):
    """Outcomes per case, refreshed whenever a pain score or questionnaire is recorded (for the dashboard)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="outcome")
    pain_baseline = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_24_48h = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_follow_up = models.PositiveSmallIntegerField(null=True, blank=True)
    questionnaire = models.CharField(max_length=250, blank=True)  # canonical url|version of the scores below
    score_baseline = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    score_follow_up = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Outcome {self.case_id}"
