"""Forms of the procedure day. Times are entered on the site's wall clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from kyphos import measures
from kyphos.formfields import CleanText, between
from kyphos.procedure import note
from kyphos.procedure.models import LEAKAGE_PLACES, Sedation, TreatedLevel
from kyphos.procedure.services import DOSE_BOUNDS, VITAL_BOUNDS, checklist_items
from kyphos.rules.cement import products
from kyphos.rules.labs import tests
from kyphos.rules.levels import ALL_LEVELS

LOCAL = {
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    "error_messages": {"invalid": _("Enter the date and time as YYYY-MM-DD HH:MM.")},
}

TEMPERATURE_LABEL = {measures.CELSIUS: _("Temperature (°C)"), measures.FAHRENHEIT: _("Temperature (°F)")}


def local_field(label: object, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, **LOCAL)  # type: ignore[arg-type]


def in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A wall time typed for the site, as an aware time (the browser sends no zone)."""
    return None if value is None else value.replace(tzinfo=None).replace(tzinfo=zone)


class AdmissionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    identity_band = forms.BooleanField(label=_("Identity band on and checked"), required=False)
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), required=False, **between(*VITAL_BOUNDS["weight_kg"]), max_digits=5, decimal_places=1
    )
    bp_systolic = forms.IntegerField(label=_("BP systolic"), required=False, **between(*VITAL_BOUNDS["bp_systolic"]))
    bp_diastolic = forms.IntegerField(label=_("BP diastolic"), required=False, **between(*VITAL_BOUNDS["bp_diastolic"]))
    heart_rate = forms.IntegerField(label=_("Heart rate"), required=False, **between(*VITAL_BOUNDS["heart_rate"]))
    spo2 = forms.IntegerField(label=_("SpO₂ %"), required=False, **between(*VITAL_BOUNDS["spo2"]))
    temperature_c = forms.DecimalField()  # replaced in __init__ by the site's unit
    last_clear_liquid_at = local_field(_("Last clear drink"))
    last_light_meal_at = local_field(_("Last light meal"))
    last_fatty_meal_at = local_field(_("Last fatty food or meat"))
    iv_access = forms.BooleanField(label=_("IV access in place"), required=False)
    consent_signed = forms.BooleanField(label=_("Consent signed"), required=False)
    driver_confirmed = forms.BooleanField(label=_("Driver confirmed today"), required=False)
    allergies_reconfirmed = forms.BooleanField(label=_("Allergies re-confirmed"), required=False)
    medicine_plan_followed = forms.BooleanField(
        label=_("Medicine plan followed (last doses checked against the plan)"), required=False
    )
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = CleanText(label=_("Override reason (radiologist)"), required=False)

    def __init__(self, *args: Any, unit: str = measures.CELSIUS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        low, high = VITAL_BOUNDS["temperature_c"]  # type: tuple[Decimal | int, Decimal | int]
        if unit != measures.CELSIUS:
            low, high = measures.from_celsius(low, unit), measures.from_celsius(high, unit)
        self.fields["temperature_c"] = forms.DecimalField(
            label=TEMPERATURE_LABEL[unit], required=False, **between(low, high), max_digits=4, decimal_places=1
        )

    def clean_temperature_c(self) -> Decimal | None:
        """Typed in the site's unit, kept in °C."""
        value = self.cleaned_data.get("temperature_c")
        return None if value is None else measures.to_celsius(value, self.unit)


class LabForm(forms.Form):
    prefix = "lab"
    code = forms.ChoiceField(label=_("Test"), choices=[])
    value = CleanText(label=_("Value"), required=False, max_length=20)
    positive = forms.ChoiceField(
        label=_("hCG result"), required=False, choices=[("", "—"), ("neg", _("Negative")), ("pos", _("Positive"))]
    )
    taken_at = local_field(_("Sample taken"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [(t.code, f"{t.name} ({t.loinc})") for t in tests().values()]  # type: ignore[attr-defined]


class ChecklistForm(forms.Form):
    def __init__(self, part: str, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = part
        super().__init__(*args, **kwargs)
        self.part = part
        for key, label in checklist_items(part):
            self.fields[key] = forms.BooleanField(label=label, required=False)
        self.fields["note"] = CleanText(label=_("Note"), required=False, max_length=300)

    def ticked(self) -> set[str]:
        return {key for key, _label in checklist_items(self.part) if self.cleaned_data.get(key)}


class SedationForm(forms.Form):
    prefix = "sed"
    provider_name = CleanText(label=_("Anesthesia provider"), max_length=120)
    provider_role = forms.ChoiceField(label=_("Role"), choices=Sedation.ProviderRole.choices)
    asa_class = forms.IntegerField(label=_("ASA physical status (1–6)"), **between(1, 6))
    level = forms.ChoiceField(label=_("Sedation level"), choices=Sedation.Level.choices)
    started_at = local_field(_("Sedation start"), required=True)
    ended_at = local_field(_("Sedation end"))
    airway_notes = CleanText(label=_("Airway notes"), required=False)
    agents = CleanText(label=_("Agents and doses"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    events = CleanText(label=_("Events"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StartForm(forms.Form):
    prefix = "start"
    version = forms.IntegerField(widget=forms.HiddenInput)
    operators = CleanText(label=_("Operator(s)"), max_length=200)
    override_reason = CleanText(
        label=_("Override reason (only to proceed despite a stop)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LevelForm(forms.Form):
    prefix = "lvl"
    level = forms.ChoiceField(label=_("Level"), choices=[("", "—"), *((name, name) for name in ALL_LEVELS)])
    sides = forms.ChoiceField(label=_("Side(s)"), choices=TreatedLevel.Sides.choices)
    balloon_size = CleanText(label=_("Balloon size"), required=False, max_length=20)
    pressure_left_psi = forms.IntegerField(label=_("Max pressure left (psi)"), required=False)
    pressure_right_psi = forms.IntegerField(label=_("Max pressure right (psi)"), required=False)
    balloon_ml_left = forms.DecimalField(label=_("Balloon volume left (mL)"), required=False, decimal_places=1)
    balloon_ml_right = forms.DecimalField(label=_("Balloon volume right (mL)"), required=False, decimal_places=1)
    restoration = forms.ChoiceField(
        label=_("Height restoration"), choices=TreatedLevel.Restoration.choices, initial="partial"
    )
    cement_product = forms.ChoiceField(label=_("Cement product"), choices=[])
    cement_lot = CleanText(label=_("Cement lot"), max_length=40)
    cement_mixed_at = local_field(_("Cement mixed at"), required=True)
    cement_ml_left = forms.DecimalField(label=_("Cement left (mL)"), required=False, decimal_places=1)
    cement_ml_right = forms.DecimalField(label=_("Cement right (mL)"), required=False, decimal_places=1)
    leakage = forms.ChoiceField(label=_("Leakage"), choices=TreatedLevel.Leakage.choices)
    leakage_location = forms.ChoiceField(
        label=_("Leakage location"),
        required=False,
        choices=[("", "—"), *LEAKAGE_PLACES.items()],
    )
    biopsy = forms.BooleanField(label=_("Biopsy taken"), required=False)
    off_plan_reason = CleanText(label=_("Reason (level not in the plan)"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cement_product"].choices = [(p.id, p.name) for p in products().values()]  # type: ignore[attr-defined]


class EndForm(forms.Form):
    prefix = "end"
    version = forms.IntegerField(widget=forms.HiddenInput)
    ended_at = local_field(_("Procedure end"), required=True)
    fluoro_seconds = forms.IntegerField(
        label=_("Fluoroscopy time (s)"), required=False, **between(*DOSE_BOUNDS["fluoro_seconds"])
    )
    air_kerma_mgy = forms.DecimalField(
        label=_("Cumulative air kerma (mGy)"),
        required=False,
        **between(*DOSE_BOUNDS["air_kerma_mgy"]),
        decimal_places=1,
    )
    dap_gycm2 = forms.DecimalField(
        label=_("Dose–area product (Gy·cm²)"), required=False, **between(*DOSE_BOUNDS["dap_gycm2"]), decimal_places=2
    )
    complications = CleanText(
        label=_("Complications and their management"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    complication_grade = forms.ChoiceField(
        label=_("Complication grade"),
        required=False,
        choices=[
            ("", _("None")),
            ("minor", _("Minor")),
            ("moderate", _("Moderate")),
            ("severe", _("Severe")),
            ("life", _("Life-threatening")),
        ],
    )


class AddendumForm(forms.Form):
    prefix = "add"
    text = CleanText(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    """The note's sections, prefilled; a draft may leave any empty, a signature needs the required ones."""

    prefix = "note"

    def __init__(self, *args: Any, signing: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, heading in note.SECTIONS:
            self.fields[key] = CleanText(
                label=heading,
                required=signing and key in note.REQUIRED,
                max_length=note.SECTION_MAX,
                widget=forms.Textarea(attrs={"rows": 4 if key in {"technique", "cement", "plan"} else 2}),
            )
