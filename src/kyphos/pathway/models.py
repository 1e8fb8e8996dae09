"""Cases, their levels, the timeline of events, and tasks."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.policy import Role
from kyphos.pathway.stages import CancelReason, PostponeReason, Stage
from kyphos.patients.models import Patient
from kyphos.rules.findings import Finding, Severity
from kyphos.rules.levels import level_index
from kyphos.scheduling.models import Appointment, Site


class Etiology(models.TextChoices):
    OSTEOPOROSIS = "osteoporosis", _("Osteoporosis")
    STEROID = "steroid", _("Steroid-induced")
    NEOPLASTIC = "neoplastic", _("Neoplastic")
    OTHER = "other", _("Other")


class SteroidDisease(models.TextChoices):
    ASTHMA = "asthma", _("Asthma / COPD")
    LUPUS = "lupus", _("Lupus")
    RHEUMATOID = "rheumatoid_arthritis", _("Rheumatoid arthritis")
    OTHER = "other", _("Other")


class NeoplasticKind(models.TextChoices):
    MYELOMA = "myeloma", _("Multiple myeloma")
    METASTASIS = "metastasis", _("Metastasis")


class Eligibility(models.TextChoices):
    PENDING = "pending", _("Awaiting triage")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")


class Acuity(models.TextChoices):
    ACUTE = "acute", _("Acute (< 6 weeks)")
    SUBACUTE = "subacute", _("Subacute (6–12 weeks)")
    CHRONIC = "chronic", _("Chronic (> 12 weeks)")


class Evidence(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class PainTrend(models.TextChoices):
    WORSENING = "worsening", _("Worsening")
    STABLE = "stable", _("Stable")
    IMPROVING = "improving", _("Improving")


class Case(models.Model):
    """One patient's episode: one or more fractured vertebrae treated in one session."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cases")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.REFERRED)
    stage_changed_at = models.DateTimeField()

    # The referral
    referral_date = models.DateField()
    referring_clinician = models.CharField(max_length=120)
    referring_contact = models.CharField(max_length=120, blank=True)
    etiology = models.CharField(max_length=16, choices=Etiology.choices)
    steroid_disease = models.CharField(max_length=24, choices=SteroidDisease.choices, blank=True)
    neoplastic_kind = models.CharField(max_length=16, choices=NeoplasticKind.choices, blank=True)
    etiology_note = models.CharField(max_length=200, blank=True)
    pain_nrs = models.PositiveSmallIntegerField("baseline pain (NRS 0–10)")
    hospitalized = models.BooleanField(default=False)
    # Non-surgical care tried, in weeks (2–3 weeks of treatment for an acute fracture must not read as "none").
    weeks_conservative_care = models.PositiveSmallIntegerField(null=True, blank=True)
    # The coverage criteria's supporting findings for an outpatient whose pain is stable or improving.
    pain_trend = models.CharField(max_length=12, choices=PainTrend.choices, blank=True)
    kyphotic_deformity = models.BooleanField(default=False)
    progressive_height_loss = models.BooleanField(default=False)
    rdq = models.PositiveSmallIntegerField("RDQ (0–24)", null=True, blank=True)
    medications_note = models.TextField("medicines listed on the referral", blank=True)
    clinical_note = models.TextField(blank=True)

    # Contraindication screen (entered at referral, confirmed at triage)
    infection = models.BooleanField("active infection", default=False)
    pregnant = models.BooleanField("pregnant", default=False)
    pain_not_from_fracture = models.BooleanField("pain not from the fracture", default=False)
    cement_allergy = models.BooleanField("bone cement allergy", default=False)
    contrast_allergy = models.BooleanField("contrast allergy", default=False)
    uncorrected_coagulopathy = models.BooleanField("uncorrected coagulopathy", default=False)
    retropulsion = models.BooleanField("retropulsion / canal compromise", default=False)
    neuro_deficit = models.BooleanField("neurological deficit", default=False)
    spinal_instability = models.BooleanField("spinal instability", default=False)

    # Triage decision
    eligibility = models.CharField(max_length=12, choices=Eligibility.choices, default=Eligibility.PENDING)
    eligibility_reason = models.TextField(blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)

    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The findings of the last guard that ran, shown on the banner while a stop is open.
    findings = models.JSONField(default=list, blank=True)
    open_stops = models.PositiveSmallIntegerField(default=0)
    # The radiologist's "proceed" on stop findings, decided once (case page or task) and carried to the moves that
    # check them: [{"code", "reason", "by", "at"}].
    decided_stops = models.JSONField(default=list, blank=True)
    end_reason = models.CharField(max_length=24, blank=True)
    end_note = models.TextField(blank=True)

    # Optimistic concurrency: every change bumps it; a form carries the version it was drawn from.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            # pathway.selectors.case_list (site and stage filters, newest referral first)
            models.Index(fields=["site", "stage", "-referral_date", "-id"], name="case_site_stage_ref"),
            models.Index(fields=["stage", "-referral_date", "-id"], name="case_stage_ref"),
            models.Index(fields=["-referral_date", "-id"], name="case_ref"),
        ]

    def __str__(self) -> str:
        return f"Case {self.uuid}"

    @property
    def finding_objects(self) -> list[Finding]:
        return [Finding.from_dict(item) for item in self.findings]

    @property
    def stop_findings(self) -> list[Finding]:
        return [f for f in self.finding_objects if f.severity is Severity.STOP]

    @property
    def level_names(self) -> list[str]:
        return [lv.level for lv in self.levels.all()]

    @property
    def end_reason_label(self) -> str:
        for choices in (CancelReason, PostponeReason):
            if self.end_reason in choices.values:
                return str(choices(self.end_reason).label)
        return self.end_reason

    @property
    def is_open(self) -> bool:
        return self.stage not in {Stage.CLOSED, Stage.CANCELLED}


