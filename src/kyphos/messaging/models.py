"""Letters to patients, stored as issued so that a reprint is the same document."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from kyphos.pathway.models import Case


class Letter(models.Model):
    class Kind(models.TextChoices):
        PRE_PROCEDURE = "pre_procedure", "Instructions before the procedure"
        DISCHARGE = "discharge", "Going home after the procedure"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=8)
    html = models.TextField()
    pdf = models.BinaryField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # A newer letter of the same kind replaces this one for printing; both are kept.
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"
