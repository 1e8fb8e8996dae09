"""The pre-procedure call: attempts, the structured call record, and the medicines reviewed on it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyphos.pathway.models import Case, Task


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Voicemail left")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Asked to call back at a time")


class CallAttempt(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="call_attempts")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    by_name = models.CharField(max_length=150)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    call_back_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}Z"


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("In progress")
    SIGNED = "signed", _("Signed")


class DriverStatus(models.TextChoices):
    UNKNOWN = "", _("Not asked yet")
    ARRANGED = "arranged", _("Driver arranged")
    NOT_ARRANGED = "not_arranged", _("No driver: the service arranges transport")


class ImagingStatus(models.TextChoices):
    UNKNOWN = "", _("Not asked yet")
    BRINGING = "bringing", _("Bringing it")
    RECEIVED = "received", _("Already received")
    NONE = "none", _("No outside imaging")


class PregnancyStatus(models.TextChoices):
    UNKNOWN = "", _("Not asked yet")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    NOT_PREGNANT = "not_pregnant", _("Not pregnant")
    POSSIBLY_PREGNANT = "possibly_pregnant", _("Possibly pregnant")
    PREGNANT = "pregnant", _("Pregnant")


class CallOutcome(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    CLEARED_WITH_CAUTIONS = "cleared_with_cautions", _("Cleared with cautions")
    NEEDS_REVIEW = "needs_review", _("Needs radiologist review")


class Indication(models.TextChoices):
    NONE = "", "—"
    MECHANICAL_VALVE = "mechanical_valve", _("Mechanical heart valve")
    RECENT_STENT = "recent_stent", _("Recent coronary stent")
    AF = "af", _("Atrial fibrillation")
    VTE = "vte", _("DVT / pulmonary embolism")
    PRIMARY_PREVENTION = "primary_prevention", _("Primary prevention")
    SECONDARY_PREVENTION = (
        "secondary_prevention",
        _("Secondary prevention (after a stroke, coronary stents, stable coronary disease)"),
    )
    OTHER = "other", _("Other")


class PreCall(models.Model):
    """One structured call, drafted while the nurse talks and signed at the end. Signed calls do not change."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="precalls")
    task = models.OneToOneField(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="precall")
    status = models.CharField(max_length=8, choices=CallStatus.choices, default=CallStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    identity_confirmed = models.BooleanField("name and date of birth confirmed", default=False)
    crcl = models.PositiveSmallIntegerField("creatinine clearance (mL/min)", null=True, blank=True)
    guideline = models.CharField(max_length=10, default="sir2019")
    pain_notes = models.TextField(blank=True)
    no_known_allergies = models.BooleanField(default=False)
    # Allergies told on this call (category, substance, reaction, severity); added to the patient when signed.
    allergies = models.JSONField(default=list, blank=True)

    sleep_apnea = models.BooleanField(default=False)
    heart_failure = models.BooleanField(default=False)
    ckd = models.BooleanField("chronic kidney disease", default=False)
    insulin_diabetes = models.BooleanField("diabetes treated with insulin", default=False)
    prior_spine_surgery = models.BooleanField(default=False)
    fever_or_infection = models.BooleanField("current fever or infection", default=False)
    new_neuro_symptoms = models.BooleanField("new weakness, numbness, bowel or bladder change", default=False)
    history_note = models.TextField(blank=True)

    driver_status = models.CharField(max_length=14, choices=DriverStatus.choices, blank=True)
    driver_name = models.CharField(max_length=120, blank=True)
    driver_phone = models.CharField(max_length=32, blank=True)

    imaging_status = models.CharField(max_length=10, choices=ImagingStatus.choices, blank=True)
    imaging_mri = models.BooleanField("MRI", default=False)
    imaging_ct = models.BooleanField("CT", default=False)
    imaging_xray = models.BooleanField("X-ray", default=False)
    imaging_films = models.BooleanField("films", default=False)
    imaging_reports = models.BooleanField("reports", default=False)
    imaging_cd = models.BooleanField("CD", default=False)
    imaging_source = models.CharField("where from", max_length=200, blank=True)

    pregnancy_status = models.CharField(max_length=18, choices=PregnancyStatus.choices, blank=True)
    nursing = models.BooleanField("breastfeeding", default=False)

    fasting_given = models.BooleanField("fasting instructions given", default=False)
    arrival_confirmed = models.BooleanField("arrival time and place confirmed", default=False)
    questions = models.TextField("questions asked and answers given", blank=True)

    outcome = models.CharField(max_length=24, choices=CallOutcome.choices, blank=True)
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # One draft at a time per case: two nurses cannot open two calls for the same patient.
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="draft"), name="one_draft_call"),
        ]

    def __str__(self) -> str:
        return f"Call {self.uuid} ({self.status})"


