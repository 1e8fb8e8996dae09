"""The transition table names one owner for every stage move, and no other path can perform it.

An adapter (web page, HL7 feed, FHIR operation) reads ``MOVES[action].owner`` to know which service to call;
these tests prove the table and the code agree, and that the shared move core refuses every other caller.
"""

import importlib
from typing import Any

import pytest

from kyphos.audit.models import AuditEntry
from kyphos.pathway import kernel
from kyphos.pathway.stages import MOVES, Stage

pytestmark = pytest.mark.django_db


def resolve(owner: str) -> Any:
    module_name, function_name = owner.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def test_every_move_names_one_public_owner_that_claims_it() -> None:
    claimed: dict[str, str] = {}
    for action, row in MOVES.items():
        module_name, function_name = row.owner.split(":")
        assert module_name.startswith("kyphos.") and not function_name.startswith("_"), row.owner
        owner = resolve(row.owner)
        assert action in owner.__kyphos_moves__, f"{row.owner} does not claim {action!r}"
        claimed[action] = row.owner
    # Stage rooms own their stage's moves; the pathway room owns only the scheduling-desk moves.
    assert claimed["complete_precall"].startswith("kyphos.precall.")
    assert claimed["admit"].startswith("kyphos.procedure.") and claimed["end_procedure"].startswith("kyphos.procedure.")
    assert claimed["discharge"].startswith("kyphos.aftercare.") and claimed["close"].startswith("kyphos.aftercare.")


@pytest.mark.parametrize("stage", ["referred", "scheduled"])
@pytest.mark.parametrize("action", sorted(MOVES))
def test_a_move_outside_its_owner_is_refused_and_writes_nothing(
    make_case: Any, actors: dict[str, Any], stage: str, action: str
) -> None:
    case = make_case(stage)
    events, audits = case.events.count(), AuditEntry.objects.count()
    with pytest.raises(kernel.MoveOwnerError, match=MOVES[action].owner):
        kernel.move(actors["admin"], case, action, version=case.version, override_reason="testing a second path")
    case.refresh_from_db()
    assert case.stage == Stage(stage) and case.events.count() == events and AuditEntry.objects.count() == audits


def test_a_function_cannot_claim_a_move_it_does_not_own() -> None:
    def admit(*args: Any) -> None:
        """A second admission path, as an adapter author might write it."""

    with pytest.raises(kernel.MoveOwnerError, match="kyphos.procedure.services:admit"):
        kernel.owns("admit")(admit)
    with pytest.raises(kernel.MoveOwnerError, match="unknown move"):
        kernel.owns("teleport")(admit)
