"""Letters to patients, stored as issued so that a reprint is the same document."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.models import Case


class Letter(models.Model):
    class Kind(models.TextChoices):
        PRE_PROCEDURE = "pre_procedure", _("Instructions before the procedure")
        DISCHARGE = "discharge", _("Going home after the procedure")
        PT_REFERRAL = "pt_referral", _("Physical therapy referral")
        BMD_REFERRAL = "bmd_referral", _("Bone density and osteoporosis care referral")

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


class OutboxMessage(models.Model):
    """One message to a patient, sent once: its key is unique per (case, purpose, channel)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to go")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Did not go out")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(max_length=160, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outbox")
    purpose = models.CharField(max_length=40)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8, default="en")
    to_address = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # An iCalendar invitation sent with an e-mail (text/calendar), or empty.
    calendar = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=80, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # messaging.outbox.claim_next: the due rows still to send (partial: pending and sending only)
            models.Index(fields=["due_at"], name="outbox_due", condition=models.Q(status__in=["pending", "sending"])),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} by {self.channel} ({self.status})"


class PatientLink(models.Model):
    """The patient's own link to their case. The URL carries a signed nonce; the row says whether it still works."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="patient_links")
    nonce = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    require_dob = models.BooleanField("ask for the date of birth", default=False)
    failed_dob = models.PositiveSmallIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Patient link {self.pk}"


class WorkerBeat(models.Model):
    """A worker's heartbeat: each ``kyphos worker`` process writes here every few seconds while it runs, so the
    hospital's monitoring (``/healthz``, ``/metrics``) can tell a stopped or stuck worker. No patient data."""

    name = models.CharField(max_length=80, unique=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