class Medication(models.Model):
    precall = models.ForeignKey(PreCall, on_delete=models.CASCADE, related_name="medications")
    position = models.PositiveSmallIntegerField()
    drug_id = models.CharField("catalogue drug", max_length=40, blank=True)
    name = models.CharField(max_length=120)
    dose = models.CharField(max_length=40, blank=True)
    frequency = models.CharField(max_length=20, blank=True)
    indication = models.CharField(max_length=20, choices=Indication.choices, blank=True)
    prescriber_name = models.CharField(max_length=120, blank=True)
    prescriber_phone = models.CharField(max_length=32, blank=True)
    last_taken = models.DateTimeField("last dose taken (as the patient says)", null=True, blank=True)
    # The blood-thinner plan as computed (DrugPlan.as_json) and whether the prescriber agreed it.
    plan = models.JSONField(default=dict, blank=True)
    hold = models.BooleanField(null=True)
    last_dose = models.DateTimeField(null=True, blank=True)
    restart_after = models.DateTimeField(null=True, blank=True)
    agreed = models.BooleanField(default=False)
    agreed_at = models.DateTimeField(null=True, blank=True)
    prescriber_task = models.OneToOneField(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class PatientChecklist(models.Model):
    """What the patient ticked on their own page before the procedure; staff see it on the case and the call."""

    ITEMS = {
        "driver": _("A driver is arranged to take me home"),
        "imaging": _("My outside images (films, CDs, reports) are ready to bring"),
        "medicines": _("I understand the plan for my medicines"),
        "fasting": _("I understand when to stop eating and drinking"),
    }

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="patient_checklist")
    driver = models.BooleanField(default=False)
    imaging = models.BooleanField(default=False)
    medicines = models.BooleanField(default=False)
    fasting = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Patient checklist {self.case_id}"

    def ticked(self) -> dict[str, bool]:
        return {key: bool(getattr(self, key)) for key in self.ITEMS}


# --- outside imaging: the patient's CD, reports and films ------------------------------------------------------


class ImportStatus(models.TextChoices):
    READY = "ready", _("Read: matches the patient, not stored yet")
    QUARANTINED = "quarantined", _("In quarantine: whose images are these?")
    ACCEPTED = "accepted", _("Accepted: being stored")
    STORED = "stored", _("Stored")
    FAILED = "failed", _("Not all images stored")
    REJECTED = "rejected", _("Rejected: not attached")
    DISCARDED = "discarded", _("Discarded before storing")


OPEN_IMPORT_STATUSES = (ImportStatus.READY, ImportStatus.QUARANTINED, ImportStatus.ACCEPTED, ImportStatus.FAILED)


class OutsideImport(models.Model):
    """One patient CD (or an upload of its files) read for a case: what it held, whether the images are the case's
    patient's, who decided what, and how far storing went. Nothing is attached to the case before it is accepted:
    a match is confirmed by whoever imports it; a quarantined import only by a permitted role, with a reason."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outside_imports")
    status = models.CharField(max_length=12, choices=ImportStatus.choices)
    version = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=8)  # "cd" (a mounted disc or folder) or "upload" (the staff page)
    # Where the files wait until they are stored (an upload, or a quarantined disc): a folder of Kyphos's own.
    staged = models.CharField(max_length=300, blank=True)
    from_dicomdir = models.BooleanField(default=False)
    # Why it went to quarantine: codes such as "patients:2", "name:differs" (rules.identity); empty when it matched.
    reasons = models.JSONField(default=list, blank=True)
    # What the disc held, as read: its patients as the images name them, studies, series and skipped files.
    contents = models.JSONField(default=dict, blank=True)
    image_count = models.PositiveIntegerField(default=0)
    stored_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # Where the images went: "pacs" (the site's PACS by C-STORE) or "kyphos" (Kyphos's own storage).
    destination = models.CharField(max_length=8, blank=True)
    coerced = models.BooleanField(default=False)  # patient ID and issuer set to the hospital's, originals kept
    last_error = models.CharField(max_length=40, blank=True)  # a code: unreachable, rejected, status 0xA700…
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_by_name = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=150, blank=True)
    resolution_reason = models.TextField(blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    # The worker storing it, under a lease: a worker that died leaves it to the next (which resumes).
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"], name="outside_import_case"),
            # the worker's queue of accepted imports
            models.Index(fields=["status"], name="outside_import_status"),
        ]

    def __str__(self) -> str:
        return f"Outside import {self.uuid} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_IMPORT_STATUSES


class OutsideStudy(models.Model):
    """A study from outside, as the case's outside imaging: its references, and how many of its images are stored."""

    outside_import = models.ForeignKey(OutsideImport, on_delete=models.PROTECT, related_name="studies")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outside_studies")
    study_uid = models.CharField("study instance UID", max_length=64)
    accession = models.CharField(max_length=64, blank=True)
    study_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    modalities = models.CharField(max_length=64, blank=True)  # "MR, CT"
    body_parts = models.CharField(max_length=100, blank=True)
    institution = models.CharField(max_length=200, blank=True)
    outside_patient_id = models.CharField(max_length=64, blank=True)
    outside_issuer = models.CharField(max_length=64, blank=True)
    series_count = models.PositiveIntegerField(default=0)
    image_count = models.PositiveIntegerField(default=0)
    stored_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-study_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["outside_import", "study_uid"], name="outside_study_once_per_import")
        ]

    def __str__(self) -> str:
        return f"{self.study_date or '?'} {self.modalities} {self.description}"


class StoredImage(models.Model):
    """One image stored from outside, by SOP instance UID: an interrupted import resumes without sending it twice."""

    study = models.ForeignKey(OutsideStudy, on_delete=models.PROTECT, related_name="images")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    sop_instance_uid = models.CharField(max_length=64)
    destination = models.CharField(max_length=8)
    stored_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "destination", "sop_instance_uid"], name="stored_image_once_per_case"
            )
        ]

    def __str__(self) -> str:
        return self.sop_instance_uid


class DocumentKind(models.TextChoices):
    REPORT = "report", _("Imaging report")
    FILMS = "films", _("Films")
    OTHER = "other", _("Other document")


class OutsideDocument(models.Model):
    """A report (PDF, or a photo or scan of paper) uploaded on the case, or films marked as received."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outside_documents")
    kind = models.CharField(max_length=8, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    # The file, under Kyphos's own document folder; empty for films (kept on paper, only marked as received).
    stored_name = models.CharField(max_length=80, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    received_by_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"
