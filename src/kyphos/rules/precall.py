"""Findings from the pre-procedure call: history, pregnancy, allergies, medicines, logistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kyphos.errors import Text
from kyphos.rules import data
from kyphos.rules.findings import Finding, Severity, by_severity

THROMBOTIC_RISK_INDICATIONS = {
    "mechanical_valve": "a mechanical heart valve",
    "recent_stent": "a recent coronary stent",
    "af": "atrial fibrillation",
    "vte": "a blood clot (VTE)",
}


@dataclass(frozen=True)
class MedicineFacts:
    name: str
    drug_class: str = ""
    hold: bool | None = False  # from the blood-thinner plan; None = no guideline value
    last_dose_text: str = ""
    indication: str = ""
    antithrombotic: bool = False
    deadline_passed: bool = False  # the last safe dose time is already past when the call is made
    last_taken_text: str = ""  # when the patient says they last took it; "" = not asked
    taken_after_deadline: bool = False


@dataclass(frozen=True)
class CallFacts:
    fever_or_infection: bool = False
    new_neuro_symptoms: bool = False
    sleep_apnea: bool = False
    heart_failure: bool = False
    ckd: bool = False
    insulin_diabetes: bool = False
    prior_spine_surgery: bool = False
    pregnancy: str = "not_applicable"  # not_applicable | not_pregnant | possibly_pregnant | pregnant | unknown
    nursing: bool = False
    allergy_categories: frozenset[str] = frozenset()
    driver_arranged: bool = True
    imaging: str = "bringing"  # bringing | received | none | unknown
    medicines: tuple[MedicineFacts, ...] = field(default=())


@cache
def _rows() -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in data.load("precall")["finding"]}


def all_codes() -> list[str]:
    return list(_rows())


def fasting_hours() -> dict[str, data.Sourced]:
    table = data.load("precall")["fasting"]
    return {name: data.sourced(entry, f"precall.fasting.{name}") for name, entry in table.items()}


def _finding(code: str, **values: object) -> Finding:
    row = _rows()[code]
    return Finding(
        code,
        Severity(row["severity"]),
        Text(row["message"], **values),
        row["source"],
        row["confidence"],
        bool(row.get("verify", False)),
    )


def call_findings(facts: CallFacts) -> list[Finding]:
    """Everything the call found that the radiologist, anesthesia or the ward should know, stops first."""
    found: list[Finding] = []
    flags = [
        (facts.fever_or_infection, "history.fever_or_infection"),
        (facts.new_neuro_symptoms, "history.new_neuro_symptoms"),
        (facts.pregnancy == "possibly_pregnant", "pregnancy.possible"),
        (facts.pregnancy == "pregnant", "pregnancy.confirmed"),
        (facts.nursing, "pregnancy.nursing"),
        ("cement" in facts.allergy_categories, "allergy.cement"),
        ("contrast" in facts.allergy_categories, "allergy.contrast"),
        ("latex" in facts.allergy_categories, "allergy.latex"),
        ("sedative" in facts.allergy_categories, "allergy.sedative"),
        (facts.sleep_apnea, "history.sleep_apnea"),
        (facts.heart_failure, "history.heart_failure"),
        (facts.ckd, "history.ckd"),
        (facts.insulin_diabetes, "history.insulin"),
        (facts.prior_spine_surgery, "history.prior_spine_surgery"),
        (not facts.driver_arranged, "logistics.no_driver"),
        (facts.imaging == "none", "logistics.no_imaging"),
    ]
    found += [_finding(code) for present, code in flags if present]
    for medicine in facts.medicines:
        if medicine.antithrombotic and medicine.hold is True:
            found.append(_finding("medicine.hold_to_agree", drug=medicine.name, last_dose=medicine.last_dose_text))
            if medicine.taken_after_deadline:
                found.append(
                    _finding(
                        "medicine.taken_too_late",
                        drug=medicine.name,
                        last_dose=medicine.last_dose_text,
                        last_taken=medicine.last_taken_text,
                    )
                )
            elif medicine.deadline_passed and not medicine.last_taken_text:
                found.append(_finding("medicine.ask_last_taken", drug=medicine.name, last_dose=medicine.last_dose_text))
        elif medicine.antithrombotic and medicine.hold is None:
            found.append(_finding("medicine.no_guideline_value", drug=medicine.name))
        if medicine.antithrombotic and medicine.indication in THROMBOTIC_RISK_INDICATIONS:
            found.append(
                _finding(
                    "medicine.thrombotic_risk",
                    drug=medicine.name,
                    indication=THROMBOTIC_RISK_INDICATIONS[medicine.indication],
                )
            )
        if medicine.drug_class == "opioid":
            found.append(_finding("medicine.opioid", drug=medicine.name))
        if medicine.drug_class == "glp1":
            found.append(_finding("medicine.glp1", drug=medicine.name))
    return by_severity(found)
