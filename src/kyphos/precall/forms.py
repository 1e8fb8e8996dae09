"""The call page's forms: one page in the order a nurse talks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import when
from kyphos.formfields import CleanText
from kyphos.patients.models import Allergy
from kyphos.precall.models import (
    AttemptOutcome,
    DriverStatus,
    ImagingStatus,
    Indication,
    PreCall,
    PregnancyStatus,
)
from kyphos.precall.services import CALL_FIELDS, AllergyInput, CallInput, MedicationInput
from kyphos.rules.medicines import Frequency

MED_ROWS = 8
ALLERGY_ROWS = 4
FREQUENCIES = [("", "usual")] + [(f.value, f.label) for f in Frequency]
SEVERITIES = [("", "—"), ("mild", _("Mild")), ("moderate", _("Moderate")), ("severe", _("Severe (anaphylaxis)"))]
HISTORY = [
    "sleep_apnea",
    "heart_failure",
    "ckd",
    "insulin_diabetes",
    "prior_spine_surgery",
    "fever_or_infection",
    "new_neuro_symptoms",
]
IMAGING_FLAGS = [
    "imaging_mri",
    "imaging_ct",
    "imaging_xray",
    "imaging_films",
    "imaging_reports",
    "imaging_cd",
]


def _row(fields: dict[str, Any], *keys: str) -> dict[str, Any]:
    """One repeating row: its fields, and whether it is in use (one of its key fields filled, or an error in it);
    the page shows the rows in use and one spare, with "Add another"."""
    used = any(fields[key].value() for key in keys) or any(field.errors for field in fields.values())
    return {"fields": fields, "used": used}


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome of this try"), choices=AttemptOutcome.choices)
    call_back_at = forms.DateTimeField(
        label=_("Call back at (site time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Enter the date and time as YYYY-MM-DD HH:MM.")},
    )
    note = CleanText(label=_("Note"), required=False, max_length=300)


class CallForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    identity_confirmed = forms.BooleanField(
        label=_("Name and date of birth confirmed with the patient"), required=False
    )
    crcl = forms.IntegerField(
        label=_("Creatinine clearance (mL/min), if known"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    guideline = forms.CharField(widget=forms.HiddenInput, required=False)
    pain_notes = CleanText(label=_("Pain medicines: notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    no_known_allergies = forms.BooleanField(label=_("No known allergies"), required=False)
    sleep_apnea = forms.BooleanField(label=_("Sleep apnea"), required=False)
    heart_failure = forms.BooleanField(label=_("Heart failure"), required=False)
    ckd = forms.BooleanField(label=_("Chronic kidney disease"), required=False)
    insulin_diabetes = forms.BooleanField(label=_("Diabetes treated with insulin"), required=False)
    prior_spine_surgery = forms.BooleanField(label=_("Previous spine surgery"), required=False)
    fever_or_infection = forms.BooleanField(label=_("Fever or infection now"), required=False)
    new_neuro_symptoms = forms.BooleanField(
        label=_("New weakness, numbness, or bowel or bladder change"), required=False
    )
    history_note = CleanText(label=_("History: notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    driver_status = forms.ChoiceField(
        label=_("Driver"), choices=DriverStatus.choices, required=False, widget=forms.RadioSelect
    )
    driver_name = CleanText(label=_("Driver's name"), required=False, max_length=120)
    driver_phone = CleanText(label=_("Driver's phone"), required=False, max_length=32)
    imaging_status = forms.ChoiceField(
        label=_("Outside imaging"), choices=ImagingStatus.choices, required=False, widget=forms.RadioSelect
    )
    imaging_mri = forms.BooleanField(label=_("MRI"), required=False)
    imaging_ct = forms.BooleanField(label=_("CT"), required=False)
    imaging_xray = forms.BooleanField(label=_("X-ray"), required=False)
    imaging_films = forms.BooleanField(label=_("Films"), required=False)
    imaging_reports = forms.BooleanField(label=_("Reports"), required=False)
    imaging_cd = forms.BooleanField(label=_("CD"), required=False)
    imaging_source = CleanText(label=_("Where from"), required=False, max_length=200)
    pregnancy_status = forms.ChoiceField(
        label=_("Pregnancy"), choices=PregnancyStatus.choices, required=False, widget=forms.RadioSelect
    )
    nursing = forms.BooleanField(label=_("Breastfeeding"), required=False)
    fasting_given = forms.BooleanField(label=_("Fasting instructions given"), required=False)
    arrival_confirmed = forms.BooleanField(label=_("Arrival time and place confirmed"), required=False)
    questions = CleanText(
        label=_("Questions asked and answers given"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, zone: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        for i in range(MED_ROWS):
            self.fields[f"med_name_{i}"] = CleanText(
                label=format_lazy(_("Medicine {number}"), number=i + 1),
                required=False,
                max_length=120,
                widget=forms.TextInput(attrs={"list": "drug-names", "autocomplete": "off"}),
            )
            self.fields[f"med_dose_{i}"] = CleanText(
                label=format_lazy(_("Dose {number}"), number=i + 1), required=False, max_length=40
            )
            self.fields[f"med_frequency_{i}"] = forms.ChoiceField(
                label=format_lazy(_("How often {number}"), number=i + 1), choices=FREQUENCIES, required=False
            )
            self.fields[f"med_indication_{i}"] = forms.ChoiceField(
                label=format_lazy(_("Taken for {number}"), number=i + 1), choices=Indication.choices, required=False
            )
            self.fields[f"med_prescriber_{i}"] = CleanText(
                label=format_lazy(_("Prescriber {number}"), number=i + 1), required=False, max_length=120
            )
            self.fields[f"med_prescriber_phone_{i}"] = CleanText(
                label=format_lazy(_("Prescriber phone {number}"), number=i + 1), required=False, max_length=32
            )
            self.fields[f"med_last_taken_{i}"] = forms.DateTimeField(
                label=format_lazy(_("Last taken {number}"), number=i + 1),
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                error_messages={"invalid": _("Enter the date and time as YYYY-MM-DD HH:MM.")},
            )
        for i in range(ALLERGY_ROWS):
            self.fields[f"allergy_category_{i}"] = forms.ChoiceField(
                label=format_lazy(_("Allergy {number}: kind"), number=i + 1),
                choices=[("", "—"), *Allergy.Category.choices],
                required=False,
            )
            self.fields[f"allergy_substance_{i}"] = CleanText(
                label=format_lazy(_("Allergy {number}: substance"), number=i + 1), required=False, max_length=120
            )
            self.fields[f"allergy_reaction_{i}"] = CleanText(
                label=format_lazy(_("Allergy {number}: reaction"), number=i + 1), required=False, max_length=200
            )
            self.fields[f"allergy_severity_{i}"] = forms.ChoiceField(
                label=format_lazy(_("Allergy {number}: severity"), number=i + 1), choices=SEVERITIES, required=False
            )

    @classmethod
    def initial_from(cls, call: PreCall) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(call, name) for name in CALL_FIELDS}
        initial["version"] = call.version
        for i, med in enumerate(call.medications.all()[:MED_ROWS]):
            initial |= {
                f"med_name_{i}": med.name,
                f"med_dose_{i}": med.dose,
                f"med_frequency_{i}": med.frequency,
                f"med_indication_{i}": med.indication,
                f"med_prescriber_{i}": med.prescriber_name,
                f"med_prescriber_phone_{i}": med.prescriber_phone,
                f"med_last_taken_{i}": when.local(med.last_taken, call.case.site).replace(tzinfo=None)
                if med.last_taken
                else None,
            }
        for i, allergy in enumerate(call.allergies[:ALLERGY_ROWS]):
            initial |= {
                f"allergy_{key}_{i}": allergy.get(key, "") for key in ("category", "substance", "reaction", "severity")
            }
        return initial

    def med_rows(self) -> list[dict[str, Any]]:
        keys = ("name", "dose", "frequency", "indication", "last_taken", "prescriber", "prescriber_phone")
        return [_row({key: self[f"med_{key}_{i}"] for key in keys}, "name") for i in range(MED_ROWS)]

    def allergy_rows(self) -> list[dict[str, Any]]:
        keys = ("category", "substance", "reaction", "severity")
        return [
            _row({key: self[f"allergy_{key}_{i}"] for key in keys}, "category", "substance")
            for i in range(ALLERGY_ROWS)
        ]

    def history_fields(self) -> list[Any]:
        return [self[name] for name in HISTORY]

    def imaging_fields(self) -> list[Any]:
        return [self[name] for name in IMAGING_FLAGS]

    def _site_time(self, value: Any) -> Any:
        # The browser sends a wall time; it is the site's wall time (the label says so).
        if value is None or self.zone is None:
            return value
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)

    def call_input(self) -> CallInput:
        d = self.cleaned_data
        values = {name: d.get(name) for name in CALL_FIELDS}
        for name in CALL_FIELDS:
            if values[name] is None and isinstance(self.fields[name], forms.CharField | forms.ChoiceField):
                values[name] = ""
        medications = [
            MedicationInput(
                d[f"med_name_{i}"],
                d.get(f"med_dose_{i}", ""),
                d.get(f"med_frequency_{i}", ""),
                d.get(f"med_indication_{i}", ""),
                d.get(f"med_prescriber_{i}", ""),
                d.get(f"med_prescriber_phone_{i}", ""),
                self._site_time(d.get(f"med_last_taken_{i}")),
            )
            for i in range(MED_ROWS)
            if (d.get(f"med_name_{i}") or "").strip()
        ]
        allergies = [
            AllergyInput(
                d.get(f"allergy_category_{i}", ""),
                d.get(f"allergy_substance_{i}", ""),
                d.get(f"allergy_reaction_{i}", ""),
                d.get(f"allergy_severity_{i}", ""),
            )
            for i in range(ALLERGY_ROWS)
            if d.get(f"allergy_category_{i}") or (d.get(f"allergy_substance_{i}") or "").strip()
        ]
        return CallInput(values, medications, allergies)
