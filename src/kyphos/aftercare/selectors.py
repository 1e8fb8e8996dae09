"""Reads aftercare makes of earlier stages: the held medicines to restart, the follow-up visit, the stay.

Letters, views and services of aftercare read the call and the procedure through these named functions, never
through reverse accessors in templates, so each read is one place to index, prefetch and test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from kyphos import clock
from kyphos.aftercare.models import RecoveryCheck, Stay
from kyphos.pathway.models import Case
from kyphos.pathway.stages import Stage
from kyphos.precall.models import CallStatus, Medication
from kyphos.procedure.models import ProcedureRecord
from kyphos.rules import data
from kyphos.rules.windows import SiteCalendar, follow_up_window
from kyphos.scheduling.models import Site, Visit

# The follow-up worklist's groups, in the order the page shows them.
WORKLIST_GROUPS = ("not_booked", "missed", "booked")


def restart_lines(case: Case) -> list[Medication]:
    """The medicines the signed call held, whose restart the going-home letter and the visit page show."""
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    return [m for m in call.medications.all() if m.hold] if call else []


def procedure_record(case: Case) -> ProcedureRecord | None:
    """The procedure as recorded (start, end, treated levels), for the letters, outcomes and the pain chart."""
    return ProcedureRecord.objects.filter(case=case).first()


def follow_up_visit(case: Case) -> Visit | None:
    """The booked follow-up visit, if any."""
    return Visit.objects.filter(case_uuid=case.uuid, status=Visit.Status.BOOKED).first()


def check_interval() -> timedelta:
    entry = data.sourced(data.load("discharge")["recovery_checks"]["interval_minutes"], "interval")
    return timedelta(minutes=int(entry.value))


def check_overdue(case: Case, now: datetime | None = None) -> bool:
    """In recovery (before the ward), the next check is due one interval after the last."""
    now = now or clock.current()
    stay = Stay.objects.filter(case=case).first()
    if case.stage != Stage.RECOVERY or (stay and stay.ward_admitted_at):
        return False
    last = RecoveryCheck.objects.filter(case=case).order_by("-at").first()
    since = last.at if last else case.stage_changed_at
    return now > since + check_interval()


def recovery_state(case: Case) -> str:
    """Where a patient in recovery is, in the words of the day list: on the ward, or in recovery (check overdue)."""
    stay = Stay.objects.filter(case=case).first()
    if stay and stay.ward_admitted_at:
        return gettext("Ward")
    return gettext("Recovery: check overdue") if check_overdue(case) else gettext("Recovery")


def length_of_stay(case: Case) -> timedelta | None:
    """From arrival at admission to discharge from the ward; None until both are recorded."""
    admission = getattr(case, "admission", None)
    stay = Stay.objects.filter(case=case).first()
    if admission is None or stay is None or stay.discharged_at is None:
        return None
    arrived: datetime = admission.arrived_at
    return stay.discharged_at - arrived


@dataclass(frozen=True)
class FollowUpRow:
    case: Case
    window_start: datetime
    window_end: datetime
    visit: Visit | None
    state: str  # "not booked", "booked", "missed", "overdue"


def worklist_cases(
    site: Site | None = None, group: str | None = None, sites: frozenset[int] | None = None
) -> QuerySet[Case]:
    """Discharged cases with their follow-up group, in the order the worklist shows them (for paging).

    ``group`` is "not_booked" (by window, oldest first), "missed" (by the missed visit) or "booked" (by visit).
    The group and its sort time are computed in the database, so a page reads only its own rows.
    """
    first_booked = Visit.objects.filter(case_uuid=OuterRef("uuid"), status=Visit.Status.BOOKED).order_by("start")
    last_missed = Visit.objects.filter(case_uuid=OuterRef("uuid"), status=Visit.Status.MISSED).order_by("-start")
    query = (
        Case.objects.filter(stage=Stage.DISCHARGED)
        .select_related("patient", "site", "appointment")
        .annotate(
            booked_at=Subquery(first_booked.values("start")[:1]),
            missed_at=Subquery(last_missed.values("start")[:1]),
        )
        .annotate(
            follow_up_group=models.Case(
                When(booked_at__isnull=False, then=Value("booked")),
                When(missed_at__isnull=False, then=Value("missed")),
                default=Value("not_booked"),
            ),
            # The window follows the procedure day, so ordering by it orders by the window's end.
            follow_up_sort=models.Case(
                When(booked_at__isnull=False, then="booked_at"),
                When(missed_at__isnull=False, then="missed_at"),
                default=Coalesce("appointment__start", "stage_changed_at"),
            ),
        )
    )
    if site is not None:
        query = query.filter(site=site)
    if sites is not None:  # the user's sites (pathway.policy.site_ids_of)
        query = query.filter(site_id__in=sites)
    if group is not None:
        query = query.filter(follow_up_group=group)
    return query.order_by("follow_up_sort", "pk")


def worklist_rows(cases: Iterable[Case], now: datetime | None = None) -> list[FollowUpRow]:
    """Rows for ``cases`` from ``worklist_cases``: one query for their visits, one for each site's holidays."""
    now = now or clock.current()
    cases = list(cases)
    visits: dict[UUID, list[Visit]] = {}
    for v in Visit.objects.filter(case_uuid__in=[c.uuid for c in cases]).order_by("start"):
        visits.setdefault(v.case_uuid, []).append(v)
    calendars: dict[int, SiteCalendar] = {}
    rows = []
    for case in cases:
        start = case.appointment.start if case.appointment else case.stage_changed_at
        calendar = calendars.get(case.site_id) or calendars.setdefault(case.site_id, case.site.calendar())
        window = follow_up_window(start, calendar)
        mine = visits.get(case.uuid, [])
        booked = next((v for v in mine if v.status == Visit.Status.BOOKED), None)
        missed = next((v for v in reversed(mine) if v.status == Visit.Status.MISSED), None)
        if booked is not None:
            rows.append(FollowUpRow(case, window.start, window.end, booked, "booked"))
        elif missed is not None:
            rows.append(FollowUpRow(case, window.start, window.end, missed, "missed"))
        else:
            state = "overdue" if now > window.end else "not booked"
            rows.append(FollowUpRow(case, window.start, window.end, None, state))
    return rows


