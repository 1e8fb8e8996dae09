"""Stages of a case and the table of allowed moves between them (checked in one function)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Stage(models.TextChoices):
    REFERRED = "referred", "Referred"
    TRIAGED = "triaged", "Triaged – eligible"
    SCHEDULED = "scheduled", "Scheduled"
    PRECALL_DONE = "precall_done", "Pre-call done"
    ADMITTED = "admitted", "Admitted"
    CLEARED = "cleared", "Cleared for procedure"
    IN_PROCEDURE = "in_procedure", "In procedure"
    RECOVERY = "recovery", "Recovery"
    DISCHARGED = "discharged", "Discharged"
    FOLLOWUP_DONE = "followup_done", "Follow-up done"
    CLOSED = "closed", "Closed"
    POSTPONED = "postponed", "Postponed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = frozenset({Stage.CLOSED, Stage.CANCELLED})
# Stages in which the case holds a booking.
BOOKED_STAGES = frozenset({Stage.SCHEDULED, Stage.PRECALL_DONE, Stage.ADMITTED, Stage.CLEARED})


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[Stage]
    target: Stage
    permission: str
    label: str


def _move(action: str, sources: set[Stage], target: Stage, label: str) -> Move:
    return Move(action, frozenset(sources), target, f"case.{action}", label)


ACTIVE = set(Stage) - TERMINAL
# The transition table. Each row is served by one function of pathway.services with the same name.
MOVES: dict[str, Move] = {
    m.action: m
    for m in [
        _move("triage", {Stage.REFERRED}, Stage.TRIAGED, "Triage: eligible"),
        _move("decline", {Stage.REFERRED}, Stage.CLOSED, "Triage: not eligible"),
        _move("book", {Stage.TRIAGED, Stage.POSTPONED}, Stage.SCHEDULED, "Book the procedure"),
        _move("reschedule", {Stage.SCHEDULED, Stage.PRECALL_DONE}, Stage.SCHEDULED, "Reschedule"),
        _move("complete_precall", {Stage.SCHEDULED}, Stage.PRECALL_DONE, "Pre-procedure call done"),
        _move("admit", {Stage.PRECALL_DONE, Stage.SCHEDULED}, Stage.ADMITTED, "Admit"),
        _move("clear", {Stage.ADMITTED}, Stage.CLEARED, "Clear for procedure"),
        _move("start_procedure", {Stage.CLEARED}, Stage.IN_PROCEDURE, "Start procedure"),
        _move("end_procedure", {Stage.IN_PROCEDURE}, Stage.RECOVERY, "End procedure, to recovery"),
        _move("discharge", {Stage.RECOVERY}, Stage.DISCHARGED, "Discharge"),
        _move("complete_followup", {Stage.DISCHARGED}, Stage.FOLLOWUP_DONE, "Follow-up visit done"),
        _move("close", {Stage.FOLLOWUP_DONE}, Stage.CLOSED, "Close the case"),
        _move("postpone", set(BOOKED_STAGES), Stage.POSTPONED, "Postpone"),
        _move("cancel", ACTIVE - {Stage.IN_PROCEDURE, Stage.RECOVERY}, Stage.CANCELLED, "Cancel the case"),
    ]
}


class TransitionError(ValueError):
    """A move that the transition table does not allow from the case's current stage."""


def check_move(stage: str, action: str) -> Move:
    """Return the move if ``action`` is allowed from ``stage``; raise TransitionError otherwise."""
    move = MOVES.get(action)
    if move is None:
        raise TransitionError(f"Unknown action {action!r}.")
    current = Stage(stage)
    if current not in move.sources:
        raise TransitionError(f"“{move.label}” is not possible while the case is {current.label.lower()}.")
    return move


def moves_from(stage: str) -> list[Move]:
    current = Stage(stage)
    return [m for m in MOVES.values() if current in m.sources]


class CancelReason(models.TextChoices):
    PATIENT_DECLINED = "patient_declined", "Patient declined the procedure"
    PAIN_RESOLVED = "pain_resolved", "Pain resolved with conservative care"
    NOT_ELIGIBLE = "not_eligible", "Found not eligible"
    MEDICALLY_UNFIT = "medically_unfit", "Medically unfit for the procedure"
    TREATED_ELSEWHERE = "treated_elsewhere", "Treated elsewhere"
    DUPLICATE = "duplicate", "Duplicate referral"
    DECEASED = "deceased", "Patient deceased"
    OTHER = "other", "Other (see note)"


class PostponeReason(models.TextChoices):
    ANTICOAGULATION = "anticoagulation", "Blood thinner not stopped in time"
    LABS = "labs", "Clotting labs out of range"
    ILLNESS = "illness", "Patient unwell (infection, fever)"
    NO_DRIVER = "no_driver", "No driver or transport"
    NOT_REACHED = "not_reached", "Patient not reached before the procedure"
    PATIENT_REQUEST = "patient_request", "Patient asked to move the date"
    EQUIPMENT = "equipment", "Room, equipment or staff not available"
    OTHER = "other", "Other (see note)"
