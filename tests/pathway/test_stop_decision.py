"""A stop finding gets one decision — proceed with a reason, postpone or cancel — taken on the case page (or from
the radiologist's task), recorded once, and carried to admission and the start of the procedure."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kyphos.demo.builder import ROUTINE_CALL, Journey
from kyphos.labs import services as labs
from kyphos.pathway import services
from kyphos.pathway.errors import GuardBlocked, NotPermitted
from kyphos.pathway.models import Event, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.stages import Stage
from kyphos.procedure import services as procedure
from tests.accounts import sign_in
from tests.conftest import MONDAY, advance, case_at
from tests.procedure.test_services import GOOD_ADMISSION

pytestmark = pytest.mark.django_db
FEVER = Journey(call={**ROUTINE_CALL, "fever_or_infection": True})


def flagged(make_case: Any, actors: dict[str, Any]) -> Any:
    """A signed call reported a fever: a stop on the case and a review task for the radiologist."""
    case = case_at(make_case, actors, "precall_done", FEVER)
    assert case.open_stops and Task.objects.filter(case=case, kind=TaskKind.REVIEW_FLAG, status="open").exists()
    return case


def test_proceed_is_recorded_once_and_carried_to_the_start(make_case: Any, actors: dict[str, Any]) -> None:
    case = flagged(make_case, actors)
    case = services.proceed_despite_stops(
        actors["radiologist"], case, version=case.version, reason="Afebrile today; infection excluded by the GP"
    )
    assert case.open_stops == 0 and [d["code"] for d in case.decided_stops] == ["history.fever_or_infection"]
    assert not Task.objects.filter(case=case, kind=TaskKind.REVIEW_FLAG, status=TaskStatus.OPEN).exists()
    case = advance(case, actors, "in_procedure", FEVER)  # admission and the start ask nothing again
    assert case.stage == Stage.IN_PROCEDURE
    overrides = Event.objects.filter(case=case, kind=EventKind.OVERRIDE)
    assert overrides.count() == 1 and "infection excluded" in overrides.get().reason


def test_a_stop_found_after_the_decision_still_stops(make_case: Any, actors: dict[str, Any]) -> None:
    case = flagged(make_case, actors)
    case = services.proceed_despite_stops(actors["radiologist"], case, version=case.version, reason="reviewed")
    case = advance(case, actors, "cleared", FEVER)
    with time_machine.travel(MONDAY - timedelta(minutes=5)):
        labs.record_lab(actors["ward_nurse"], case, "inr", value="2.4", taken_at=MONDAY - timedelta(minutes=30))
        with pytest.raises(GuardBlocked, match="INR"):
            procedure.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")


def test_only_a_radiologist_decides_and_a_reason_is_needed(make_case: Any, actors: dict[str, Any]) -> None:
    case = flagged(make_case, actors)
    with pytest.raises(NotPermitted):
        services.proceed_despite_stops(actors["nurse"], case, version=case.version, reason="fine")
    with pytest.raises(ValidationError, match="Say why"):
        services.proceed_despite_stops(actors["radiologist"], case, version=case.version, reason="  ")
    case.refresh_from_db()
    assert case.open_stops and not case.decided_stops


def test_nothing_to_decide_is_refused(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "precall_done")
    with pytest.raises(ValidationError, match="no open stop"):
        services.proceed_despite_stops(actors["radiologist"], case, version=case.version, reason="x")


def test_the_case_page_offers_proceed_postpone_and_cancel(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    case = flagged(make_case, actors)
    client = Client()
    sign_in(client, people["radiologist"])
    page = client.get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert 'id="decide"' in page and "history.fever_or_infection" in page
    assert "Postpone" in page and "Cancel the case" in page
    empty = client.post(reverse("case_action", args=[case.uuid, "proceed"]), {"version": case.version, "reason": ""})
    assert empty.status_code == 400
    done = client.post(
        reverse("case_action", args=[case.uuid, "proceed"]), {"version": case.version, "reason": "GP excluded it"}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.open_stops == 0
    nurse = Client()
    sign_in(nurse, people["nurse"])
    assert 'id="decide"' not in nurse.get(reverse("case_detail", args=[case.uuid])).content.decode()


def test_proceeding_when_the_patient_was_not_reached_carries_to_admission(
    make_case: Any, actors: dict[str, Any]
) -> None:
    """The escalation task says "postpone or proceed": proceeding with a reason lets admission go ahead without
    the call on record, without asking again."""
    from datetime import datetime

    from kyphos.precall import services as precall
    from tests.conftest import NEW_YORK

    case = make_case("scheduled", start=MONDAY)
    friday = datetime(2030, 1, 4, 7, 30, tzinfo=NEW_YORK)
    for hours in (0, 2, 4):
        with time_machine.travel(friday + timedelta(hours=hours)):
            precall.record_attempt(actors["nurse"], case, "no_answer")
    case.refresh_from_db()
    assert services.stops_to_decide(case) == ["admit.no_precall"]
    case = services.proceed_despite_stops(
        actors["radiologist"], case, version=case.version, reason="Spoke to the daughter; plan confirmed by the GP"
    )
    assert not case.tasks.filter(kind=TaskKind.CALL_ESCALATION, status=TaskStatus.OPEN).exists()
    with time_machine.travel(MONDAY - timedelta(hours=1)):
        procedure.admit(actors["ward_nurse"], case, version=case.version, data_in=GOOD_ADMISSION)
    case.refresh_from_db()
    assert case.stage == Stage.ADMITTED


def test_the_timeline_and_the_signature_name_the_person_and_their_role(make_case: Any, actors: dict[str, Any]) -> None:
    """People by name and role on the timeline (the full name, then "radiologist"), not user names."""
    user = actors["radiologist"].user
    user.first_name, user.last_name = "Rita", "Okafor"
    user.save()
    case = make_case("triaged")
    triage = case.events.filter(to_stage=Stage.TRIAGED).get()
    assert triage.actor_name == "Rita Okafor, radiologist"
