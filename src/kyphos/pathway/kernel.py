"""The small public kernel that every stage room builds its services on.

A stage room (precall, procedure, aftercare) owns the moves the transition table gives it
(``pathway.stages.MOVES``); it marks its service with ``@owns(action)`` and, inside it, calls:

- ``lock_case(case, version)``: lock the case row for this transaction and refuse a stale version;
- ``move(actor, case, action, ...)``: the shared core of a stage move (permission, table, guard, write, event,
  audit); refused outside the owner of ``action``, so no second path can move a case;
- ``record_event(actor, case, kind, summary, ...)``: a line on the case's timeline;
- ``open_task(...)``, ``close_task(...)``, ``close_tasks(...)``: work for people; every closing writes its event;
- ``raise_findings(actor, case, findings)``: findings found after the move (a worse neuro check) onto the banner.

Nothing here opens its own transaction: the caller's service is the transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.pathway.errors import GuardBlocked, NotPermitted, StaleEdit
from kyphos.pathway.models import Case, Event, EventKind, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, may, roles_of
from kyphos.pathway.stages import MOVES, Stage, check_move
from kyphos.rules.findings import Finding, Severity

P = ParamSpec("P")
R = TypeVar("R")

# The moves whose owner is running in this context (nested owners add theirs).
_owning: ContextVar[frozenset[str]] = ContextVar("kyphos_owning_moves", default=frozenset())


class MoveOwnerError(RuntimeError):
    """A programming error: a move was attempted outside the service the transition table names for it."""


def owner_name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}:{function.__qualname__}"


def owns(*actions: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark the one service that performs ``actions``; only inside it may ``move()`` perform them."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        name = owner_name(function)
        for action in actions:
            if action not in MOVES:
                raise MoveOwnerError(
                    format_lazy(_("{name} claims the unknown move {action!r}."), name=name, action=action)
                )
            if MOVES[action].owner != name:
                raise MoveOwnerError(
                    format_lazy(
                        _("{name} claims {action!r}, which belongs to {owner}."),
                        name=name,
                        action=action,
                        owner=MOVES[action].owner,
                    )
                )

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _owning.set(_owning.get() | frozenset(actions))
            try:
                return function(*args, **kwargs)
            finally:
                _owning.reset(token)

        run.__kyphos_moves__ = frozenset(actions)  # type: ignore[attr-defined]
        return run

    return decorate


def require(actor: Actor, permission: str) -> None:
    """Refuse a person whose roles lack ``permission``; system actors (demo, feeds) act for the service."""
    if actor.user is None:
        return
    if not may(actor.user, permission):
        raise NotPermitted(format_lazy(_("Your role does not allow this ({permission})."), permission=permission))


def lock_case(case: Case, version: int | None) -> Case:
    """Lock the case row for this transaction; refuse when it is no longer the version the user saw.

    Every row lock Kyphos takes is ``FOR NO KEY UPDATE`` (``no_key=True``; a primary key never changes): it keeps
    two writers of one case apart, yet lets another transaction insert a row that refers to the case (an event, a
    lab result, a diary entry), whose foreign-key check takes ``FOR KEY SHARE`` at its commit. With ``FOR UPDATE``
    that check waited for the case's writer while holding the audit chain's lock, which the writer then waited for:
    a deadlock (seen in ``make scale-test`` with patients writing diaries while lab results came in)."""
    locked = (
        Case.objects.select_for_update(no_key=True, of=("self",))
        .select_related("patient", "site", "appointment")
        .get(pk=case.pk)
    )
    if version is not None and locked.version != version:
        last = locked.events.order_by("-at", "-id").first()
        raise StaleEdit(last.actor_name if last else "")
    return locked


def signature(actor: Actor) -> str:
    """How a person is named on the timeline and in signatures: the full name, then the role ("Rita Okafor,
    radiologist"); a system or a patient's link by its own name. The audit trail keeps the user name."""
    user = actor.user_or_none
    if user is None:
        return actor.name
    return person(user)


def person(user: Any) -> str:
    """A user as people read them: "Rita Okafor, radiologist" (the user name only when no name is set)."""
    if user is None:
        return ""
    name = user.get_full_name() or user.get_username()
    roles = sorted(roles_of(user), key=lambda role: list(Role).index(role))
    return f"{name}, {str(roles[0].label).lower()}" if roles else name


def record_override(
    actor: Actor, case: Case, summary: str, reason: str, detail: str, data: dict[str, Any] | None = None
) -> Event:
    """A decision to go on despite what the pathway questions (a stop, a booking warning, an early discharge): one
    timeline line with the reason, and its audit entry."""
    event = record_event(actor, case, EventKind.OVERRIDE, summary, reason=reason.strip(), data=data)
    audit.record(actor, AuditAction.OVERRIDE, "case", case.uuid, patient_uuid=case.patient.uuid, detail=detail)
    return event


def record_event(
    actor: Actor,
    case: Case,
    kind: EventKind,
    summary: str,
    *,
    from_stage: str = "",
    to_stage: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one line to the case's timeline (who, when, what, why)."""
    event = Event(
        case=case,
        at=clock.current(),
        actor=actor.user_or_none,
        actor_name=signature(actor)[:150],
        kind=kind,
        from_stage=from_stage,
        to_stage=to_stage,
        summary=summary[:300],
        reason=reason,
        data=data or {},
    )
    event.save()
    return event


def record_events(actor: Actor, case: Case, kind: EventKind, summaries: list[str]) -> list[Event]:
    """Several timeline lines at one moment (the results of one lab message), written in one statement."""
    at, name = clock.current(), signature(actor)[:150]
    return Event.objects.bulk_create(
        Event(case=case, at=at, actor=actor.user_or_none, actor_name=name, kind=kind, summary=s[:300], data={})
        for s in summaries
    )


def save_case(case: Case, *fields: str) -> None:
    """Save ``fields`` of a locked case and bump its version, so other open forms become stale."""
    case.version += 1
    case.updated_at = clock.current()
    case.save(update_fields=[*fields, "version", "updated_at"])


def findings_json(
    findings: list[Finding], overridden: bool = False, decided: AbstractSet[str] = frozenset()
) -> list[dict[str, Any]]:
    out = []
    for finding in findings:
        item = finding.as_dict()
        if finding.severity is Severity.STOP and (overridden or finding.code in decided):
            item["overridden"] = True
        out.append(item)
    return out


def raise_findings(actor: Actor, case: Case, findings: list[Finding], summary: str, reason: str = "") -> None:
    """Add findings found between moves to the case's banner, with a timeline line."""
    case.findings = [*case.findings, *findings_json(findings)]
    case.open_stops = case.open_stops + sum(1 for f in findings if f.severity is Severity.STOP)
    save_case(case, "findings", "open_stops")
    record_event(actor, case, EventKind.NOTE, summary, reason=reason, data={"findings": [f.code for f in findings]})


def decided_codes(case: Case) -> set[str]:
    """The stop findings a radiologist already decided to proceed despite (recorded once, carried to later moves)."""
    return {str(d["code"]) for d in case.decided_stops}


def _enforce(
    actor: Actor, findings: list[Finding], override_reason: str, decided: AbstractSet[str] = frozenset()
) -> bool:
    """Raise GuardBlocked on a stop neither decided before nor overridden now; True when one is overridden now."""
    stops = [f for f in findings if f.severity is Severity.STOP and f.code not in decided]
    if not stops:
        return False
    if not override_reason.strip():
        raise GuardBlocked(
            findings,
            format_lazy(
                _("A stop finding blocks this step: {findings}"), findings="; ".join(str(f.message) for f in stops)
            ),
        )
    if actor.user is not None and not may(actor.user, "finding.override"):
        raise GuardBlocked(findings, _("Only a radiologist may override a stop finding."))
    return True


def move(
    actor: Actor,
    case: Case,
    action: str,
    *,
    version: int | None,
    findings: list[Finding] | None = None,
    override_reason: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    summary: str = "",
    already_locked: bool = False,
) -> tuple[Case, Event]:
    """Move the case by ``action``: permission, table, version, guard, write, timeline event and audit entry.

    Only the move's owner (``MOVES[action].owner``) may call this; ``already_locked`` says the owner has just
    locked the case with ``lock_case`` in this transaction (and checked the version there).
    """
    if action not in _owning.get():
        owner = MOVES[action].owner if action in MOVES else "nobody"
        raise MoveOwnerError(
            format_lazy(_("The move {action!r} belongs to {owner}; call that service."), action=action, owner=owner)
        )
    require(actor, f"case.{action}")
    locked = case if already_locked else lock_case(case, version)
    table_row = check_move(locked.stage, action)
    findings = findings or []
    decided = decided_codes(locked)
    overridden = _enforce(actor, findings, override_reason, decided)
    from_stage = locked.stage
    locked.stage = table_row.target
    locked.stage_changed_at = clock.current()
    locked.findings = findings_json(findings, overridden, decided)
    locked.open_stops = 0
    save_case(locked, "stage", "stage_changed_at", "findings", "open_stops")
    payload = dict(data or {})
    if findings:
        payload["findings"] = [f.code for f in findings]
    event = record_event(
        actor,
        locked,
        EventKind.TRANSITION,
        summary or f"{Stage(from_stage).label} → {table_row.target.label}",
        from_stage=from_stage,
        to_stage=table_row.target,
        reason=reason,
        data=payload,
    )
    if overridden:  # a decision taken now, at the move (one taken before was recorded then)
        record_override(
            actor,
            locked,
            gettext("Stop finding overridden: {codes}").format(
                codes=", ".join(f.code for f in findings if f.severity is Severity.STOP)
            ),
            override_reason,
            f"override on {action}",
        )
    audit.record(
        actor,
        AuditAction.TRANSITION,
        "case",
        locked.uuid,
        patient_uuid=locked.patient.uuid,
        detail=f"{from_stage} -> {table_row.target}",
    )
    return locked, event


def open_task(
    case: Case,
    kind: TaskKind,
    role: Role,
    start: datetime,
    end: datetime,
    note: str = "",
    *,
    urgent: bool = False,
) -> Task:
    """Open work for ``role`` due between ``start`` and ``end``."""
    appointment_start = case.appointment.start if case.appointment_id and case.appointment else None
    return Task.objects.create(
        case=case,
        kind=kind,
        role=role,
        due_start=start,
        due_end=max(end, start),
        appointment_start=appointment_start,
        note=note[:300],
        urgent=urgent,
        created_at=clock.current(),
    )


def _closing_summary(kind: str, status: str) -> str:
    task = TaskKind(kind).label
    if status == TaskStatus.DONE:
        return gettext("{task}: done").format(task=task)
    return gettext("{task}: cancelled").format(task=task)


def close_task(actor: Actor, task: Task, status: TaskStatus, outcome: str) -> Task:
    """Close one open task with what was done; writes its timeline event and its audit entry."""
    task.status, task.outcome = status, outcome[:2000]
    task.closed_at, task.closed_by = clock.current(), actor.user_or_none
    task.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
    record_event(
        actor,
        task.case,
        EventKind.TASK_CLOSED,
        _closing_summary(task.kind, status),
        reason=outcome[:2000],
        data={"task": str(task.uuid)},
    )
    audit.record(
        actor,
        AuditAction.UPDATE,
        "task",
        task.uuid,
        patient_uuid=task.case.patient.uuid,
        detail=f"{task.kind} {status}",
    )
    return task


def close_tasks(
    actor: Actor, case: Case, kinds: list[TaskKind] | None, status: TaskStatus, outcome: str = ""
) -> list[str]:
    """Close the case's open tasks of ``kinds`` (all kinds when None), each with its event; return their labels."""
    tasks = Task.objects.select_for_update(no_key=True).filter(case=case, status=TaskStatus.OPEN).order_by("id")
    if kinds is not None:
        tasks = tasks.filter(kind__in=kinds)
    labels = []
    for task in tasks:
        task.case = case
        close_task(actor, task, status, outcome)
        labels.append(str(TaskKind(task.kind).label))
    return labels
