"""Reads that feed worklists and lists. Each names the index it relies on (declared on the model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from kyphos import when
from kyphos.pathway.models import Case, Event, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import Role, roles_of, site_ids_of
from kyphos.patients.models import Language, Patient
from kyphos.rules.antithrombotics import plan_drug
from kyphos.rules.findings import Finding
from kyphos.rules.medicines import named_in
from kyphos.rules.names import name_key, prefix_range
from kyphos.rules.windows import call_window
from kyphos.scheduling.models import Site

UPCOMING_DAYS = 14


@dataclass(frozen=True)
class WorkItem:
    """One row of a worklist: only what the list shows, read in one query without building models."""

    task_uuid: UUID
    kind: str
    due_start: datetime
    due_end: datetime
    note: str
    appointment_start: datetime | None
    assignee: str | None
    case_uuid: UUID
    patient_uuid: UUID
    family_name: str
    given_name: str
    mrn: str
    language: str
    phone_mobile: str
    phone_home: str
    site_code: str
    site_zone: str
    urgent: bool

    @property
    def kind_label(self) -> str:
        return str(TaskKind(self.kind).label)

    @property
    def patient_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def language_label(self) -> str:
        return str(Language(self.language).label) if self.language in Language.values else self.language


WORK_ITEM_FIELDS = {
    "task_uuid": "uuid",
    "kind": "kind",
    "due_start": "due_start",
    "due_end": "due_end",
    "note": "note",
    "appointment_start": "appointment_start",
    "assignee": "assignee__username",
    "case_uuid": "case__uuid",
    "patient_uuid": "case__patient__uuid",
    "family_name": "case__patient__family_name",
    "given_name": "case__patient__given_name",
    "mrn": "case__patient__mrn",
    "language": "case__patient__preferred_language",
    "phone_mobile": "case__patient__phone_mobile",
    "phone_home": "case__patient__phone_home",
    "site_code": "case__site__code",
    "site_zone": "case__site__time_zone",
    "urgent": "urgent",
}


def _my_open_tasks(user: User | AnonymousUser, roles: frozenset[Role] | None = None) -> QuerySet[Task]:
    roles = roles if roles is not None else roles_of(user)
    # Index task_open_role_due (partial, open rows only) serves role + due_start.
    tasks = Task.objects.filter(status=TaskStatus.OPEN, role__in=[r.value for r in roles]).filter(
        Q(assignee__isnull=True) | Q(assignee=user)
    )
    sites = site_ids_of(user)
    return tasks if sites is None else tasks.filter(case__site_id__in=sites)


def _items(tasks: QuerySet[Task]) -> list[WorkItem]:
    names, lookups = zip(*WORK_ITEM_FIELDS.items(), strict=True)
    return [WorkItem(**dict(zip(names, row, strict=True))) for row in tasks.values_list(*lookups)]


def worklist_due(
    user: User | AnonymousUser, now: datetime, *, kind: str = "", limit: int = 50, offset: int = 0
) -> list[WorkItem]:
    """Open tasks of my roles (unassigned or mine) whose window has opened: urgent ones (a diary red flag) first,
    then overdue, then by deadline. The due rows are few, so the sort after the index scan stays cheap."""
    tasks = _my_open_tasks(user).filter(due_start__lte=now)
    if kind:
        tasks = tasks.filter(kind=kind)
    return _items(tasks.order_by("-urgent", "due_end", "appointment_start", "id")[offset : offset + limit])


def worklist_upcoming(user: User | AnonymousUser, now: datetime, *, kind: str = "", limit: int = 50) -> list[WorkItem]:
    """Open tasks of my roles whose window opens within the next two weeks, soonest first."""
    tasks = _my_open_tasks(user).filter(due_start__gt=now, due_start__lte=now + timedelta(days=UPCOMING_DAYS))
    if kind:
        tasks = tasks.filter(kind=kind)
    order = ("appointment_start", "due_start", "id") if kind == TaskKind.PRECALL else ("due_start", "id")
    return _items(tasks.order_by(*order)[:limit])


def worklist_counts(user: User | AnonymousUser, now: datetime) -> dict[str, int]:
    """How many tasks of each kind are due now for me (counted by the database)."""
    rows = _my_open_tasks(user).filter(due_start__lte=now).values("kind").annotate(n=Count("id")).order_by()
    counts = {row["kind"]: row["n"] for row in rows}
    return {kind: counts[kind] for kind in TaskKind.values if counts.get(kind)}


@dataclass(frozen=True)
class CaseFilter:
    stage: str = ""
    site: str = ""  # site code
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    sites: frozenset[int] | None = None  # the user's sites (pathway.policy.site_ids_of); None: every site


# The columns the case list shows; everything else stays in the database.
CASE_LIST_FIELDS = (
    "uuid",
    "stage",
    "referral_date",
    "open_stops",
    "site__code",
    "site__time_zone",
    "patient__uuid",
    "patient__family_name",
    "patient__given_name",
    "patient__mrn",
    "patient__date_of_birth",
    "appointment__start",
)


def case_list(filters: CaseFilter) -> QuerySet[Case]:
    """Cases matching the filters, newest referral first (index case_site_stage_ref / case_stage_ref)."""
    cases = Case.objects.select_related("patient", "site", "appointment")
    if filters.sites is not None:
        cases = cases.filter(site_id__in=filters.sites)
    if filters.site:
        # Filter on the site's id, not a join on its code: with the id a constant, the planner walks index
        # case_site_stage_ref in order (SQLite otherwise scans by stage and sorts: 30x slower at 100k cases).
        site_id = Site.objects.filter(code=filters.site).values_list("id", flat=True).first()
        if site_id is None:
            return cases.none()
        cases = cases.filter(site_id=site_id)
    if filters.stage:
        cases = cases.filter(stage=filters.stage)
    if filters.date_from:
        cases = cases.filter(referral_date__gte=filters.date_from)
    if filters.date_to:
        cases = cases.filter(referral_date__lte=filters.date_to)
    text = filters.text.strip()
    if text:
        if "," in text:
            family, _comma, given = text.partition(",")
            cases = cases.filter(name_starts(family, given))
        else:
            # An MRN finds its patient; anything else is a name. Two plain index reads, not one OR that would
            # have to sort every match of a common name.
            # A record merged into another (HL7 ADT^A40) leads to the patient it was merged into.
            found = list(Patient.objects.filter(mrn=text).values_list("pk", "merged_into_id"))
            ids = {merged or pk for pk, merged in found}
            cases = cases.filter(patient_id__in=ids) if ids else cases.filter(name_starts(text))
        # In the order of the name index (family, given, patient), so a common name's first page reads its first
        # rows instead of sorting every match; a patient's own cases, newest first, follow each other.
        return cases.only(*CASE_LIST_FIELDS).order_by(
            "patient__family_key", "patient__given_key", "patient_id", "-referral_date", "-id"
        )
    return cases.only(*CASE_LIST_FIELDS).order_by("-referral_date", "-id")


def _key_starts(field: str, text: str) -> Q:
    prefix = name_key(text)
    if not prefix:
        return Q()
    bounds = prefix_range(prefix)
    if bounds is None:  # letters beyond a–z: a plain prefix test (correct, not served by the range)
        return Q(**{f"{field}__startswith": prefix})
    # The range is exact for a–z/0–9 keys: no LIKE beside it, which would only blur the planner's estimate.
    low, high = bounds
    query = Q(**{f"{field}__gte": low})
    return query & Q(**{f"{field}__lt": high}) if high is not None else query


def name_starts(family: str, given: str = "") -> Q:
    """Patients whose family name (and given name, if given) starts with the text, ignoring case and accents.

    A range on ``patient_name_key`` on SQLite and PostgreSQL alike (see rules.names)."""
    if not name_key(family) and not name_key(given):
        return Q(pk__in=[])
    return _key_starts("patient__family_key", family) & _key_starts("patient__given_key", given)


def case_by_uuid(case_uuid: UUID | str) -> Case | None:
    return (
        Case.objects.select_related("patient", "site", "appointment", "appointment__room", "triaged_by")
        .filter(uuid=case_uuid)
        .first()
    )


def case_or_404(case_uuid: UUID | str) -> Case:
    """The case a page's address names, or the page's 404 (the rooms' views share it)."""
    case = case_by_uuid(case_uuid)
    if case is None:
        raise Http404("No such case.")
    return case


def timeline(case: Case, limit: int = 200) -> list[Event]:
    # Index event_case_at.
    return list(case.events.order_by("-at", "-id")[:limit])


def case_tasks(case: Case) -> list[Task]:
    return list(case.tasks.select_related("assignee").order_by("status", "due_end"))


def open_stop_findings(case: Case) -> list[Finding]:
    """The case's stop findings that nobody has overridden: what the banner shows in red."""
    return [Finding.from_dict(f) for f in case.findings if f["severity"] == "stop" and not f.get("overridden")]


def banner(case: Case) -> dict[str, Any]:
    """What every case page's patient banner shows: one builder, so no page leaves out the open stop findings."""
    return {
        "case": case,
        "patient": case.patient,
        "today": when.today(case.site),
        "allergies": list(case.patient.allergies.filter(active=True)),
        "open_stops": open_stop_findings(case),
    }


# --- the provisional blood-thinner plan (from the referral, before the call) ----------------------------------


@dataclass(frozen=True)
class ProvisionalHold:
    """One medicine of the referral's list that the plan would stop, computed for a proposed date."""

    drug: str
    hold: str  # the hold as the guideline gives it ("5 days")
    last_dose: datetime | None  # None: no guideline value, the prescriber decides
    guideline: str
    source: str
    verify: bool


@dataclass(frozen=True)
class EarlyPlan:
    """What the referral's blood thinners ask of a proposed booking (the call, 24–48 h before, may be too late)."""

    holds: tuple[ProvisionalHold, ...]
    earliest: datetime | None  # the earliest last dose among them
    call_closes: datetime  # when the pre-procedure call window closes: the call may come as late as this
    nurse_by: datetime | None  # the close of the last working day before ``earliest``: reach the prescriber by then

    @property
    def needed(self) -> bool:
        """A hold may have to start before the call is sure to have happened, or a medicine has no guideline
        value: the nurse acts before the call."""
        return any(h.last_dose is None for h in self.holds) or (
            self.earliest is not None and self.earliest < self.call_closes
        )

    def too_late(self, now: datetime) -> bool:
        """Too little time: the working day before the earliest last dose has already ended."""
        return self.nurse_by is not None and self.nurse_by <= now


def early_plan(case: Case, start: datetime, end: datetime) -> EarlyPlan:
    """The provisional plan from the referral's medicine list for a procedure at ``start``: the site's guideline,
    kidney function not yet known (the longest hold), aspirin's reason not yet known (primary prevention, the
    longer hold). The 24–48 h call confirms or replaces it."""
    site = case.site
    holds = []
    for drug in named_in(case.medications_note):
        if not drug.antithrombotic:
            continue
        plan = plan_drug(
            drug,
            start,
            procedure_end=end,
            zone=site.zone,
            guideline=site.anticoagulant_guideline,
            restart_policy=site.restart_policy,
        )
        if plan.hold is False:
            continue
        holds.append(
            ProvisionalHold(drug.display, plan.hold_text, plan.last_dose, plan.guideline, plan.source, plan.verify)
        )
    calendar = site.calendar()
    dated = [h.last_dose for h in holds if h.last_dose is not None]
    earliest = min(dated) if dated else None
    nurse_by = None
    if earliest is not None:
        day = calendar.previous_business_day(when.local_day(earliest, site) - timedelta(days=1))
        if day is not None:
            closes = calendar.business_intervals(day)
            nurse_by = closes[-1][1]
    return EarlyPlan(tuple(holds), earliest, call_window(start, calendar).end, nurse_by)


def booking_warnings(case: Case, start: datetime, end: datetime, now: datetime) -> list[str]:
    """What a proposed booking should make the scheduler stop and think about (booking anyway needs a reason):
    outside the site's hours, the call window or the arrival already past, a blood-thinner hold that cannot fit."""
    site = case.site
    calendar = site.calendar()
    day = when.local_day(start, site)
    intervals = calendar.business_intervals(day)
    found: list[str] = []
    if not any(opens <= start and end <= closes for opens, closes in intervals):
        hours = ", ".join(f"{when.staff_time(o, site)}–{when.staff_time(c, site)}" for o, c in intervals)
        found.append(
            gettext("{start}–{end} is outside the site's hours that day ({hours}).").format(
                start=when.staff_time(start, site), end=when.staff_time(end, site), hours=hours or gettext("closed")
            )
        )
    window = call_window(start, calendar)
    if window.end <= now:
        found.append(
            gettext("The pre-procedure call window has already closed ({end}).").format(
                end=when.staff_when(window.end, site)
            )
        )
    arrival = start - timedelta(minutes=site.arrival_lead_minutes)
    if arrival <= now:
        found.append(
            gettext("The arrival time ({arrival}) has already passed.").format(arrival=when.staff_time(arrival, site))
        )
    plan = early_plan(case, start, end)
    if plan.needed and plan.too_late(now):
        late = [h for h in plan.holds if h.last_dose is not None and h.last_dose <= (plan.nurse_by or now)]
        found.append(
            gettext("A blood-thinner hold cannot fit: {drugs} would already have to be stopped.").format(
                drugs=", ".join(h.drug for h in late) or ", ".join(h.drug for h in plan.holds)
            )
        )
    return found
