"""Reads that feed worklists and lists. Each names the index it relies on (declared on the model)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from kyphos.pathway.models import Case, Event, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, roles_of

UPCOMING_DAYS = 14


def _my_open_tasks(user: Any, roles: frozenset[Role] | None = None) -> QuerySet[Task]:
    roles = roles if roles is not None else roles_of(user)
    # Index task_open_role_due (partial, open rows only) serves role + due_start.
    return (
        Task.objects.filter(status=TaskStatus.OPEN, role__in=[r.value for r in roles])
        .filter(Q(assignee__isnull=True) | Q(assignee=user))
        .select_related("case", "case__patient", "case__site", "assignee")
    )


def worklist_due(user: Any, now: datetime, *, kind: str = "", limit: int = 50, offset: int = 0) -> list[Task]:
    """Open tasks of my roles (unassigned or mine) whose window has opened: overdue first, then by deadline."""
    tasks = _my_open_tasks(user).filter(due_start__lte=now)
    if kind:
        tasks = tasks.filter(kind=kind)
    return list(tasks.order_by("due_end", "appointment_start", "id")[offset : offset + limit])


def worklist_upcoming(user: Any, now: datetime, *, kind: str = "", limit: int = 50) -> list[Task]:
    """Open tasks of my roles whose window opens within the next two weeks, soonest first."""
    tasks = _my_open_tasks(user).filter(due_start__gt=now, due_start__lte=now + timedelta(days=UPCOMING_DAYS))
    if kind:
        tasks = tasks.filter(kind=kind)
    order = ("appointment_start", "due_start", "id") if kind == TaskKind.PRECALL else ("due_start", "id")
    return list(tasks.order_by(*order)[:limit])


def worklist_counts(user: Any, now: datetime) -> dict[str, int]:
    """How many tasks of each kind are due now for me."""
    kinds = _my_open_tasks(user).filter(due_start__lte=now).values_list("kind", flat=True)
    counts = Counter(kinds)
    return {kind: counts.get(kind, 0) for kind in TaskKind.values if counts.get(kind)}


@dataclass(frozen=True)
class CaseFilter:
    stage: str = ""
    site: str = ""  # site code
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""


def case_list(filters: CaseFilter) -> QuerySet[Case]:
    """Cases matching the filters, newest referral first (index case_site_stage_ref / case_stage_ref)."""
    cases = Case.objects.select_related("patient", "site", "appointment")
    if filters.site:
        cases = cases.filter(site__code=filters.site)
    if filters.stage:
        cases = cases.filter(stage=filters.stage)
    if filters.date_from:
        cases = cases.filter(referral_date__gte=filters.date_from)
    if filters.date_to:
        cases = cases.filter(referral_date__lte=filters.date_to)
    text = filters.text.strip()
    if text:
        if "," in text:
            family, _, given = (part.strip() for part in text.partition(","))
            cases = cases.filter(patient__family_name__istartswith=family, patient__given_name__istartswith=given)
        else:
            cases = cases.filter(Q(patient__mrn=text) | Q(patient__family_name__istartswith=text))
    return cases.order_by("-referral_date", "-id")


def case_by_uuid(case_uuid: Any) -> Case | None:
    return (
        Case.objects.select_related("patient", "site", "appointment", "appointment__room", "triaged_by")
        .filter(uuid=case_uuid)
        .first()
    )


def timeline(case: Case, limit: int = 200) -> list[Event]:
    # Index event_case_at.
    return list(case.events.order_by("-at", "-id")[:limit])


def case_tasks(case: Case) -> list[Task]:
    return list(case.tasks.select_related("assignee").order_by("status", "due_end"))
