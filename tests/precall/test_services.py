"""The pre-procedure call through its services: attempts, the plan, findings, tasks, signing, the letter."""

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kyphos.messaging.letters import current_letter
from kyphos.pathway.errors import NotPermitted, StaleEdit
from kyphos.pathway.models import TaskKind, TaskStatus
from kyphos.pathway.stages import Stage
from kyphos.precall import services
from kyphos.precall.models import CallOutcome, CallStatus, PreCall
from kyphos.precall.services import AllergyInput, CallInput, MedicationInput
from tests.conftest import NEW_YORK

pytestmark = pytest.mark.django_db
MONDAY = datetime(2030, 1, 7, 8, tzinfo=NEW_YORK)  # a Monday; the call window is Friday 4 January
FRIDAY_MORNING = datetime(2030, 1, 4, 7, 30, tzinfo=NEW_YORK)  # before apixaban's 08:00 deadline (CrCl < 50)


def complete_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "identity_confirmed": True,
        "driver_status": "arranged",
        "driver_name": "Ana (daughter)",
        "imaging_status": "bringing",
        "imaging_mri": True,
        "imaging_cd": True,
        "imaging_source": "Mercy Imaging",
        "pregnancy_status": "not_applicable",
        "fasting_given": True,
        "arrival_confirmed": True,
        "no_known_allergies": True,
    }
    values.update(overrides)
    return values


@pytest.fixture
def booked(make_case: Any) -> Any:
    return make_case("scheduled", start=MONDAY)


def open_and_save(actors: dict[str, Any], case: Any, data: CallInput) -> PreCall:
    call = services.open_call(actors["nurse"], case)
    return services.save_call(actors["nurse"], call, version=call.version, data=data)


def test_apixaban_plan_with_reduced_kidney_function(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(
                complete_values(crcl=45),
                medications=[MedicationInput("Eliquis", "5 mg", "twice-daily", "af", "Dr Patel", "+1 555 0199")],
            ),
        )
    [med] = call.medications.all()
    assert med.name == "apixaban" and med.hold is True
    assert med.last_dose == MONDAY - timedelta(days=3)  # 6 doses at twice daily (SIR 2019, CrCl < 50)
    assert med.plan["verify"] is True and "SIR 2019" in med.plan["source"]
    codes = {f["code"] for f in call.findings}
    assert {"medicine.hold_to_agree", "medicine.thrombotic_risk"} <= codes


def test_signing_opens_the_tasks_and_moves_the_case(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(
                complete_values(crcl=45, driver_status="not_arranged", driver_name="", no_known_allergies=False),
                medications=[
                    MedicationInput("apixaban", "5 mg", "twice-daily", "af", "Dr Patel", "+1 555 0199"),
                    MedicationInput("oxycodone", "5 mg", "four-times-daily"),
                ],
                allergies=[AllergyInput("latex", "Latex gloves", "rash", "mild")],
            ),
        )
        call = services.sign_call(actors["nurse"], call, version=call.version)
    booked.refresh_from_db()
    assert booked.stage == Stage.PRECALL_DONE and call.status == CallStatus.SIGNED
    assert call.outcome == CallOutcome.CLEARED_WITH_CAUTIONS
    open_kinds = set(booked.tasks.filter(status=TaskStatus.OPEN).values_list("kind", flat=True))
    assert open_kinds == {TaskKind.CONTACT_PRESCRIBER, TaskKind.ARRANGE_TRANSPORT}
    prescriber = booked.tasks.get(kind=TaskKind.CONTACT_PRESCRIBER)
    assert "Dr Patel" in prescriber.note and "apixaban" in prescriber.note
    assert booked.tasks.get(kind=TaskKind.PRECALL).status == TaskStatus.DONE
    assert booked.patient.allergies.get().substance == "Latex gloves"
    assert {"allergy.latex", "logistics.no_driver", "medicine.opioid"} <= {f["code"] for f in booked.findings}
    letter = current_letter(booked, "pre_procedure")
    assert letter is not None and bytes(letter.pdf).startswith(b"%PDF")
    assert "apixaban" in letter.html and "Friday 4 January" in letter.html


def test_agreeing_the_plan_closes_the_prescriber_task(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(
                complete_values(crcl=80),
                medications=[MedicationInput("warfarin", "5 mg", "once-daily", "mechanical_valve", "Dr Lee")],
            ),
        )
        services.sign_call(actors["nurse"], call, version=call.version)
        task = booked.tasks.get(kind=TaskKind.CONTACT_PRESCRIBER)
        med = services.agree_medication_plan(actors["nurse"], task, "Dr Lee agrees; no bridging")
    task.refresh_from_db()
    assert med.agreed and task.status == TaskStatus.DONE
    with pytest.raises(ValidationError):
        services.agree_medication_plan(actors["nurse"], task)


