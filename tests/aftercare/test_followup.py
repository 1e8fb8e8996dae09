"""The follow-up visit: orders, questionnaire, outcomes, and closing the case only when no urgent task is open."""

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command

from kyphos.aftercare import diary, followup, questionnaires
from kyphos.aftercare.models import CaseOutcome, FollowUpRecord, Questionnaire, QuestionnaireResponse
from kyphos.messaging.letters import current_letter
from kyphos.pathway import services as pathway
from kyphos.pathway.errors import GuardBlocked, NotPermitted
from kyphos.pathway.models import Task, TaskKind, TaskStatus
from kyphos.pathway.stages import Stage
from tests.conftest import MONDAY, case_at, diary_entry, patient_actor
from tests.rules.test_questionnaires import yes_no_instrument

pytestmark = pytest.mark.django_db
PATIENT = patient_actor()
VISIT_DAY = MONDAY + timedelta(days=7, hours=1)
ANSWERS = {"pain": "1", "pain_medicines": "none", "walking": "as_before", "activities": "bit_worse"}


def visit(**changes: Any) -> followup.VisitInput:
    values: dict[str, Any] = {"pain_today": 1, "outcome": "discharge", "complications": ("none",)}
    values.update(changes)
    return followup.VisitInput(**values)


@pytest.fixture
def case(make_case: Any, actors: dict[str, Any]) -> Any:
    return case_at(make_case, actors, "discharged")


