"""The audit trail: who saw or changed which patient's data, when, from where. Append-only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    TRANSITION = "transition", _("Moved stage")
    OVERRIDE = "override", _("Overrode a stop")
    REFUSED = "refused", _("Refused")
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGN_OUT = "sign_out", _("Signed out")
    BREAK_GLASS = "break_glass", _("Broke the glass")


class AppendOnlyError(RuntimeError):
    """Audit entries are never changed or deleted."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(_("Audit entries cannot be changed."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("Audit entries cannot be deleted."))


class AuditEntry(models.Model):
    # The patient is kept as its UUID, not a foreign key: the audit room imports nothing of ours, and an
    # entry must outlive any record it names.
    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    username = models.CharField(max_length=150, blank=True)
    patient_uuid = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    client_addr = models.GenericIPAddressField(null=True, blank=True)
    # What was done, in words without patient data ("case page", "stage referred → triaged").
    detail = models.CharField(max_length=200, blank=True)
    # The chain (kyphos.audit.chain): SHA-256 of this entry's content and the previous entry's hash.
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # audit.selectors.entries_for_patient
            models.Index(fields=["patient_uuid", "at"], name="audit_patient_at"),
            # audit.selectors.entries_for_user
            models.Index(fields=["user", "at"], name="audit_user_at"),
            models.Index(fields=["at"], name="audit_at"),
            # The FHIR API names an entry by its hash (AuditEvent/<hash>).
            models.Index(fields=["hash"], name="audit_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("Audit entries cannot be deleted."))
