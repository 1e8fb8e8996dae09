from decimal import Decimal

import pytest

from kyphos.rules.redflags import Action, evaluate, flags

EXPECTED = {
    "chest_or_breathing": Action.EMERGENCY,
    "leg_weakness_or_numbness": Action.EMERGENCY,
    "bladder_bowel_or_saddle": Action.EMERGENCY,
    "sudden_severe_pain": Action.EMERGENCY,
    "fever": Action.SAME_DAY,
    "needle_site": Action.SAME_DAY,
    "new_pain": Action.SAME_DAY,
    "pain_returns": Action.REVIEW,
}


def test_new_pain_not_there_before_asks_for_a_same_day_call_tri_state_radiologykey() -> None:
    """Tri-State post-op sheet / RadiologyKey: new or worse pain not present before → same-day call (not only a
    review, as pain that comes back after easing is)."""
    assert evaluate({"new_pain": True}).action is Action.SAME_DAY
    assert evaluate({"pain_returns": True}).action is Action.REVIEW


def test_sudden_severe_back_or_leg_pain_is_an_emergency_and_marked_verify() -> None:
    """Neuraxial hematoma signs (sharp back or leg pain with compression): an emergency row, a clinical inference
    that the clinical lead signs off."""
    raised = evaluate({"sudden_severe_pain": True})
    assert raised.action is Action.EMERGENCY and raised.flags[0].verify


def test_every_row_is_tested() -> None:
    assert set(flags()) == set(EXPECTED)


@pytest.mark.parametrize("flag,action", sorted(EXPECTED.items()))
def test_each_flag_and_its_action(flag: str, action: Action) -> None:
    raised = evaluate({flag: True})
    assert raised.action is action
    assert raised.flags[0].source and raised.flags[0].question["es"]


def test_no_flag_no_action() -> None:
    assert evaluate({key: False for key in EXPECTED}).action is None


def test_the_most_urgent_action_wins() -> None:
    assert evaluate({"pain_returns": True, "fever": True, "chest_or_breathing": True}).action is Action.EMERGENCY


@pytest.mark.parametrize("temperature,raised", [("38.3", False), ("38.4", True), ("36.8", False)])
def test_a_measured_fever(temperature: str, raised: bool) -> None:
    assert (evaluate({}, Decimal(temperature)).action is Action.SAME_DAY) is raised


def test_unknown_questions_are_refused() -> None:
    with pytest.raises(ValueError):
        evaluate({"headache": True})
