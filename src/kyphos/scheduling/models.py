"""Sites, rooms, business days and procedure appointments."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.rules import data as rules_data
from kyphos.rules import messages as message_rules
from kyphos.rules import redflags as redflag_rules
from kyphos.rules import wording
from kyphos.rules.data import DataFileError
from kyphos.rules.windows import SiteCalendar, WindowError, parse_hours


def default_hours() -> dict[str, list[list[str]]]:
    return {day: [["07:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            format_lazy(_("“{value}” is not an IANA time zone (for example America/New_York)."), value=value)
        )


def validate_hours(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_('Business hours must look like {"mon": [["07:00", "17:00"]]}.'))
    try:
        parse_hours(value)
    except (WindowError, ValueError, TypeError) as exc:
        raise ValidationError(format_lazy(_("Business hours: {exc}"), exc=exc)) from exc


def validate_message_settings(value: Any) -> None:
    try:
        message_rules.purposes(value)
    except message_rules.MessageSettingsError as exc:
        raise ValidationError(str(exc)) from exc


def validate_redflag_settings(value: Any) -> None:
    try:
        redflag_rules.for_site(value)
    except DataFileError as exc:
        raise ValidationError(str(exc)) from exc


def validate_discharge_blocks(value: Any) -> None:
    topics = {row["id"]: ("phone",) for row in rules_data.load("discharge")["topic"]}
    try:
        wording.check_blocks(value, topics, "Discharge wording")
    except wording.WordingError as exc:
        raise ValidationError(exc.message) from exc


def validate_letter_blocks(value: Any) -> None:
    try:
        wording.check_blocks(value, {"intro": None, "closing": None}, "Letter wording")
    except wording.WordingError as exc:
        raise ValidationError(exc.message) from exc


def validate_pattern(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(format_lazy(_("This is not a regular expression: {problem}."), problem=exc)) from None


VITALS = {"bp_systolic": (50, 260), "bp_diastolic": (20, 160), "heart_rate": (20, 220), "spo2": (50, 100)}


def default_vital_limits() -> dict[str, list[int]]:
    """Local defaults for discharge, to set with the clinical lead: systolic 90–180, diastolic 50–110 mmHg, pulse
    50–110/min, SpO₂ at least 92 %."""
    return {"bp_systolic": [90, 180], "bp_diastolic": [50, 110], "heart_rate": [50, 110], "spo2": [92, 100]}


def validate_vital_limits(value: object) -> None:
    if not isinstance(value, dict) or set(value) - set(VITALS):
        raise ValidationError(
            format_lazy(_("Vital-sign limits are set for {names} only."), names=", ".join(sorted(VITALS)))
        )
    for name, pair in value.items():
        low, high = VITALS[name]
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(x, int) for x in pair)
            and low <= pair[0] < pair[1] <= high
        ):
            raise ValidationError(
                format_lazy(
                    _("{name}: give [lowest, highest] as whole numbers within {low}–{high}."),
                    name=name,
                    low=low,
                    high=high,
                )
            )


class Site(models.Model):
    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital")
        SURGERY_CENTER = "surgery_center", _("Surgery center")

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HOSPITAL)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone], default="America/New_York")
    business_hours = models.JSONField(default=default_hours, validators=[validate_hours])
    phone = models.CharField("phone for “call us for assistance”", max_length=32)
    address = models.TextField(blank=True)
    # Patients are admitted the morning of the procedure; arrival = start minus this lead time.
    arrival_lead_minutes = models.PositiveIntegerField(default=90)
    default_procedure_minutes = models.PositiveIntegerField(default=60)
    # The pre-procedure call: how many tries, how far apart, and which blood-thinner guideline governs.
    call_max_attempts = models.PositiveSmallIntegerField(default=3)
    call_retry_minutes = models.PositiveIntegerField(default=120)
    anticoagulant_guideline = models.CharField(
        max_length=10,
        default="sir2019",
        choices=[
            ("sir2019", _("SIR 2019")),
            ("asra2018", _("ASRA 2018")),
            (
                "strictest",
                _("The strictest value per drug (SIR, ASRA and, for the direct oral anticoagulants, ACC 2017)"),
            ),
        ],
    )
    # After a spinal procedure a restart may lean late: "later" uses the later value another source gives (PAUSE
    # 48–72 h for the direct oral anticoagulants, ASRA 24 h for therapeutic enoxaparin) where one exists.
    restart_policy = models.CharField(
        _("blood-thinner restart policy"),
        max_length=10,
        default="guideline",
        choices=[
            ("guideline", _("The governing guideline's restart time")),
            ("later", _("The later restart where another source gives one (after a high-bleeding-risk procedure)")),
        ],
    )
    # Labs before the procedure: the INR limit within SIR 2019's high-risk range (1.5–1.8) and result freshness.
    inr_max = models.DecimalField(
        "INR limit",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("1.5")), MaxValueValidator(Decimal("1.8"))],
    )
    lab_freshness_days = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    follow_up_minutes = models.PositiveSmallIntegerField("follow-up visit length (minutes)", default=30)
    # A staff session with no request for this long ends (HIPAA 164.312(a)(2)(iii) automatic logoff); a user of
    # several sites gets the strictest of theirs, and never more than KYPHOS_IDLE_MINUTES (web.middleware).
    idle_minutes = models.PositiveSmallIntegerField(
        _("sign staff out after (minutes without activity)"),
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(480)],
    )
    # Who works here: staff see this site's patients in their worklists, searches and pages; anyone else opens
    # one of its cases only by breaking the glass with a reason (web.scope). Superusers work everywhere.
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff who work here"),
        related_name="work_sites",
        blank=True,
        help_text=_("They see this site's patients; others must give a reason (break the glass), which is audited."),
    )
    # The pattern of the MRNs this site's record system issues (a regular expression over the whole MRN).
    mrn_pattern = models.CharField(
        _("MRN pattern"), max_length=120, default=r"[A-Za-z0-9][A-Za-z0-9-]{0,39}", validators=[validate_pattern]
    )
    # Discharge: earlier than this after the procedure's end, with fewer checks, or with the last check outside the
    # vital-sign limits, a radiologist gives a reason (local policy: the pathway's usual stay is about 24 h).
    discharge_min_hours = models.PositiveSmallIntegerField(
        _("minimum recovery before discharge (hours)"), default=4, validators=[MaxValueValidator(72)]
    )
    discharge_min_checks = models.PositiveSmallIntegerField(
        _("recovery checks before discharge"), default=2, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    vital_limits = models.JSONField(
        _("vital-sign limits for discharge"), default=default_vital_limits, validators=[validate_vital_limits]
    )
    # Discharge instructions by language and topic, replacing the defaults of rules/data/discharge.toml.
    discharge_blocks = models.JSONField(default=dict, blank=True, validators=[validate_discharge_blocks])
    # Wording blocks of the patient's letter by language, e.g. {"es": {"closing": "..."}}; empty = built-in text.
    letter_blocks = models.JSONField(default=dict, blank=True, validators=[validate_letter_blocks])
    # The patient's pages: directions in words (no maps, the pages work on the hospital network alone) and how
    # long a patient's link lives after it is issued.
    directions = models.TextField("directions for patients (in words)", blank=True)
    patient_link_days = models.PositiveSmallIntegerField(
        "patient link valid for (days)", default=45, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    # A patient's page asks the date of birth before it opens (each new link), unless the site turns it off.
    patient_link_asks_dob = models.BooleanField(_("patient links ask the date of birth"), default=True)
    # Changes to the messages of rules/data/messages.toml, per purpose: {"appointment_reminder": {"enabled": false}}.
    message_settings = models.JSONField(default=dict, blank=True, validators=[validate_message_settings])
    # Changes to the diary's red flags (rules/data/redflags.toml): wording, fever threshold, emergency number,
    # each changed number with its source: {"emergency_phone": {"value": "112", "source": "…", "confidence": "local"}}.
    redflag_settings = models.JSONField(default=dict, blank=True, validators=[validate_redflag_settings])
    # The letterhead: the site's logo (PNG or JPEG, uploaded in the admin) above its name, address and phone.
    logo = models.BinaryField(_("logo"), blank=True, default=b"", editable=False)
    logo_type = models.CharField(max_length=20, blank=True, editable=False)
    # How the site's people read numbers: °F and 12-hour times where the site's locale uses them (the United States).
    # Stored values stay in °C and UTC; only what is shown and typed changes.
    temperature_unit = models.CharField(
        _("temperature unit"), max_length=1, default="C", choices=[("C", _("°C")), ("F", _("°F"))]
    )
    clock_hours = models.CharField(
        _("times in patient material"),
        max_length=2,
        default="24",
        choices=[("24", _("24-hour (14:30)")), ("12", _("12-hour (2:30 PM)"))],
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The wording blocks reach every patient's letter: refuse one that cannot be used however it is saved.
        validate_discharge_blocks(self.discharge_blocks or {})
        validate_letter_blocks(self.letter_blocks or {})
        super().save(*args, **kwargs)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def redflags(self) -> redflag_rules.SiteFlags:
        return redflag_rules.for_site(self.redflag_settings)

    def calendar(self) -> SiteCalendar:
        """The site's working calendar for the window rules (hours and holidays)."""
        holidays = frozenset(self.holidays.values_list("date", flat=True))
        return SiteCalendar(self.time_zone, parse_hours(self.business_hours), holidays)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


