"""The one builder: any stage through the real owners, each step at its own moment of the pathway."""

from datetime import timedelta
from typing import Any

import pytest

from kyphos.demo.builder import Journey
from kyphos.pathway.models import EventKind
from kyphos.pathway.stages import Stage
from tests.conftest import ARRIVAL, MONDAY, advance, case_at

pytestmark = pytest.mark.django_db


def test_a_case_walks_to_closed_with_every_move_on_its_timeline_at_its_moment(
    make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "closed")
    moves = {e.to_stage: e.at for e in case.events.filter(kind=EventKind.TRANSITION)}
    passed = {
        Stage.TRIAGED,
        Stage.SCHEDULED,
        Stage.PRECALL_DONE,
        Stage.ADMITTED,
        Stage.CLEARED,
        Stage.IN_PROCEDURE,
        Stage.RECOVERY,
        Stage.DISCHARGED,
        Stage.FOLLOWUP_DONE,
        Stage.CLOSED,
    }
    assert case.stage == Stage.CLOSED and set(moves) == passed
    assert moves[Stage.PRECALL_DONE] == MONDAY - timedelta(days=3)  # Friday 08:00, inside the call window
    assert moves[Stage.ADMITTED] == ARRIVAL and moves[Stage.IN_PROCEDURE] == MONDAY
    assert moves[Stage.DISCHARGED] == MONDAY + timedelta(hours=26)


def test_not_after_keeps_every_step_in_the_past(make_case: Any, actors: dict[str, Any]) -> None:
    now = MONDAY + timedelta(minutes=30)  # the demo's "now" while the procedure is running
    case = case_at(make_case, actors, "recovery", Journey(not_after=now))
    assert case.stage == Stage.RECOVERY
    assert max(e.at for e in case.events.all()) <= now


def test_the_builder_does_not_go_backwards_or_off_the_pathway(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "admitted")
    with pytest.raises(ValueError, match="cannot be taken"):
        advance(case, actors, "precall_done")
    with pytest.raises(ValueError, match="not on it"):
        advance(case, actors, "cancelled")
    assert case.stage == Stage.ADMITTED
