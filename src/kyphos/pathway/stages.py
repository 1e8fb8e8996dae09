"""Stages of a case and the table of allowed moves between them (checked in one function)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.errors import Refused
from kyphos.translation import Words


class Stage(models.TextChoices):
    REFERRED = "referred", _("Referred")
    TRIAGED = "triaged", _("Triaged – eligible")
    SCHEDULED = "scheduled", _("Scheduled")
    PRECALL_DONE = "precall_done", _("Pre-call done")
    ADMITTED = "admitted", _("Admitted")
    CLEARED = "cleared", _("Cleared for procedure")
    IN_PROCEDURE = "in_procedure", _("In procedure")
    RECOVERY = "recovery", _("Recovery")
    DISCHARGED = "discharged", _("Discharged")
    FOLLOWUP_DONE = "followup_done", _("Follow-up done")
    CLOSED = "closed", _("Closed")
    POSTPONED = "postponed", _("Postponed")
    CANCELLED = "cancelled", _("Cancelled")


TERMINAL = frozenset({Stage.CLOSED, Stage.CANCELLED})
# Stages in which the case holds a booking.
BOOKED_STAGES = frozenset({Stage.SCHEDULED, Stage.PRECALL_DONE, Stage.ADMITTED, Stage.CLEARED})


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[Stage]
    target: Stage
    permission: str
    label: Words
    # The one public service that performs this move ("module:function"). pathway.kernel.move() refuses the
    # move anywhere else, and the owner is the function an adapter (web, HL7, FHIR) calls.
    owner: str


def _move(action: str, sources: set[Stage], target: Stage, label: Words, owner: str) -> Move:
    return Move(action, frozenset(sources), target, f"case.{action}", label, owner)


ACTIVE = set(Stage) - TERMINAL
PATHWAY = "kyphos.pathway.services"
PRECALL = "kyphos.precall.services"
PROCEDURE = "kyphos.procedure.services"
AFTERCARE = "kyphos.aftercare.services"
FOLLOW_UP = "kyphos.aftercare.followup"
# The transition table: every move, where it may start, where it ends, and the one service that owns it.
# tests/pathway/test_moves.py walks every row through its owner and proves that no other path moves a case.
MOVES: dict[str, Move] = {
    m.action: m
    for m in [
        _move("triage", {Stage.REFERRED}, Stage.TRIAGED, _("Triage: eligible"), f"{PATHWAY}:triage_case"),
        _move("decline", {Stage.REFERRED}, Stage.CLOSED, _("Triage: not eligible"), f"{PATHWAY}:decline_case"),
        _move(
            "book",
            {Stage.TRIAGED, Stage.POSTPONED},
            Stage.SCHEDULED,
            _("Book the procedure"),
            f"{PATHWAY}:book_case",
        ),
        _move(
            "reschedule",
            {Stage.SCHEDULED, Stage.PRECALL_DONE},
            Stage.SCHEDULED,
            _("Reschedule"),
            f"{PATHWAY}:reschedule_case",
        ),
        _move(
            "complete_precall",
            {Stage.SCHEDULED},
            Stage.PRECALL_DONE,
            _("Pre-procedure call done"),
            f"{PRECALL}:sign_call",
        ),
        _move("admit", {Stage.PRECALL_DONE, Stage.SCHEDULED}, Stage.ADMITTED, _("Admit"), f"{PROCEDURE}:admit"),
        # Anesthesia's sign-in (the first part of the safety checklist) is what clears the case.
        _move("clear", {Stage.ADMITTED}, Stage.CLEARED, _("Clear for procedure"), f"{PROCEDURE}:sign_checklist"),
        _move(
            "start_procedure",
            {Stage.CLEARED},
            Stage.IN_PROCEDURE,
            _("Start procedure"),
            f"{PROCEDURE}:start_procedure",
        ),
        _move(
            "end_procedure",
            {Stage.IN_PROCEDURE},
            Stage.RECOVERY,
            _("End procedure, to recovery"),
            f"{PROCEDURE}:end_procedure",
        ),
        _move("discharge", {Stage.RECOVERY}, Stage.DISCHARGED, _("Discharge"), f"{AFTERCARE}:discharge"),
        _move(
            "complete_followup",
            {Stage.DISCHARGED},
            Stage.FOLLOWUP_DONE,
            _("Follow-up visit done"),
            f"{FOLLOW_UP}:record_visit",
        ),
        _move("close", {Stage.FOLLOWUP_DONE}, Stage.CLOSED, _("Close the case"), f"{FOLLOW_UP}:close_case"),
        _move("postpone", set(BOOKED_STAGES), Stage.POSTPONED, _("Postpone"), f"{PATHWAY}:postpone_case"),
        _move(
            "cancel",
            ACTIVE - {Stage.IN_PROCEDURE, Stage.RECOVERY},
            Stage.CANCELLED,
            _("Cancel the case"),
            f"{PATHWAY}:cancel_case",
        ),
    ]
}


class TransitionError(Refused, ValueError):
    """A move that the transition table does not allow from the case's current stage."""


def check_move(stage: str, action: str) -> Move:
    """Return the move if ``action`` is allowed from ``stage``; raise TransitionError otherwise."""
    move = MOVES.get(action)
    if move is None:
        raise TransitionError(format_lazy(_("Unknown action {action!r}."), action=action))
    current = Stage(stage)
    if current not in move.sources:
        raise TransitionError(
            format_lazy(
                _("“{move}” is not possible while the case is {current}."),
                move=move.label,
                current=current.label.lower(),
            )
        )
    return move


def moves_from(stage: str) -> list[Move]:
    current = Stage(stage)
    return [m for m in MOVES.values() if current in m.sources]


class CancelReason(models.TextChoices):
    PATIENT_DECLINED = "patient_declined", _("Patient declined the procedure")
    PAIN_RESOLVED = "pain_resolved", _("Pain resolved with conservative care")
    NOT_ELIGIBLE = "not_eligible", _("Found not eligible")
    MEDICALLY_UNFIT = "medically_unfit", _("Medically unfit for the procedure")
    TREATED_ELSEWHERE = "treated_elsewhere", _("Treated elsewhere")
    DUPLICATE = "duplicate", _("Duplicate referral")
    DECEASED = "deceased", _("Patient deceased")
    OTHER = "other", _("Other (see note)")


class PostponeReason(models.TextChoices):
    ANTICOAGULATION = "anticoagulation", _("Blood thinner not stopped in time")
    LABS = "labs", _("Clotting labs out of range")
    ILLNESS = "illness", _("Patient unwell (infection, fever)")
    NO_DRIVER = "no_driver", _("No driver or transport")
    NOT_REACHED = "not_reached", _("Patient not reached before the procedure")
    PATIENT_REQUEST = "patient_request", _("Patient asked to move the date")
    EQUIPMENT = "equipment", _("Room, equipment or staff not available")
    NO_SHOW = "no_show", _("Patient did not come")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled in the hospital's scheduling system")
    OTHER = "other", _("Other (see note)")