def test_a_stop_finding_needs_radiologist_review(booked: Any, actors: dict[str, Any]) -> None:
    booked.patient.sex = "F"
    booked.patient.date_of_birth = booked.patient.date_of_birth.replace(year=1990)
    booked.patient.save()
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(actors, booked, CallInput(complete_values(pregnancy_status="possibly_pregnant")))
        call = services.sign_call(actors["nurse"], call, version=call.version)
    booked.refresh_from_db()
    assert call.outcome == CallOutcome.NEEDS_REVIEW and booked.open_stops == 1
    kinds = set(booked.tasks.filter(status=TaskStatus.OPEN).values_list("kind", flat=True))
    assert {TaskKind.REVIEW_FLAG, TaskKind.HCG_TEST} <= kinds


@pytest.mark.parametrize(
    "values,message",
    [
        ({"identity_confirmed": False}, "name and date of birth"),
        ({"driver_status": ""}, "driver"),
        ({"fasting_given": False}, "fasting"),
        ({"no_known_allergies": False}, "allergies"),
    ],
)
def test_an_incomplete_call_cannot_be_signed(
    booked: Any, actors: dict[str, Any], values: dict[str, Any], message: str
) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(actors, booked, CallInput(complete_values(**values)))
        with pytest.raises(ValidationError, match=message):
            services.sign_call(actors["nurse"], call, version=call.version)
    booked.refresh_from_db()
    assert booked.stage == Stage.SCHEDULED