def worklist(now: datetime | None = None, site: Site | None = None, limit: int = 500) -> dict[str, list[FollowUpRow]]:
    """The first ``limit`` discharged cases by follow-up group (the page itself pages each group)."""
    out: dict[str, list[FollowUpRow]] = {group: [] for group in WORKLIST_GROUPS}
    cases = list(worklist_cases(site)[:limit])
    for case, row in zip(cases, worklist_rows(cases, now), strict=True):
        out[case.follow_up_group].append(row)  # type: ignore[attr-defined]  # annotated by worklist_cases
    return out


def readmissions(cases: QuerySet[Any] | Iterable[int]) -> dict[int, bool]:
    """Case id → whether the patient told us of a hospital admission since discharge, at a follow-up visit or in
    the diary; a case never asked (no visit, no diary entry that asked) is absent."""
    from kyphos.aftercare.models import DiaryEntry, FollowUpRecord

    told: dict[int, bool] = {}
    # Read in Python: a JSON list's "contains" is not a lookup SQLite has.
    for case_id, found in FollowUpRecord.objects.filter(case_id__in=cases).values_list("case_id", "complications"):
        told[case_id] = told.get(case_id, False) or (isinstance(found, list) and "readmitted" in found)
    diary = DiaryEntry.objects.filter(case_id__in=cases, admitted__isnull=False).values_list("case_id", "admitted")
    for case_id, admitted in diary:
        told[case_id] = told.get(case_id, False) or bool(admitted)
    return told
