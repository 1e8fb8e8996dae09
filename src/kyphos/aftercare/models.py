"""After the procedure: recovery checks, the ward stay, pain scores, discharge."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kyphos.pathway.models import Case


class RecoveryCheck(models.Model):
    class Sites(models.TextChoices):
        DRY = "dry", "Dry"
        OOZING = "oozing", "Oozing"
        HEMATOMA = "hematoma", "Hematoma / swelling"

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
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pain_scores")
    at = models.DateTimeField()
    nrs = models.PositiveSmallIntegerField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"Pain {self.nrs}/10"
