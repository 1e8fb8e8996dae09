"""Loading FHIR Questionnaire definitions and scoring answers, with instruments written for these tests."""

import copy
from decimal import Decimal
from typing import Any

import pytest

from kyphos.rules import questionnaires as q

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def yes_no_instrument(items: int = 4) -> dict[str, Any]:
    """A made-up disability check: a yes scores 1, the score is the count of yeses (like a Roland-Morris shape)."""
    return {
        "resourceType": "Questionnaire",
        "url": "https://example.org/Questionnaire/test-yes-no",
        "version": "2",
        "title": "Test yes/no check",
        "status": "active",
        "extension": [{"url": q.SCORING_URL, "extension": [{"url": "method", "valueCode": "sum"}]}],
        "item": [
            {"linkId": f"q{n}", "text": f"Test statement {n}", "type": "boolean", "required": True}
            for n in range(1, items + 1)
        ],
    }


def percent_instrument() -> dict[str, Any]:
    """A made-up Oswestry-shaped index: sections scored 0–5, the result a percentage of the answered maximum."""

    def section(n: int) -> dict[str, Any]:
        return {
            "linkId": f"s{n}",
            "text": f"Section {n}",
            "type": "choice",
            "answerOption": [
                {
                    "valueCoding": {
                        "code": f"a{k}",
                        "display": f"Answer {k}",
                        "extension": [{"url": ORDINAL, "valueDecimal": k}],
                    }
                }
                for k in range(6)
            ],
        }

    return {
        "resourceType": "Questionnaire",
        "url": "https://example.org/Questionnaire/test-index",
        "version": "1",
        "title": "Test index",
        "status": "active",
        "extension": [
            {
                "url": q.SCORING_URL,
                "extension": [
                    {"url": "method", "valueCode": "percent"},
                    {"url": "minAnswered", "valueInteger": 3},
                ],
            }
        ],
        "item": [{"linkId": "group", "type": "group", "text": "All", "item": [section(n) for n in range(1, 5)]}],
    }


def test_the_yes_no_instrument_counts_the_yeses() -> None:
    instrument = q.parse(yes_no_instrument())
    assert instrument.score_range() == (0, 4)
    result = q.score(instrument, {"q1": "yes", "q2": "no", "q3": True, "q4": "no"})
    assert result.score == 2
    assert result.items[0] == {"linkId": "q1", "text": "Test statement 1", "answer": [{"valueBoolean": True}]}


def test_the_percent_method_scales_by_the_answered_sections() -> None:
    instrument = q.parse(percent_instrument())  # groups are read through
    # 3 of 4 sections answered: (2 + 3 + 4) / (3 × 5) = 60 %
    assert q.score(instrument, {"s1": "a2", "s2": "a3", "s3": "a4"}).score == Decimal("60.0")
    with pytest.raises(q.AnswerError) as caught:
        q.score(instrument, {"s1": "a2", "s2": "a3"})
    assert "_score" in caught.value.errors


def test_kyphos_own_set_scores_walking_and_activities() -> None:
    (recovery,) = [d for d in q.shipped() if d["url"].endswith("kyphos-recovery")]
    instrument = q.parse(recovery)
    assert instrument.score_range() == (0, 6)
    answers = {"pain": "4", "pain_medicines": "opioid", "walking": "much_worse", "activities": "cannot"}
    assert q.score(instrument, answers).score == 5
    assert instrument.item("walking").label("es").startswith("¿Cómo camina")


@pytest.mark.parametrize(
    "answers,field",
    [
        ({"q1": "yes", "q2": "no", "q3": "no"}, "q4"),
        ({"q1": "perhaps", "q2": "no", "q3": "no", "q4": "no"}, "q1"),
        ({"q1": "yes", "q2": "no", "q3": "no", "q4": "no", "q9": "yes"}, "q9"),
    ],
)
def test_wrong_or_missing_answers_are_named(answers: dict[str, Any], field: str) -> None:
    with pytest.raises(q.AnswerError) as caught:
        q.score(q.parse(yes_no_instrument()), answers)
    assert field in caught.value.errors


def test_a_number_outside_its_range_is_refused() -> None:
    (recovery,) = [d for d in q.shipped() if d["url"].endswith("kyphos-recovery")]
    with pytest.raises(q.AnswerError) as caught:
        q.score(
            q.parse(recovery),
            {"pain": "11", "pain_medicines": "none", "walking": "as_before", "activities": "as_before"},
        )
    assert caught.value.errors == {"pain": "Enter a number from 0 to 10."}


def _broken(change: Any) -> dict[str, Any]:
    definition = copy.deepcopy(percent_instrument())
    change(definition)
    return definition


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.update(resourceType="Patient"), "not a FHIR Questionnaire"),
        (lambda d: d.pop("version"), "needs a version"),
        (
            lambda d: d["item"][0]["item"][0]["answerOption"][0]["valueCoding"]["extension"].clear(),
            "ordinalValue",
        ),
        (lambda d: d["item"][0]["item"][1].update(linkId="s1"), "share a linkId"),
        (lambda d: d["item"][0]["item"][0].update(type="attachment"), "not supported"),
        (
            lambda d: d["extension"][0]["extension"].__setitem__(0, {"url": "method", "valueCode": "median"}),
            "Scoring method",
        ),
        (
            lambda d: d["extension"][0]["extension"].append({"url": "item", "valueString": "s9"}),
            "does not exist",
        ),
    ],
)
def test_a_definition_kyphos_cannot_use_is_refused_with_the_reason(change: Any, message: str) -> None:
    with pytest.raises(q.QuestionnaireError, match=message):
        q.parse(_broken(change))


def test_the_response_is_a_fhir_questionnaire_response_with_its_score() -> None:
    instrument = q.parse(yes_no_instrument())
    result = q.score(instrument, {"q1": "yes", "q2": "yes", "q3": "no", "q4": "no"})
    resource = q.response_resource(
        instrument, result, authored="2030-01-20T10:00:00+00:00", subject_ref="Patient/abc", author="patient"
    )
    assert resource["resourceType"] == "QuestionnaireResponse"
    assert resource["questionnaire"] == "https://example.org/Questionnaire/test-yes-no|2"
    assert resource["extension"][0]["valueDecimal"] == 2.0