def test_a_call_signed_twice_is_refused(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(actors, booked, CallInput(complete_values()))
        signed = services.sign_call(actors["nurse"], call, version=call.version)
        with pytest.raises(ValidationError, match="already signed"):
            services.sign_call(actors["nurse"], call, version=signed.version)
    assert booked.letters.count() == 1


@pytest.mark.parametrize("crcl", [-3, 0, 900])
def test_impossible_clearance_changes_nothing(booked: Any, actors: dict[str, Any], crcl: int) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = services.open_call(actors["nurse"], booked)
        with pytest.raises(ValidationError, match="not possible"):
            services.save_call(actors["nurse"], call, version=call.version, data=CallInput(complete_values(crcl=crcl)))
    call.refresh_from_db()
    assert call.version == 1 and call.crcl is None


@pytest.mark.parametrize("dose", ["0 mg", "-5 mg", "99999 mg", "lots"])
def test_impossible_doses_change_nothing(booked: Any, actors: dict[str, Any], dose: str) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = services.open_call(actors["nurse"], booked)
        with pytest.raises(ValidationError):
            services.save_call(
                actors["nurse"],
                call,
                version=call.version,
                data=CallInput(complete_values(), medications=[MedicationInput("apixaban", dose, "twice-daily")]),
            )
    assert not call.medications.exists()


def test_a_stale_save_is_refused(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = services.open_call(actors["nurse"], booked)
        services.save_call(actors["nurse"], call, version=call.version, data=CallInput(complete_values(crcl=60)))
        with pytest.raises(StaleEdit):
            services.save_call(actors["nurse"], call, version=call.version, data=CallInput(complete_values(crcl=30)))
    call.refresh_from_db()
    assert call.crcl == 60


def test_a_second_nurse_cannot_take_the_call(booked: Any, actors: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group, User

    from kyphos.audit.actor import Actor

    other = User.objects.create_user("t_nurse2", password="x")
    other.groups.add(Group.objects.get(name="nurse"))
    with time_machine.travel(FRIDAY_MORNING):
        services.open_call(actors["nurse"], booked)
        with pytest.raises(ValidationError, match="already taken by t_nurse"):
            services.open_call(Actor(other), booked)


def test_only_nurses_make_the_call(booked: Any, actors: dict[str, Any]) -> None:
    for who in ("scheduler", "radiologist", "ward_nurse", "outsider"):
        with pytest.raises(NotPermitted):
            services.open_call(actors[who], booked)


def test_unanswered_attempts_reschedule_then_escalate(booked: Any, actors: dict[str, Any]) -> None:
    task = booked.tasks.get(kind=TaskKind.PRECALL)
    with time_machine.travel(FRIDAY_MORNING):
        services.record_attempt(actors["nurse"], booked, "no_answer")
    task.refresh_from_db()
    assert task.due_start == FRIDAY_MORNING + timedelta(hours=2) and "Attempt 1" in task.note
    with time_machine.travel(FRIDAY_MORNING + timedelta(hours=2)):
        services.record_attempt(actors["nurse"], booked, "voicemail")
    with time_machine.travel(FRIDAY_MORNING + timedelta(hours=4)):
        services.record_attempt(actors["nurse"], booked, "no_answer")
    escalation = booked.tasks.get(kind=TaskKind.CALL_ESCALATION)
    assert escalation.role == "radiologist" and "3 call attempts" in escalation.note


def test_a_retry_past_the_window_escalates_at_once(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(datetime(2030, 1, 4, 16, tzinfo=NEW_YORK)):  # window closes at 17:00
        services.record_attempt(actors["nurse"], booked, "no_answer")
    assert booked.tasks.filter(kind=TaskKind.CALL_ESCALATION).exists()


def test_call_back_at_a_time(booked: Any, actors: dict[str, Any]) -> None:
    task = booked.tasks.get(kind=TaskKind.PRECALL)
    with time_machine.travel(FRIDAY_MORNING):
        with pytest.raises(ValidationError):
            services.record_attempt(actors["nurse"], booked, "call_back")
        services.record_attempt(
            actors["nurse"], booked, "call_back", call_back_at=datetime(2030, 1, 4, 15, 30, tzinfo=NEW_YORK)
        )
    task.refresh_from_db()
    assert task.due_start == datetime(2030, 1, 4, 15, 30, tzinfo=NEW_YORK)


def test_the_spanish_letter(booked: Any, actors: dict[str, Any]) -> None:
    booked.patient.preferred_language = "es"
    booked.patient.save()
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(
                complete_values(crcl=45),
                medications=[MedicationInput("apixaban", "5 mg", "twice-daily", "af", "Dr Patel")],
            ),
        )
        services.sign_call(actors["nurse"], call, version=call.version)
    letter = current_letter(booked, "pre_procedure")
    assert letter.language == "es"
    assert "lunes 7 de enero de 2030" in letter.html
    assert "tome la última dosis el viernes 4 de enero por la mañana" in letter.html
    assert "No la tome el sábado, domingo ni lunes" in letter.html


def _warfarin_call(actors: dict[str, Any], case: Any, last_taken: datetime | None) -> PreCall:
    return open_and_save(
        actors,
        case,
        CallInput(
            complete_values(),
            medications=[MedicationInput("warfarin", "5 mg", "once-daily", "af", "Dr Lee", last_taken=last_taken)],
        ),
    )


def test_a_dose_taken_after_the_deadline_stops_for_review(booked: Any, actors: dict[str, Any]) -> None:
    # Warfarin: last safe dose Wednesday 08:00 (5 days); the patient took it Thursday evening.
    with time_machine.travel(FRIDAY_MORNING):
        call = _warfarin_call(actors, booked, datetime(2030, 1, 3, 20, tzinfo=NEW_YORK))
        assert "medicine.taken_too_late" in {f["code"] for f in call.findings}
        call = services.sign_call(actors["nurse"], call, version=call.version)
    assert call.outcome == CallOutcome.NEEDS_REVIEW
    assert booked.tasks.filter(kind=TaskKind.REVIEW_FLAG, status=TaskStatus.OPEN).exists()


def test_a_passed_deadline_asks_when_the_dose_was_taken(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = _warfarin_call(actors, booked, None)
    assert "medicine.ask_last_taken" in {f["code"] for f in call.findings}


def test_stopped_in_time_and_the_letter_says_take_no_more(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING):
        call = _warfarin_call(actors, booked, datetime(2030, 1, 1, 20, tzinfo=NEW_YORK))
        codes = {f["code"] for f in call.findings}
        assert "medicine.taken_too_late" not in codes and "medicine.ask_last_taken" not in codes
        services.sign_call(actors["nurse"], call, version=call.version)
    html = current_letter(booked, "pre_procedure").html
    assert "warfarin: do not take any more before the procedure." in html


def test_a_last_dose_in_the_future_is_refused(booked: Any, actors: dict[str, Any]) -> None:
    with time_machine.travel(FRIDAY_MORNING), pytest.raises(ValidationError, match="future"):
        _warfarin_call(actors, booked, datetime(2030, 1, 5, 8, tzinfo=NEW_YORK))


@pytest.mark.parametrize("indication", ["", "other"])
def test_aspirin_without_its_reason_cannot_be_signed_asra_primary_vs_secondary_prevention(
    booked: Any, actors: dict[str, Any], indication: str
) -> None:
    """ASRA 2018: aspirin for primary prevention is held 6 days; for secondary prevention it is not routinely
    stopped (shared decision). Left blank or "other", the plan would fall back to primary prevention: the call
    asks for the reason before it can be signed, and nothing moves."""
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(complete_values(), medications=[MedicationInput("aspirin", "81 mg", "once-daily", indication)]),
        )
        with pytest.raises(ValidationError, match="aspirin: say what it is taken for"):
            services.sign_call(actors["nurse"], call, version=call.version)
    booked.refresh_from_db()
    assert booked.stage == Stage.SCHEDULED


def test_aspirin_for_secondary_prevention_is_planned_as_such(booked: Any, actors: dict[str, Any]) -> None:
    booked.site.anticoagulant_guideline = "strictest"
    booked.site.save()
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(
            actors,
            booked,
            CallInput(
                complete_values(),
                medications=[MedicationInput("aspirin", "81 mg", "once-daily", "secondary_prevention", "Dr Chen")],
            ),
        )
        services.sign_call(actors["nurse"], call, version=call.version)
    [med] = call.medications.all()
    assert med.plan["intent"] == "therapeutic"
    assert any(note.startswith("ASRA 2018:") and "shared decision" in note for note in med.plan["notes"])