class Holiday(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="holiday_once_per_site")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Room(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=60)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_name_per_site")]

    def __str__(self) -> str:
        return f"{self.site.code} {self.name}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")
    RESCHEDULED = "rescheduled", _("Rescheduled")


# Statuses that hold the room: a new booking may not overlap these.
HOLDS_ROOM = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED)


class Appointment(models.Model):
    """A procedure booking. Reschedule and cancel never edit a booking away: they close it and keep it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The case this booking serves, by its UUID: scheduling sits below the pathway and does not import it.
    case_uuid = models.UUIDField(db_index=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    arrival_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    status_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [
            # scheduling.services.find_clash and the calendar
            models.Index(fields=["room", "start"], name="appointment_room_start"),
            models.Index(fields=["site", "start"], name="appointment_site_start"),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.start:%Y-%m-%d %H:%M}Z {self.status}"

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class Visit(models.Model):
    """A clinic visit (the radiologist's follow-up). One clinic line per site: visits do not overlap."""

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", _("Follow-up with the radiologist")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        MISSED = "missed", _("Missed (patient did not come)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case_uuid = models.UUIDField(db_index=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.FOLLOW_UP)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        # scheduling.services.book_follow_up: free-slot search per site
        indexes = [models.Index(fields=["site", "start"], name="visit_site_start")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}Z"