def test_the_visit_with_physical_therapy_and_bone_density_referrals(case: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(VISIT_DAY):
        record = followup.record_visit(
            actors["radiologist"],
            case,
            visit(pt_referral=True, pt_note="Core strengthening; no lifting > 5 kg", bmd_referral=True),
            version=case.version,
            questionnaire=questionnaires.recovery(),
            answers=ANSWERS,
        )
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOWUP_DONE and record.pain_today == 1
    pt = current_letter(case, "pt_referral")
    assert "Core strengthening" in pt.html and "T12, L1" in pt.html and pt.pdf.startswith(b"%PDF")
    assert "DXA" in current_letter(case, "bmd_referral").html
    outcome = CaseOutcome.objects.get(case=case)
    assert (outcome.pain_baseline, outcome.pain_follow_up, outcome.score_follow_up) == (7, 1, 1)


def test_a_suspected_new_fracture_gives_the_scheduler_an_imaging_task(case: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(VISIT_DAY):
        followup.record_visit(
            actors["radiologist"],
            case,
            visit(complications=("pain_new_level",), new_fracture_suspected=True, outcome="further"),
            version=case.version,
        )
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED  # another visit, not yet done
    assert case.tasks.get(kind=TaskKind.IMAGING).role == "scheduler"
    assert case.tasks.filter(kind=TaskKind.BOOK_FOLLOW_UP, status=TaskStatus.OPEN).exists()


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"pain_today": 11}, "pain_today"),
        ({"outcome": "maybe"}, "outcome"),
        ({"complications": ("none", "fever")}, "complications"),
        ({"complications": ("other",)}, "complication_note"),
        ({"pt_referral": True}, "pt_note"),
    ],
)
def test_bad_visit_input_writes_nothing(case: Any, actors: dict[str, Any], changes: dict[str, Any], field: str) -> None:
    with time_machine.travel(VISIT_DAY), pytest.raises(ValidationError) as caught:
        followup.record_visit(
            actors["radiologist"],
            case,
            visit(**changes),
            version=case.version,
            questionnaire=questionnaires.recovery(),
            answers=ANSWERS,
        )
    assert field in caught.value.message_dict
    assert not FollowUpRecord.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_a_bad_questionnaire_answer_writes_nothing(case: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(VISIT_DAY), pytest.raises(ValidationError) as caught:
        followup.record_visit(
            actors["radiologist"],
            case,
            visit(),
            version=case.version,
            questionnaire=questionnaires.recovery(),
            answers={**ANSWERS, "pain": "12"},
        )
    assert "q_pain" in caught.value.message_dict
    assert not FollowUpRecord.objects.exists()
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED


def test_only_a_radiologist_records_the_visit(case: Any, actors: dict[str, Any]) -> None:
    with pytest.raises(NotPermitted):
        followup.record_visit(actors["nurse"], case, visit(), version=case.version)


def test_closing_is_refused_while_an_urgent_task_is_open(case: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(VISIT_DAY - timedelta(days=1)):
        diary.record_entry(PATIENT, case, diary_entry(chest_or_breathing="yes"))
    with time_machine.travel(VISIT_DAY):
        followup.record_visit(actors["radiologist"], case, visit(), version=case.version)
        case.refresh_from_db()
        with pytest.raises(GuardBlocked, match="urgent task is still open"):
            followup.close_case(actors["radiologist"], case, version=case.version)
        task = Task.objects.get(case=case, kind=TaskKind.DIARY_EMERGENCY)
        pathway.complete_task(actors["nurse"], task, "Called: patient in ED, PE ruled out")
        followup.close_case(actors["radiologist"], case, version=case.version)
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


def test_a_site_loads_its_own_questionnaire(actors: dict[str, Any], tmp_path: Any) -> None:
    definition = yes_no_instrument()
    stored, created = questionnaires.load(actors["manager"], definition)
    assert created and stored.scoring == "sum"
    assert questionnaires.load(actors["manager"], definition) == (stored, False)  # same again: nothing new
    changed = {**definition, "title": "Changed wording"}
    with pytest.raises(ValidationError, match="new version"):
        questionnaires.load(actors["manager"], changed)
    with pytest.raises(NotPermitted):
        questionnaires.load(actors["nurse"], {**definition, "version": "3"})
    path = tmp_path / "q.json"
    path.write_text(json.dumps({**definition, "version": "4"}))
    call_command("load-questionnaire", str(path))
    assert Questionnaire.objects.filter(version="4").exists()
    path.write_text('{"resourceType": "Questionnaire"}')
    with pytest.raises(SystemExit) as exit_info:
        call_command("load-questionnaire", str(path))
    assert exit_info.value.code == 2


def shapes_refused() -> list[tuple[bytes, str]]:
    good = yes_no_instrument()
    wrong_types = {**good, "url": 5, "item": "none"}
    wrong_item = {**good, "item": [{**good["item"][0], "extension": 5}]}
    wrong_option = {**good, "item": [{**good["item"][0], "linkId": 7}]}
    wrong_required = {**good, "item": [{**good["item"][0], "required": "yes"}]}
    return [
        ("Muñoz".encode("latin-1") + b'{"resourceType": "Questionnaire"}', "not UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "too deeply"),
        (json.dumps(wrong_types).encode(), "Questionnaire.url must be text"),
        (json.dumps(wrong_item).encode(), "Questionnaire.item[0].extension must be a list of objects"),
        (json.dumps(wrong_option).encode(), "Questionnaire.item[0].linkId must be text"),
        (json.dumps(wrong_required).encode(), "Questionnaire.item[0].required must be true or false"),
    ]


@pytest.mark.parametrize("raw,message", shapes_refused())
def test_a_questionnaire_file_that_cannot_be_used_is_one_line_and_status_2(
    tmp_path: Any, capsys: Any, raw: bytes, message: str
) -> None:
    """Files once refused with a traceback: not UTF-8, nested 10,000 levels deep, values of the wrong type."""
    path = tmp_path / "q.json"
    path.write_bytes(raw)
    with pytest.raises(SystemExit) as exit_info:
        call_command("load-questionnaire", str(path))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.count("\n") == 1
    assert (
        err.startswith("kyphos load-questionnaire: ")
        and not Questionnaire.objects.exclude(url__startswith="https://kyphos").exists()
    )