class CaseLevel(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="levels")
    level = models.CharField(max_length=3)
    position = models.PositiveSmallIntegerField(editable=False)  # T1 = 0 … L5 = 16, for ordering
    acuity = models.CharField(max_length=10, choices=Acuity.choices)
    edema = models.CharField("MRI marrow edema or bone-scan uptake", max_length=8, choices=Evidence.choices)
    height_loss_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="case_level_once")]

    def __str__(self) -> str:
        return self.level

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.position = level_index(self.level)
        super().save(*args, **kwargs)


class EventKind(models.TextChoices):
    REFERRED = "referred", _("Referred")
    TRANSITION = "transition", _("Stage changed")
    UPDATED = "updated", _("Details changed")
    OVERRIDE = "override", _("Stop finding overridden")
    BOOKED = "booked", _("Booked")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    TASK_OPENED = "task_opened", _("Task opened")
    TASK_CLOSED = "task_closed", _("Task closed")
    NOTE = "note", _("Note")


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("The case timeline is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("The case timeline is append-only.")


class Event(models.Model):
    """One entry on a case's timeline: who, when, what, why. Never changed or deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    summary = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # the case page's timeline
        indexes = [models.Index(fields=["case", "-at", "-id"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("The case timeline is append-only.")
        super().save(*args, **kwargs)


class TaskKind(models.TextChoices):
    TRIAGE = "triage", _("Triage the referral")
    BOOK = "book", _("Book the procedure")
    PRECALL = "precall", _("Pre-procedure call")
    REBOOK = "rebook", _("Rebook a postponed case")
    REVIEW_FLAG = "review_flag", _("Review a flagged case")
    BOOK_FOLLOW_UP = "book_follow_up", _("Book the follow-up visit")
    CONTACT_PRESCRIBER = "prescriber", _("Agree the medicine plan with the prescriber")
    ARRANGE_TRANSPORT = "transport", _("Arrange transport")
    HCG_TEST = "hcg", _("Pregnancy test (hCG) at admission")
    CALL_ESCALATION = "call_escalation", _("Patient not reached: postpone or proceed")
    DIARY_EMERGENCY = "diary_emergency", _("Diary red flag: call the patient now")
    DIARY_SAME_DAY = "diary_same_day", _("Diary: call the patient today")
    DIARY_REVIEW = "diary_review", _("Diary: review the patient's answers")
    IMAGING = "imaging", _("Arrange imaging: new fracture suspected")
    BLOOD_THINNER_PLAN = "early_plan", _("Blood-thinner plan before the call: reach the prescriber")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    """Work a person must do, with a due window and the role that does it. Opened and closed by services."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    role = models.CharField(max_length=16, choices=Role.choices)
    due_start = models.DateTimeField()
    due_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    # Denormalised from the case's booking so the call worklist sorts by appointment without a join.
    appointment_start = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    # Urgent tasks (a diary red flag) head every worklist of their role, whatever else is overdue.
    urgent = models.BooleanField(default=False)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_end"]
        indexes = [
            # pathway.selectors.worklist: open tasks of a role, most urgent first (partial: open rows only)
            models.Index(
                fields=["role", "due_start", "due_end"],
                name="task_open_role_due",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["case", "status"], name="task_case_status"),
            # reports.figures: the calls whose window closed in a period, the diary red flags' responses
            models.Index(fields=["kind", "due_end"], name="task_kind_due_end"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"
