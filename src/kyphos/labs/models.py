"""One lab result of a case (INR, platelets, hemoglobin, creatinine, hCG …), with where it came from."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kyphos.pathway.models import Case


class LabResult(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="lab_results")
    code = models.CharField(max_length=16)
    loinc = models.CharField(max_length=16)
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    positive = models.BooleanField(null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    taken_at = models.DateTimeField()
    entered_at = models.DateTimeField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    source = models.CharField(max_length=12, default="manual")  # manual | hl7

    class Meta:
        # The table keeps the name it had when labs were part of procedure/ (moved without copying rows).
        db_table = "procedure_labresult"
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["case", "code", "-taken_at"], name="lab_case_code_taken")]

    def __str__(self) -> str:
        return f"{self.code} {self.value if self.value is not None else self.positive}"
