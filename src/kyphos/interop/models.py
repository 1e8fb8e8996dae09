"""Every HL7 v2 message Kyphos received or sent, as it came (bytes), with what was done and the ACK it got or gave.

An inbound message and its ACK are stored in the same transaction as what the message changed, before the ACK
leaves: an acknowledged message is never lost. A repeat (same sending application, facility and control id) is
answered with the stored ACK, byte for byte, and changes nothing."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kyphos.rules.labs import tests as lab_tests
from kyphos.scheduling.models import Site


class Hl7Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Received")
        OUTBOUND = "out", _("Sent")

    class Status(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")
        ERROR = "error", _("Error (AE)")
        REJECTED = "rejected", _("Rejected (AR)")
        # Accepted (AA) but not attached: a lab result for a patient Kyphos does not know or with no open case.
        HELD = "held", _("Held for review")
        # Outbound: waiting (or being sent, or retried after no ACK), acknowledged, or given up / refused (AE/AR).
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent (AA)")
        FAILED = "failed", _("Not sent")

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
    note = models.CharField(max_length=300, blank=True)  # what Kyphos did with it, in words (no patient data)
    error_location = models.CharField(max_length=40, blank=True)  # "PID^1^3"
    repeats = models.PositiveIntegerField(default=0)  # how many times a duplicate was answered with the stored ACK
    patient_uuid = models.UUIDField(null=True, blank=True)
    case_uuid = models.UUIDField(null=True, blank=True)
    # Outbound only: where it goes, what it is about ("note:12"), and the sending state.
    destination = models.ForeignKey(
        "Hl7Destination", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    source = models.CharField(max_length=80, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=80, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # Duplicates are recognised by sender and control id; unreadable messages have none.
            models.UniqueConstraint(
                fields=["direction", "sending_application", "sending_facility", "control_id"],
                condition=Q(direction="in") & ~Q(control_id=""),
                name="hl7_inbound_once",
            ),
            # One message per destination for each thing sent (a note, a coded procedure, a booking's change).
            models.UniqueConstraint(
                fields=["destination", "source"], condition=Q(direction="out"), name="hl7_outbound_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "at"], name="hl7_status_at"),
            models.Index(fields=["destination", "status", "id"], name="hl7_destination_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type or '?'} {self.control_id or '-'} {self.status}"


def default_services() -> str:
    # CPT 22513 (thoracic), 22514 (lumbar), 22515 (each additional level): percutaneous vertebral augmentation.
    return "22513, 22514, 22515"


def validate_lab_codes(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_('Give the laboratory\'s codes as an object: {"LOCAL-CODE": "inr"}.'))
    known = set(lab_tests())
    for code, test in value.items():
        if not isinstance(code, str) or not code.strip() or test not in known:
            raise ValidationError(
                _("%(code)s → %(test)s: the test must be one of %(known)s."),
                params={"code": code, "test": test, "known": ", ".join(sorted(known))},
            )


def validate_ae_title(value: str) -> None:
    """An application entity title: up to 16 characters of ASCII without backslash or control characters, not
    only spaces (DICOM PS3.5 2024, table 6.2-1, "AE")."""
    if value and (not value.strip() or any(ord(c) < 32 or ord(c) > 126 or c == "\\" for c in value)):
        raise ValidationError(_("An AE title is up to 16 letters, digits or punctuation (no backslash)."))


class SiteInterface(models.Model):
    """How a site's hospital systems talk to Kyphos over HL7 v2 (set in the admin)."""

    class Unhandled(models.TextChoices):
        DEFAULT = "", _("As the server's setting (KYPHOS_HL7_UNHANDLED)")
        ACCEPT = "accept", _("Accept (AA, recorded as not applicable)")
        REJECT = "reject", _("Reject (AR, with the reason)")

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="interface")
    facilities = models.CharField(
        _("facility names"),
        max_length=300,
        blank=True,
        help_text=_("MSH-4 or location facility values that mean this site, comma separated (its code always does)."),
    )
    kyphoplasty_services = models.CharField(
        _("kyphoplasty services"),
        max_length=500,
        default=default_services,
        help_text=_("AIS-3 service codes that are a kyphoplasty here, comma separated; other bookings are ignored."),
    )
    unhandled = models.CharField(
        _("messages Kyphos does not handle"), max_length=8, choices=Unhandled.choices, blank=True, default=""
    )
    lab_codes = models.JSONField(
        _("laboratory code map"),
        default=dict,
        blank=True,
        validators=[validate_lab_codes],
        help_text=_('The laboratory\'s own codes (OBX-3) for tests it does not send by LOINC: {"PTINR": "inr"}.'),
    )
    scheduler_of_record = models.BooleanField(
        _("Kyphos is the scheduling system of record"),
        default=False,
        help_text=_("Kyphos sends SIU bookings to the hospital instead of taking them from it."),
    )
    # The site's PACS, where outside imaging from patients' CDs is stored by C-STORE. No host: Kyphos keeps the
    # images in its own storage instead.
    pacs_ae_title = models.CharField(_("PACS AE title"), max_length=16, blank=True, validators=[validate_ae_title])
    pacs_host = models.CharField(_("PACS host"), max_length=120, blank=True)
    pacs_port = models.PositiveIntegerField(_("PACS port"), null=True, blank=True, default=None)
    calling_ae_title = models.CharField(
        _("Kyphos's AE title"), max_length=16, default="KYPHOS", validators=[validate_ae_title]
    )
    coerce_patient_ids = models.BooleanField(
        _("set the hospital's MRN on outside images"),
        default=False,
        help_text=_(
            "Replace the outside patient ID and issuer with the hospital's MRN before storing; the originals are "
            "kept in the images' Other Patient IDs."
        ),
    )

    class Meta:
        verbose_name = _("interfaces of a site (HL7, PACS)")

    def __str__(self) -> str:
        return f"HL7 {self.site.code}"

    def clean(self) -> None:
        if (self.pacs_host or self.pacs_ae_title or self.pacs_port) and not (
            self.pacs_host and self.pacs_ae_title and self.pacs_port
        ):
            raise ValidationError(_("A PACS needs its AE title, host and port (or none of them)."))

    @property
    def has_pacs(self) -> bool:
        return bool(self.pacs_host and self.pacs_ae_title and self.pacs_port)

    def names(self) -> set[str]:
        return {self.site.code.upper()} | {n.strip().upper() for n in self.facilities.split(",") if n.strip()}

    def services(self) -> set[str]:
        return {n.strip().upper() for n in self.kyphoplasty_services.split(",") if n.strip()}


