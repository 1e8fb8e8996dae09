"""Forms of the staff UI. They parse and check input; the services decide and write."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import when
from kyphos.formfields import CleanText, between
from kyphos.pathway.models import Acuity, Etiology, Evidence, NeoplasticKind, PainTrend, SteroidDisease
from kyphos.pathway.services import SCREEN_FLAGS, LevelInput, ReferralDetails
from kyphos.pathway.stages import CancelReason, PostponeReason, Stage
from kyphos.patients.models import Channel, Language, Patient, Sex
from kyphos.patients.services import PatientDetails
from kyphos.rules.levels import ALL_LEVELS, InvalidLevel, parse_level
from kyphos.scheduling.models import Room, Site

LEVEL_ROWS = 5
SCREEN_LABELS = {
    "infection": _("Active infection (osteomyelitis, discitis, systemic)"),
    "pregnant": _("Pregnant"),
    "pain_not_from_fracture": _("Pain not primarily from the fracture"),
    "cement_allergy": _("Allergy to bone cement (PMMA)"),
    "contrast_allergy": _("Allergy to contrast"),
    "uncorrected_coagulopathy": _("Uncorrected coagulopathy"),
    "retropulsion": _("Retropulsion / canal compromise"),
    "neuro_deficit": _("Neurological deficit or myelopathy"),
    "spinal_instability": _("Spinal instability"),
}


class ReferralForm(forms.Form):
    patient_mode = forms.ChoiceField(
        label=_("Patient"),
        choices=[("new", _("New patient")), ("existing", _("Existing patient (by MRN)"))],
        widget=forms.RadioSelect,
        initial="new",
    )
    existing_mrn = CleanText(label=_("MRN of the existing patient"), required=False, max_length=40)
    mrn = CleanText(label=_("MRN"), required=False, max_length=40)
    family_name = CleanText(label=_("Family name"), required=False, max_length=100)
    given_name = CleanText(label=_("Given name"), required=False, max_length=100)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the date of birth as a real date (YYYY-MM-DD).")},
    )
    sex = forms.ChoiceField(label=_("Administrative sex"), choices=Sex.choices, initial=Sex.UNKNOWN, required=False)
    phone_mobile = CleanText(label=_("Mobile phone"), required=False, max_length=32)
    phone_home = CleanText(label=_("Home phone"), required=False, max_length=32)
    email = forms.EmailField(label=_("E-mail"), required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices, initial="en")
    preferred_channel = forms.ChoiceField(label=_("Preferred contact"), choices=Channel.choices, initial="phone")
    caregiver_name = CleanText(label=_("Caregiver name"), required=False, max_length=200)
    caregiver_phone = CleanText(label=_("Caregiver phone"), required=False, max_length=32)

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.filter(active=True), empty_label=None)
    referring_clinician = CleanText(label=_("Referring clinician"), max_length=120)
    referring_contact = CleanText(label=_("Referrer's phone or e-mail"), required=False, max_length=120)
    etiology = forms.ChoiceField(label=_("Cause of the fracture"), choices=Etiology.choices)
    steroid_disease = forms.ChoiceField(
        label=_("Steroids taken for"), choices=[("", "—"), *SteroidDisease.choices], required=False
    )
    neoplastic_kind = forms.ChoiceField(
        label=_("Tumour type"), choices=[("", "—"), *NeoplasticKind.choices], required=False
    )
    etiology_note = CleanText(label=_("Cause: note"), required=False, max_length=200)
    pain_nrs = forms.IntegerField(label=_("Pain now (0–10)"), **between(0, 10))
    hospitalized = forms.BooleanField(label=_("In hospital now"), required=False)
    weeks_conservative_care = forms.IntegerField(
        label=_("Weeks of non-surgical care tried"), required=False, **between(0, 520)
    )
    pain_trend = forms.ChoiceField(
        label=_("Pain over the last weeks"), choices=[("", "—"), *PainTrend.choices], required=False
    )
    kyphotic_deformity = forms.BooleanField(label=_("Kyphotic deformity"), required=False)
    progressive_height_loss = forms.BooleanField(label=_("Progressive height loss on serial imaging"), required=False)
    rdq = forms.IntegerField(label=_("RDQ score (0–24), if known"), required=False, **between(0, 24))
    medications_note = CleanText(
        label=_("Medicines on the referral"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    clinical_note = CleanText(label=_("Clinical note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Needed for a new patient only: marked as required on the page, checked in clean().
        for name in ("mrn", "family_name", "given_name", "date_of_birth"):
            self.fields[name].marked_required = True  # type: ignore[attr-defined]
        for flag in SCREEN_FLAGS:
            self.fields[f"screen_{flag}"] = forms.BooleanField(label=SCREEN_LABELS[flag], required=False)
        for i in range(LEVEL_ROWS):
            self.fields[f"level_{i}"] = forms.ChoiceField(
                label=format_lazy(_("Level {number}"), number=i + 1),
                required=False,
                choices=[("", "—"), *((name, name) for name in ALL_LEVELS)],
            )
            self.fields[f"acuity_{i}"] = forms.ChoiceField(label=_("Acuity"), choices=Acuity.choices, initial="acute")
            self.fields[f"edema_{i}"] = forms.ChoiceField(
                label=_("MRI edema / bone-scan uptake"), choices=Evidence.choices, initial="unknown"
            )
            self.fields[f"height_{i}"] = forms.IntegerField(label=_("Height loss %"), required=False, **between(0, 100))
        self.patient: Patient | None = None
        self.level_inputs: list[LevelInput] = []

    def level_rows(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(LEVEL_ROWS):
            row: dict[str, Any] = {name: self[f"{name}_{i}"] for name in ("level", "acuity", "edema", "height")}
            # A row is in use when it names a level or holds an error; the page shows those and one spare.
            used = bool(row["level"].value()) or any(field.errors for field in row.values())
            rows.append(row | {"index": i, "used": used})
        return rows

    def screen_fields(self) -> list[Any]:
        return [self[f"screen_{flag}"] for flag in SCREEN_FLAGS]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("patient_mode") == "existing":
            mrn = (data.get("existing_mrn") or "").strip()
            if not mrn:
                self.add_error("existing_mrn", _("Enter the MRN of the existing patient."))
            else:
                self.patient = Patient.objects.filter(mrn=mrn).first()
                if self.patient is None:
                    self.add_error("existing_mrn", format_lazy(_("No patient has MRN {mrn}."), mrn=mrn))
        else:
            for name, message in [
                ("mrn", _("Enter the MRN.")),
                ("family_name", _("Enter the family name.")),
                ("given_name", _("Enter the given name.")),
                ("date_of_birth", _("Enter the date of birth.")),
            ]:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        levels: list[LevelInput] = []
        seen: set[str] = set()
        for i in range(LEVEL_ROWS):
            text = (data.get(f"level_{i}") or "").strip()
            if not text:
                continue
            try:
                name = parse_level(text)
            except InvalidLevel as exc:
                self.add_error(f"level_{i}", str(exc))
                continue
            if name in seen:
                self.add_error(f"level_{i}", format_lazy(_("{name} is already listed."), name=name))
                continue
            seen.add(name)
            levels.append(
                LevelInput(
                    name,
                    data.get(f"acuity_{i}", "acute"),
                    data.get(f"edema_{i}", "unknown"),
                    data.get(f"height_{i}"),
                )
            )
        if not levels and not any(f"level_{i}" in self.errors for i in range(LEVEL_ROWS)):
            self.add_error("level_0", _("Give at least one vertebral level (T1–T12, L1–L5)."))
        self.level_inputs = levels
        return data

    def referral_details(self) -> ReferralDetails:
        d = self.cleaned_data
        return ReferralDetails(
            referring_clinician=d["referring_clinician"],
            referring_contact=d.get("referring_contact", ""),
            etiology=d["etiology"],
            steroid_disease=d.get("steroid_disease", ""),
            neoplastic_kind=d.get("neoplastic_kind", ""),
            etiology_note=d.get("etiology_note", ""),
            pain_nrs=d["pain_nrs"],
            hospitalized=bool(d.get("hospitalized")),
            weeks_conservative_care=d.get("weeks_conservative_care"),
            pain_trend=d.get("pain_trend") or "",
            kyphotic_deformity=bool(d.get("kyphotic_deformity")),
            progressive_height_loss=bool(d.get("progressive_height_loss")),
            rdq=d.get("rdq"),
            medications_note=d.get("medications_note", ""),
            clinical_note=d.get("clinical_note", ""),
            levels=self.level_inputs,
            screen={flag: bool(d.get(f"screen_{flag}")) for flag in SCREEN_FLAGS},
        )

    def patient_details(self, authority: str) -> PatientDetails:
        d = self.cleaned_data
        return PatientDetails(
            assigning_authority=authority,
            mrn=d["mrn"].strip(),
            family_name=d["family_name"],
            given_name=d["given_name"],
            date_of_birth=d["date_of_birth"],
            sex=d.get("sex") or Sex.UNKNOWN,
            phone_mobile=d.get("phone_mobile", ""),
            phone_home=d.get("phone_home", ""),
            email=d.get("email", ""),
            preferred_language=d["preferred_language"],
            preferred_channel=d["preferred_channel"],
            caregiver_name=d.get("caregiver_name", ""),
            caregiver_phone=d.get("caregiver_phone", ""),
        )


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ActionForm(VersionedForm):
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = CleanText(
        label=_("Override reason (radiologist, only to proceed despite a stop finding)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TriageForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("eligible", _("Eligible")), ("ineligible", _("Not eligible"))],
        widget=forms.RadioSelect,
    )
    reason = CleanText(label=_("Reason / note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = CleanText(
        label=_("Override reason (to proceed despite a stop finding)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, case: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for flag in SCREEN_FLAGS:
            self.fields[f"screen_{flag}"] = forms.BooleanField(
                label=SCREEN_LABELS[flag], required=False, initial=bool(getattr(case, flag, False))
            )

    def screen_fields(self) -> list[Any]:
        return [self[f"screen_{flag}"] for flag in SCREEN_FLAGS]

    def screen(self) -> dict[str, bool]:
        return {flag: bool(self.cleaned_data.get(f"screen_{flag}")) for flag in SCREEN_FLAGS}

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("decision") == "ineligible" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the referral is not eligible."))
        return data


class BookingForm(VersionedForm):
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), empty_label=None)
    day = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the date as a real date (YYYY-MM-DD).")},
    )
    start_time = forms.TimeField(
        label=_("Start time (24-hour, site time)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter the time as HH:MM, 24-hour.")},
    )
    minutes = forms.IntegerField(label=_("Planned duration (minutes)"), **between(10, 480))
    reason = CleanText(label=_("Reason for the change"), required=False, max_length=200)
    override_reason = CleanText(
        label=_("Reason to book anyway (only when the page warns)"), required=False, max_length=300
    )

    def __init__(self, *args: Any, site: Site, reschedule: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.reschedule = reschedule
        room_field = self.fields["room"]
        room_field.queryset = Room.objects.filter(site=site, active=True)  # type: ignore[attr-defined]
        room_field.label_from_instance = lambda room: room.name  # type: ignore[attr-defined]
        self.fields["minutes"].initial = site.default_procedure_minutes
        self.fields["start_time"].label = format_lazy(_("Start time (24-hour, {zone})"), zone=site.time_zone)
        if reschedule:
            self.fields["reason"].required = True

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        day, start_time = data.get("day"), data.get("start_time")
        if day and start_time:
            zone = ZoneInfo(self.site.time_zone)
            local = datetime.combine(day, start_time, tzinfo=zone)
            # A wall time skipped by a daylight-saving change does not survive the round trip through UTC.
            if local.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                self.add_error("start_time", _("That time does not exist on that day (the clocks change)."))
            else:
                data["start"] = local
        return data


class ProceedForm(VersionedForm):
    reason = CleanText(
        label=_("Why the case proceeds despite the stop"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )


class PostponeForm(VersionedForm):
    reason = forms.ChoiceField(label=_("Why"), choices=PostponeReason.choices)
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(VersionedForm):
    reason = forms.ChoiceField(label=_("Why"), choices=CancelReason.choices)
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


def date_filter(label: Any) -> forms.DateField:
    """An optional date of a filter form, typed or picked (the browser's date input)."""
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date (YYYY-MM-DD).")},
    )


class DateRangeFilter(forms.Form):
    """A filter form whose last fields are a range of days (``date_from``, ``date_to``, both optional)."""

    date_from = date_filter(_("From"))
    date_to = date_filter(_("To"))

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(
            [*(name for name in self.fields if name not in {"date_from", "date_to"}), "date_from", "date_to"]
        )


def date_range(data: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """A filter's days as [start, end) moments in the staff's zone (the end is the start of the day after)."""

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=when.zone_of(None))

    return (
        start_of(data["date_from"]) if data.get("date_from") else None,
        start_of(data["date_to"] + timedelta(days=1)) if data.get("date_to") else None,
    )


class CaseFilterForm(forms.Form):
    text = CleanText(label=_("Name or MRN"), required=False, max_length=100)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    site = forms.ChoiceField(label=_("Site"), required=False)
    date_from = date_filter(_("Referred from"))
    date_to = date_filter(_("Referred to"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["stage"]).choices = [("", _("Any stage")), *Stage.choices]
        sites = [(code, name) for code, name in Site.objects.values_list("code", "name")]
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", _("Any site")), *sites]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
