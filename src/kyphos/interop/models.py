"""Every HL7 v2 message Kyphos received or sent, as it came (bytes), with what was done and the ACK it got or gave.

An inbound message and its ACK are stored in the same transaction as what the message changed, before the ACK
leaves: an acknowledged message is never lost. A repeat (same sending application, facility and control id) is
answered with the stored ACK, byte for byte, and changes nothing."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Hl7Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Received")
        OUTBOUND = "out", _("Sent")

    class Status(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")
        ERROR = "error", _("Error (AE)")
        REJECTED = "rejected", _("Rejected (AR)")

    direction = models.CharField(max_length=3, choices=Direction.choices)
    at = models.DateTimeField()
    peer = models.CharField(max_length=64, blank=True)  # the sender's address
    sending_application = models.CharField(max_length=180, blank=True)
    sending_facility = models.CharField(max_length=180, blank=True)
    receiving_application = models.CharField(max_length=180, blank=True)
    receiving_facility = models.CharField(max_length=180, blank=True)
    control_id = models.CharField(max_length=199, blank=True)
    message_type = models.CharField(max_length=30, blank=True)  # "ADT^A01"
    version = models.CharField(max_length=12, blank=True)
    raw = models.BinaryField()  # exactly as received: any character set, even bytes that are not text
    status = models.CharField(max_length=16, choices=Status.choices)
    ack_code = models.CharField(max_length=2, blank=True)
    ack = models.BinaryField(default=b"")
    error = models.CharField(max_length=300, blank=True)  # why, in words (no patient data)
    error_location = models.CharField(max_length=40, blank=True)  # "PID^1^3"
    repeats = models.PositiveIntegerField(default=0)  # how many times a duplicate was answered with the stored ACK
    patient_uuid = models.UUIDField(null=True, blank=True)
    case_uuid = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # Duplicates are recognised by sender and control id; unreadable messages have none.
            models.UniqueConstraint(
                fields=["direction", "sending_application", "sending_facility", "control_id"],
                condition=Q(direction="in") & ~Q(control_id=""),
                name="hl7_inbound_once",
            )
        ]
        indexes = [models.Index(fields=["status", "at"], name="hl7_status_at")]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type or '?'} {self.control_id or '-'} {self.status}"
