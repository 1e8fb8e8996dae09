"""One test per row of rules/data/precall.toml: each finding fires on its facts and not on a clean call."""

from dataclasses import replace

import pytest

from kyphos.rules import data
from kyphos.rules.findings import Severity
from kyphos.rules.precall import CallFacts, MedicineFacts, all_codes, call_findings, fasting_hours

CLEAN = CallFacts(pregnancy="not_applicable", driver_arranged=True, imaging="bringing")
APIXABAN = MedicineFacts("apixaban", "doac_xa", True, "Fri 04-Dec 08:00", "", True)

TRIGGERS = {
    "history.fever_or_infection": replace(CLEAN, fever_or_infection=True),
    "history.new_neuro_symptoms": replace(CLEAN, new_neuro_symptoms=True),
    "pregnancy.possible": replace(CLEAN, pregnancy="possibly_pregnant"),
    "pregnancy.confirmed": replace(CLEAN, pregnancy="pregnant"),
    "pregnancy.nursing": replace(CLEAN, nursing=True),
    "allergy.cement": replace(CLEAN, allergy_categories=frozenset({"cement"})),
    "allergy.contrast": replace(CLEAN, allergy_categories=frozenset({"contrast"})),
    "allergy.latex": replace(CLEAN, allergy_categories=frozenset({"latex"})),
    "allergy.sedative": replace(CLEAN, allergy_categories=frozenset({"sedative"})),
    "medicine.hold_to_agree": replace(CLEAN, medicines=(APIXABAN,)),
    "medicine.taken_too_late": replace(
        CLEAN,
        medicines=(
            replace(APIXABAN, deadline_passed=True, last_taken_text="Fri 04-Dec 20:00", taken_after_deadline=True),
        ),
    ),
    "medicine.ask_last_taken": replace(CLEAN, medicines=(replace(APIXABAN, deadline_passed=True),)),
    "medicine.no_guideline_value": replace(CLEAN, medicines=(replace(APIXABAN, name="ibuprofen", hold=None),)),
    "medicine.thrombotic_risk": replace(CLEAN, medicines=(replace(APIXABAN, indication="mechanical_valve"),)),
    "medicine.opioid": replace(CLEAN, medicines=(MedicineFacts("oxycodone", "opioid"),)),
    "medicine.glp1": replace(CLEAN, medicines=(MedicineFacts("semaglutide", "glp1"),)),
    "history.sleep_apnea": replace(CLEAN, sleep_apnea=True),
    "history.heart_failure": replace(CLEAN, heart_failure=True),
    "history.ckd": replace(CLEAN, ckd=True),
    "history.insulin": replace(CLEAN, insulin_diabetes=True),
    "history.prior_spine_surgery": replace(CLEAN, prior_spine_surgery=True),
    "logistics.no_driver": replace(CLEAN, driver_arranged=False),
    "logistics.no_imaging": replace(CLEAN, imaging="none"),
}


def codes(facts: CallFacts) -> set[str]:
    return {f.code for f in call_findings(facts)}


def test_every_row_has_a_trigger_here() -> None:
    assert set(all_codes()) == set(TRIGGERS)


def test_a_clean_call_finds_nothing() -> None:
    assert call_findings(CLEAN) == []


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_finding(code: str) -> None:
    found = call_findings(TRIGGERS[code])
    assert code in {f.code for f in found}
    for finding in found:
        assert finding.source and finding.confidence in data.CONFIDENCE_TAGS


@pytest.mark.parametrize(
    "code",
    [
        "history.fever_or_infection",
        "history.new_neuro_symptoms",
        "pregnancy.possible",
        "pregnancy.confirmed",
        "medicine.taken_too_late",
    ],
)
def test_these_stop(code: str) -> None:
    [finding] = [f for f in call_findings(TRIGGERS[code]) if f.code == code]
    assert finding.severity is Severity.STOP


def test_a_continued_blood_thinner_needs_no_agreement() -> None:
    assert "medicine.hold_to_agree" not in codes(replace(CLEAN, medicines=(replace(APIXABAN, hold=False),)))


def test_the_message_names_the_drug_and_the_last_dose() -> None:
    [finding] = [f for f in call_findings(TRIGGERS["medicine.hold_to_agree"]) if f.code == "medicine.hold_to_agree"]
    assert "apixaban" in str(finding.message) and "Fri 04-Dec 08:00" in str(finding.message)


def test_fasting_hours_come_with_their_sources() -> None:
    hours = fasting_hours()
    assert {k: v.value for k, v in hours.items()} == {
        "clear_liquids_hours": 2,
        "light_meal_hours": 6,
        "fatty_meal_hours": 8,
    }
    assert all("ASA practice guidelines for preoperative fasting" in v.source for v in hours.values())
