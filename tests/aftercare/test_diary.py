"""The symptom diary: answers checked, red flags → the right task, bad input and closed cases change nothing."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kyphos.aftercare import diary, followup
from kyphos.aftercare.models import CaseOutcome, DiaryEntry, QuestionnaireResponse
from kyphos.pathway.models import Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role
from tests.conftest import CALM, MONDAY, case_at, diary_entry, no_flags, patient_actor

pytestmark = pytest.mark.django_db
PATIENT = patient_actor()
NO_FLAGS = no_flags()


@pytest.fixture
def case(make_case: Any, actors: dict[str, Any]) -> Any:
    return case_at(make_case, actors, "discharged")


def test_a_calm_entry_is_stored_as_a_scored_response_and_opens_no_task(case: Any) -> None:
    with time_machine.travel(MONDAY + timedelta(days=2)):
        saved = diary.record_entry(PATIENT, case, diary_entry())
    assert saved.pain == 3 and saved.red_flags == [] and saved.action == ""
    response = saved.response
    assert response.context == "diary" and response.score == 2  # walking 1 + activities 1
    assert response.answer("walking") == {
        "code": "bit_worse",
        "display": "A little worse than before the fracture",
    }
    assert not Task.objects.filter(case=case, kind__startswith="diary", status=TaskStatus.OPEN).exists()


@pytest.mark.parametrize(
    "flag,kind,role,urgent,within",
    [
        ("chest_or_breathing", TaskKind.DIARY_EMERGENCY, Role.NURSE, True, timedelta(minutes=15)),
        ("leg_weakness_or_numbness", TaskKind.DIARY_EMERGENCY, Role.NURSE, True, timedelta(minutes=15)),
        ("bladder_bowel_or_saddle", TaskKind.DIARY_EMERGENCY, Role.NURSE, True, timedelta(minutes=15)),
        ("fever", TaskKind.DIARY_SAME_DAY, Role.NURSE, False, timedelta(hours=4)),
        ("needle_site", TaskKind.DIARY_SAME_DAY, Role.NURSE, False, timedelta(hours=4)),
        ("pain_returns", TaskKind.DIARY_REVIEW, Role.RADIOLOGIST, False, timedelta(days=2)),
    ],
)
def test_each_red_flag_opens_its_task(
    case: Any, flag: str, kind: str, role: str, urgent: bool, within: timedelta
) -> None:
    moment = MONDAY + timedelta(days=3, hours=2)
    with time_machine.travel(moment, tick=False):
        saved = diary.record_entry(PATIENT, case, diary_entry(**{flag: "yes"}))
    task = Task.objects.get(case=case, kind=kind)
    assert (task.role, task.urgent, task.due_end - task.due_start) == (role, urgent, within)
    assert saved.red_flags == [flag]


def test_a_measured_fever_raises_the_flag_even_when_the_box_says_no(case: Any) -> None:
    with time_machine.travel(MONDAY + timedelta(days=2)):
        saved = diary.record_entry(PATIENT, case, diary.DiaryInput(CALM, NO_FLAGS, temperature="38,6"))
    assert saved.red_flags == ["fever"] and saved.temperature_c == Decimal("38.6")
    assert Task.objects.filter(case=case, kind=TaskKind.DIARY_SAME_DAY).count() == 1


def test_a_site_threshold_changes_what_counts_as_fever(case: Any) -> None:
    case.site.redflag_settings = {
        "fever_celsius": {"value": 38.0, "source": "Infection control policy 12", "confidence": "local"}
    }
    case.site.save()
    with time_machine.travel(MONDAY + timedelta(days=2)):
        saved = diary.record_entry(PATIENT, case, diary.DiaryInput(CALM, NO_FLAGS, temperature="38.1"))
    assert saved.red_flags == ["fever"]


def test_pain_coming_back_is_caught_from_the_numbers(case: Any) -> None:
    with time_machine.travel(MONDAY + timedelta(days=2)):
        diary.record_entry(PATIENT, case, diary_entry({**CALM, "pain": "2"}))
    with time_machine.travel(MONDAY + timedelta(days=5)):
        saved = diary.record_entry(PATIENT, case, diary_entry({**CALM, "pain": "6"}))
    assert saved.red_flags == ["pain_returns"]
    assert Task.objects.get(case=case, kind=TaskKind.DIARY_REVIEW).role == Role.RADIOLOGIST


@pytest.mark.parametrize(
    "answers,flags,temperature,field",
    [
        ({**CALM, "pain": "11"}, NO_FLAGS, "", "pain"),
        ({**CALM, "pain": "-1"}, NO_FLAGS, "", "pain"),
        ({**CALM, "walking": "flying"}, NO_FLAGS, "", "walking"),
        ({k: v for k, v in CALM.items() if k != "activities"}, NO_FLAGS, "", "activities"),
        (CALM, {k: v for k, v in NO_FLAGS.items() if k != "fever"}, "", "flag_fever"),
        (CALM, {**NO_FLAGS, "chest_or_breathing": "maybe"}, "", "flag_chest_or_breathing"),
        (CALM, NO_FLAGS, "hot", "temperature"),
        (CALM, NO_FLAGS, "45", "temperature"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    case: Any, answers: dict[str, str], flags: dict[str, str], temperature: str, field: str
) -> None:
    with time_machine.travel(MONDAY + timedelta(days=2)), pytest.raises(ValidationError) as caught:
        diary.record_entry(PATIENT, case, diary.DiaryInput(answers, flags, temperature=temperature))
    assert field in caught.value.message_dict
    assert not DiaryEntry.objects.exists() and not QuestionnaireResponse.objects.exists()
    assert not Task.objects.filter(case=case, kind__startswith="diary").exists()


def test_a_closed_case_takes_no_entry(case: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(MONDAY + timedelta(days=10)):
        followup.record_visit(
            actors["radiologist"],
            case,
            followup.VisitInput(1, "discharge", complications=("none",)),
            version=case.version,
        )
        case.refresh_from_db()
        case = followup.close_case(actors["radiologist"], case, version=case.version)
        with pytest.raises(ValidationError, match="diary is closed"):
            diary.record_entry(PATIENT, case, diary_entry(leg_weakness_or_numbness="yes"))
    assert not DiaryEntry.objects.exists()
    assert not Task.objects.filter(kind=TaskKind.DIARY_EMERGENCY).exists()


def test_before_the_procedure_the_diary_is_not_open(make_case: Any) -> None:
    case = make_case("scheduled")
    with pytest.raises(ValidationError, match="opens after your procedure"):
        diary.record_entry(PATIENT, case, diary_entry())


def test_pain_at_24_to_48_hours_is_kept_as_an_outcome(case: Any) -> None:
    # The procedure ended at MONDAY + 85 min; an entry 30 hours later is in the 24–48 h window.
    with time_machine.travel(MONDAY + timedelta(hours=31)):
        diary.record_entry(PATIENT, case, diary_entry({**CALM, "pain": "2"}))
    outcome = CaseOutcome.objects.get(case=case)
    assert (outcome.pain_baseline, outcome.pain_24_48h) == (7, 2)