class BookingLink(models.Model):
    """The scheduling system's names for a case's booking (SCH-1 placer and SCH-2 filler appointment IDs), so its
    reschedules, cancellations and no-shows find the case. ``requested`` keeps the last slot it asked for."""

    sending_application = models.CharField(max_length=180)
    placer_id = models.CharField(max_length=120, blank=True)
    filler_id = models.CharField(max_length=120, blank=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    case_uuid = models.UUIDField(null=True, blank=True, db_index=True)  # None: held, no case to book yet
    requested = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sending_application", "filler_id"], condition=~Q(filler_id=""), name="booking_filler_once"
            ),
            models.UniqueConstraint(
                fields=["sending_application", "placer_id"], condition=~Q(placer_id=""), name="booking_placer_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sending_application} {self.placer_id or '-'}/{self.filler_id or '-'}"


class Hl7Destination(models.Model):
    """A system Kyphos sends HL7 v2 to over MLLP (the EHR, billing, the hospital's scheduling system)."""

    class NoteAs(models.TextChoices):
        MDM = "MDM", _("MDM^T02 (a document)")
        ORU = "ORU", _("ORU^R01 (a report)")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="hl7_destinations")
    name = models.CharField(_("name"), max_length=80)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"))
    sends_notes = models.BooleanField(_("signed procedure notes"), default=False)
    note_as = models.CharField(_("send the note as"), max_length=3, choices=NoteAs.choices, default=NoteAs.MDM)
    sends_charges = models.BooleanField(_("charges of coded procedures (DFT^P03)"), default=False)
    sends_bookings = models.BooleanField(
        _("bookings (SIU), when Kyphos is the site's scheduling system of record"), default=False
    )
    sending_application = models.CharField(_("sending application (MSH-3)"), max_length=180, default="KYPHOS")
    sending_facility = models.CharField(
        _("sending facility (MSH-4)"), max_length=180, blank=True, help_text=_("Empty: the site's code.")
    )
    receiving_application = models.CharField(_("receiving application (MSH-5)"), max_length=180, blank=True)
    receiving_facility = models.CharField(_("receiving facility (MSH-6)"), max_length=180, blank=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("seconds to wait for the ACK"), default=10)
    active = models.BooleanField(_("active"), default=True)
    # What happened before a destination existed is not sent to it: sending starts from here.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the last search for what to send began: the next one looks back from an hour before it, not to the start.
    scanned_to = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("HL7 destination")
        ordering = ["site", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class ApiClient(models.Model):
    """A system that uses the FHIR API (the EHR, a registry, the analytics team's scripts).

    Each client acts through its own service account (``user``): its roles say what it may change, its sites which
    patients it sees, as for a person, and the audit trail names it. ``scopes`` are the SMART v2 scopes it may be
    granted (``system/Patient.rs``, ``system/*.cruds``); ``jwks`` its public keys for SMART Backend Services."""

    name = models.SlugField(max_length=60, unique=True)  # also its OAuth client_id
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    scopes = models.TextField()
    jwks = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token, kept only as its SHA-256: a short-lived access token from the token endpoint, or a script
    token printed once by ``kyphos api-client token``."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access token (SMART Backend Services)")
        SCRIPT = "script", _("Script token")

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    scopes = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client_id} {self.kind} until {self.expires_at:%Y-%m-%d %H:%M}"


class UsedAssertion(models.Model):
    """A client's signed assertion (its ``jti``) already exchanged for a token: the same one is refused again
    until it expires (SMART Backend Services, replay protection)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="assertion_once_per_client")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.jti[:20]}"


class BulkExport(models.Model):
    """A FHIR Bulk Data export (``$export``) a client asked for: worked through by the worker a slice at a time,
    its NDJSON files kept under ``KYPHOS_FHIR_EXPORT_DIR`` until ``expires_at``."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Waiting")
        RUNNING = "running", _("Running")
        COMPLETE = "complete", _("Complete")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired (files removed)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="exports")
    request_url = models.TextField()
    level = models.CharField(max_length=8)  # system | patient | group
    group = models.CharField(max_length=64, blank=True)  # a Group export: the site's code
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    type_filters = models.JSONField(default=dict, blank=True)  # type → [search query, ...]
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    # Where the work stands: the type being written, the last row written, each file's size and count.
    state = models.JSONField(default=dict, blank=True)
    transaction_time = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "claimed_at"], name="export_queue")]

    def __str__(self) -> str:
        return f"export {self.uuid} {self.status}"
