"""One lab result of a case (INR, platelets, hemoglobin, creatinine, hCG …), with where it came from.

A result the laboratory corrects is never edited: the correction is a new row that ``corrects`` the old one, and
the old one is marked superseded (HL7 v2.5.1 table 0085, result status C). The rules read current rows only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.models import Case


class ResultStatus(models.TextChoices):
    PRELIMINARY = "preliminary", _("Preliminary")
    FINAL = "final", _("Final")
    CORRECTED = "corrected", _("Corrected")


class LabResult(models.Model):
    # Sequential ids stay inside the database; the FHIR API names a result by this.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="lab_results")
    code = models.CharField(max_length=16)
    loinc = models.CharField(max_length=16)
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    positive = models.BooleanField(null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    taken_at = models.DateTimeField()
    entered_at = models.DateTimeField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    source = models.CharField(max_length=12, default="manual")  # manual | hl7 | fhir
    status = models.CharField(max_length=12, choices=ResultStatus.choices, default=ResultStatus.FINAL)
    # The laboratory's own name for this result (filler order number and observation), so a correction or a
    # repeat of the same message finds it.
    external_id = models.CharField(max_length=200, blank=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps the name it had when labs were part of procedure/ (moved without copying rows).
        db_table = "procedure_labresult"
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["case", "code", "-taken_at"], name="lab_case_code_taken"),
            models.Index(fields=["taken_at", "id"], name="lab_taken"),  # the FHIR API's Observation date order
            models.Index(fields=["case", "external_id"], name="lab_case_external"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.value if self.value is not None else self.positive}"
