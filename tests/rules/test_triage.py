"""One test per row of rules/data/triage.toml: each finding fires on the facts that should raise it."""

from dataclasses import replace

import pytest

from kyphos.rules import data
from kyphos.rules.findings import Severity
from kyphos.rules.triage import (
    Acuity,
    Etiology,
    Evidence,
    LevelFacts,
    PainTrend,
    TriageFacts,
    all_codes,
    triage_findings,
)

CLEAN = TriageFacts(
    levels=(LevelFacts("T12", Acuity.ACUTE, Evidence.YES, 20),),
    etiology=Etiology.OSTEOPOROSIS,
    pain_nrs=7,
    hospitalized=False,
    weeks_conservative_care=12,
    pain_trend=PainTrend.WORSENING,
)

# code → facts that must raise it
TRIGGERS = {
    "absolute.infection": replace(CLEAN, infection=True),
    "absolute.pregnancy": replace(CLEAN, pregnant=True),
    "absolute.pain_not_from_fracture": replace(CLEAN, pain_not_from_fracture=True),
    "relative.too_many_levels": replace(
        CLEAN, levels=tuple(LevelFacts(lv, Acuity.ACUTE, Evidence.YES) for lv in ("T10", "T11", "T12", "L1"))
    ),
    "relative.cement_allergy": replace(CLEAN, cement_allergy=True),
    "relative.contrast_allergy": replace(CLEAN, contrast_allergy=True),
    "relative.coagulopathy": replace(CLEAN, uncorrected_coagulopathy=True),
    "relative.retropulsion": replace(CLEAN, retropulsion=True),
    "relative.neuro_deficit": replace(CLEAN, neuro_deficit=True),
    "relative.spinal_instability": replace(CLEAN, spinal_instability=True),
    "acuity.chronic": replace(CLEAN, levels=(LevelFacts("L2", Acuity.CHRONIC, Evidence.YES),)),
    "imaging.no_edema": replace(CLEAN, levels=(LevelFacts("L2", Acuity.ACUTE, Evidence.NO),)),
    "imaging.edema_unknown": replace(CLEAN, levels=(LevelFacts("L2", Acuity.ACUTE, Evidence.UNKNOWN),)),
    "pain.below_threshold_hospitalized": replace(CLEAN, hospitalized=True, pain_nrs=7),
    "pain.below_threshold_outpatient": replace(CLEAN, pain_nrs=4),
    "conservative.not_tried": replace(CLEAN, weeks_conservative_care=0),
    "support.height_loss": replace(CLEAN, levels=(LevelFacts("L2", Acuity.ACUTE, Evidence.YES, 30),)),
    "support.rdq_severe": replace(CLEAN, rdq=18),
    "support.too_few": replace(CLEAN, pain_trend=PainTrend.STABLE),
    "support.trend_not_recorded": replace(CLEAN, pain_trend=None),
    "etiology.neoplastic": replace(CLEAN, etiology=Etiology.NEOPLASTIC),
    "continuum.bmd_referral": CLEAN,
}


def codes(facts: TriageFacts) -> set[str]:
    return {f.code for f in triage_findings(facts)}


def test_every_row_of_the_data_file_has_a_trigger_here() -> None:
    assert set(all_codes()) == set(TRIGGERS)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_it_raises_each_finding_on_its_facts_only(code: str) -> None:
    assert code in codes(TRIGGERS[code])
    if code != "continuum.bmd_referral":
        assert code not in codes(CLEAN)


def test_a_clean_referral_has_nothing_to_stop_or_caution() -> None:
    assert {f.severity for f in triage_findings(CLEAN)} == {Severity.INFO}


@pytest.mark.parametrize("flag", ["infection", "pregnant", "pain_not_from_fracture"])
def test_absolute_contraindications_stop(flag: str) -> None:
    findings = triage_findings(replace(CLEAN, **{flag: True}))
    assert findings[0].severity is Severity.STOP  # stops come first


def test_pain_thresholds_come_from_the_data_file() -> None:
    assert "pain.below_threshold_hospitalized" not in codes(replace(CLEAN, hospitalized=True, pain_nrs=8))
    assert "pain.below_threshold_outpatient" not in codes(replace(CLEAN, pain_nrs=5))
    assert "relative.too_many_levels" not in codes(
        replace(CLEAN, levels=tuple(LevelFacts(lv, Acuity.ACUTE, Evidence.YES) for lv in ("T11", "T12", "L1")))
    )


def test_every_finding_names_its_source_and_confidence() -> None:
    for facts in TRIGGERS.values():
        for finding in triage_findings(facts):
            assert finding.source and finding.confidence in data.CONFIDENCE_TAGS


def test_messages_carry_the_level_and_the_threshold() -> None:
    [chronic] = [f for f in triage_findings(TRIGGERS["acuity.chronic"]) if f.code == "acuity.chronic"]
    assert "L2" in str(chronic.message) and "12 weeks" in str(chronic.message)


def test_a_value_without_a_source_is_refused() -> None:
    with pytest.raises(data.DataFileError):
        data.sourced({"value": 3, "confidence": "S"}, "x")
    with pytest.raises(data.DataFileError):
        data.sourced({"value": 3, "source": "y", "confidence": "maybe"}, "x")


@pytest.mark.parametrize(
    "changes,count",
    [
        ({}, 0),
        ({"kyphotic_deformity": True}, 1),
        ({"kyphotic_deformity": True, "progressive_height_loss": True}, 2),
        ({"rdq": 18, "levels": (LevelFacts("L2", Acuity.ACUTE, Evidence.YES, 30),)}, 2),
        ({"rdq": 17, "levels": (LevelFacts("L2", Acuity.ACUTE, Evidence.YES, 25),)}, 0),  # thresholds are "over"
    ],
)
def test_stable_or_improving_pain_needs_2_supporting_findings_lcd_l34228_inclusion_2(
    changes: dict[str, object], count: int
) -> None:
    """Medicare LCD L34228, inclusion 2: an outpatient with stable or improving pain ≥ 5 needs ≥ 2 of progressive
    height loss, > 25 % height loss, kyphotic deformity, RDQ > 17. Worsening pain needs none."""
    for trend in (PainTrend.STABLE, PainTrend.IMPROVING):
        found = triage_findings(replace(CLEAN, pain_trend=trend, **changes))  # type: ignore[arg-type]
        too_few = [f for f in found if f.code == "support.too_few"]
        assert bool(too_few) is (count < 2)
        if too_few:
            assert f"{count} recorded" in str(too_few[0].message) and too_few[0].severity is Severity.CAUTION
    assert "support.too_few" not in codes(replace(CLEAN, pain_trend=PainTrend.WORSENING))
    assert "support.too_few" not in codes(replace(CLEAN, pain_trend=PainTrend.STABLE, hospitalized=True, pain_nrs=9))


def test_two_weeks_of_treatment_counts_as_non_surgical_care_tried() -> None:
    """Conservative care is recorded in weeks: 2–3 weeks of treatment for an acute fracture is care tried."""
    assert "conservative.not_tried" not in codes(replace(CLEAN, weeks_conservative_care=2))
    assert "conservative.not_tried" in codes(replace(CLEAN, weeks_conservative_care=None))
