"""The manager's figures: each one selector over a period at some sites, computed from the records the pathway
keeps (no figure is typed in). Counts and proportions carry their denominators; a proportion of fewer than
``SMALL`` patients is shown as a count only (no percentage on so few).

Periods are whole days in the site's time zone when one site is chosen, else in UTC. The cohort of most figures
is the procedures started in the period; volume counts referrals by their referral date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncWeek

from kyphos import clock
from kyphos.aftercare.models import DiaryEntry, FollowUpRecord
from kyphos.aftercare.selectors import readmissions
from kyphos.pathway.models import Case, Task, TaskKind, TaskStatus
from kyphos.pathway.stages import CancelReason, PostponeReason
from kyphos.precall.models import AttemptOutcome, CallAttempt, CallStatus, PreCall
from kyphos.procedure.models import ProcedureRecord, TreatedLevel
from kyphos.scheduling.models import Appointment, AppointmentStatus, Site

SMALL = 10  # fewer patients than this: no percentage
PAIN_TIMES = ("baseline", "early", "follow_up")
FOLLOW_UP_WINDOW = (7, 14)  # days after the procedure (the service's pathway: follow-up 7–14 days later)


@dataclass(frozen=True)
class Period:
    sites: frozenset[int] | None  # None: every site
    start: date
    end: date  # inclusive

    @cached_property
    def zone(self) -> tzinfo:
        """The one chosen site's zone (looked up once per period), else UTC."""
        if self.sites is not None and len(self.sites) == 1:
            site = Site.objects.filter(pk=next(iter(self.sites))).first()
            if site is not None:
                return site.zone
        return UTC

    def bounds(self) -> tuple[datetime, datetime]:
        zone = self.zone
        return datetime.combine(self.start, time.min, zone), datetime.combine(
            self.end + timedelta(days=1), time.min, zone
        )

    def scope(self, query: QuerySet[Any], path: str) -> QuerySet[Any]:
        return query if self.sites is None else query.filter(**{f"{path}__in": self.sites})


@dataclass(frozen=True)
class Proportion:
    events: int
    total: int

    @property
    def small(self) -> bool:
        return self.total < SMALL

    @property
    def rate(self) -> float | None:
        return None if self.small or not self.total else self.events / self.total


class Spread:
    """A distribution of durations or scores: how many, the median and the 90th centile. Kept as counts of each
    value (days, hours to a tenth, scores), so a year of a department's figures is a few hundred numbers however
    many patients, and two spreads (two months, two sites) add up exactly."""

    __slots__ = ("counts",)

    def __init__(self, values: Iterable[float] = (), counts: Iterable[tuple[float, int]] = ()) -> None:
        found: Counter[float] = Counter(float(v) for v in values)
        for value, n in counts:
            found[float(value)] += int(n)
        self.counts: tuple[tuple[float, int], ...] = tuple(sorted((v, n) for v, n in found.items() if n))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spread) and self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Spread(counts={self.counts!r})"

    def __add__(self, other: Spread) -> Spread:
        return Spread(counts=(*self.counts, *other.counts))

    @property
    def values(self) -> tuple[float, ...]:
        """Every value, smallest first."""
        return tuple(v for v, n in self.counts for _ in range(n))

    @property
    def n(self) -> int:
        return sum(n for _v, n in self.counts)

    @property
    def total(self) -> float:
        return sum(v * n for v, n in self.counts)

    def _at(self, index: int) -> float:
        """The value at ``index`` (0-based) of the values in order."""
        for value, n in self.counts:
            if index < n:
                return value
            index -= n
        raise IndexError(index)

    @property
    def median(self) -> float | None:
        n = self.n
        if not n:
            return None
        middle = n // 2
        return self._at(middle) if n % 2 else (self._at(middle - 1) + self._at(middle)) / 2

    @property
    def p90(self) -> float | None:
        n = self.n
        return self._at(min(n - 1, int(0.9 * n))) if n else None


@dataclass(frozen=True)
class Week:
    start: date
    referrals: int = 0
    procedures: int = 0
    levels: int = 0


@dataclass
class Figures:
    period: Period
    weeks: list[Week] = field(default_factory=list)
    referrals: int = 0
    procedures: int = 0
    levels: int = 0
    referral_to_triage_days: Spread = field(default_factory=Spread)
    referral_to_procedure_days: Spread = field(default_factory=Spread)
    hours_to_discharge: Spread = field(default_factory=Spread)
    discharged_within_24h: Proportion = Proportion(0, 0)
    follow_up_in_window: Proportion = Proportion(0, 0)
    red_flag_entries: int = 0
    urgent_red_flag_entries: int = 0
    # baseline / early / follow_up → how many patients scored 0..10
    pain: dict[str, list[int]] = field(default_factory=lambda: {k: [0] * 11 for k in PAIN_TIMES})
    pain_change_early: Spread = field(default_factory=Spread)  # paired: 24–48 h minus baseline
    pain_change_follow_up: Spread = field(default_factory=Spread)
    score_change: Spread = field(default_factory=Spread)  # questionnaire (RDQ, ODI…) at follow-up minus before
    leakage: Proportion = Proportion(0, 0)  # per level
    symptomatic_leakage: Proportion = Proportion(0, 0)
    complications: Proportion = Proportion(0, 0)  # per procedure
    new_fracture: Proportion = Proportion(0, 0)  # per case seen at follow-up
    # per case asked (at follow-up or in the diary): admitted to a hospital since discharge
    readmitted: Proportion = Proportion(0, 0)
    reached_in_call_window: Proportion = Proportion(0, 0)  # pre-procedure calls whose window closed in the period
    red_flag_response_minutes: Spread = field(default_factory=Spread)  # urgent diary tasks: opened → done
    # Appointments that did not happen, by reason: reason → (postponed, of which on the day; cancelled, on the day)
    not_done: dict[str, list[int]] = field(default_factory=dict)
    referrers: dict[str, int] = field(default_factory=dict)  # referring clinician → referrals in the period
    as_of: datetime | None = None  # when the figures were computed (from the cache: the oldest part)
    from_cache: bool = False

    @property
    def referral_sources(self) -> list[tuple[str, int]]:
        """The ten clinicians who referred most, most first."""
        return sorted(self.referrers.items(), key=lambda item: (-item[1], item[0]))[:10]

    def to_data(self) -> dict[str, Any]:
        """The figures as JSON-ready data (the dashboard's cache keeps a site's month so)."""
        data: dict[str, Any] = {}
        for each in fields(self):
            if each.name in {"period", "as_of", "from_cache"}:
                continue
            value = getattr(self, each.name)
            if isinstance(value, Spread):
                value = [list(pair) for pair in value.counts]
            elif isinstance(value, Proportion):
                value = [value.events, value.total]
            elif each.name == "weeks":
                value = [[w.start.isoformat(), w.referrals, w.procedures, w.levels] for w in value]
            data[each.name] = value
        return data

    def add(self, data: dict[str, Any]) -> None:
        """Add another part's figures (``to_data`` of a month, a site): counts add up, spreads join."""
        for each in fields(self):
            if each.name not in data:
                continue
            mine, theirs = getattr(self, each.name), data[each.name]
            if isinstance(mine, Spread):
                setattr(self, each.name, mine + Spread(counts=theirs))
            elif isinstance(mine, Proportion):
                setattr(self, each.name, Proportion(mine.events + theirs[0], mine.total + theirs[1]))
            elif isinstance(mine, int):
                setattr(self, each.name, mine + theirs)
            elif each.name == "weeks":
                by_start = {w.start: [w.referrals, w.procedures, w.levels] for w in mine}
                for start, *counts in theirs:
                    found = by_start.setdefault(date.fromisoformat(start), [0, 0, 0])
                    for index, n in enumerate(counts):
                        found[index] += n
                self.weeks = [Week(start, *counts) for start, counts in sorted(by_start.items())]
            elif isinstance(mine, dict):  # pain histograms, not-done reasons, referrers: add key by key
                for key, value in theirs.items():
                    if isinstance(value, list):
                        found = mine.setdefault(key, [0] * len(value))
                        mine[key] = [a + b for a, b in zip(found, value, strict=True)]
                    else:
                        mine[key] = mine.get(key, 0) + value
        self.not_done = _most_first(self.not_done)


def _procedures(period: Period) -> QuerySet[ProcedureRecord]:
    low, high = period.bounds()
    return period.scope(ProcedureRecord.objects.filter(started_at__gte=low, started_at__lt=high), "case__site_id")


def _local_date(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def volume(period: Period, figures: Figures) -> None:
    """Referrals (by referral date), procedures and levels treated (by the procedure's day in the period's zone),
    week by week. The procedures are read once with their number of levels and put in weeks here: one query, and
    no per-row date function in the database (SQLite's is Python, called once a row)."""
    zone = period.zone
    referred = period.scope(
        Case.objects.filter(referral_date__gte=period.start, referral_date__lte=period.end), "site_id"
    )
    weeks: dict[date, dict[str, int]] = {}
    for week, n in referred.annotate(w=TruncWeek("referral_date")).values_list("w").annotate(n=Count("id")).order_by():
        weeks.setdefault(week, {})["referrals"] = n
    figures.procedures = figures.levels = 0
    for started, levels in _procedures(period).annotate(n=Count("levels")).values_list("started_at", "n").order_by():
        day = _local_date(started, zone)
        counts = weeks.setdefault(day - timedelta(days=day.weekday()), {})
        counts["procedures"] = counts.get("procedures", 0) + 1
        counts["levels"] = counts.get("levels", 0) + levels
        figures.procedures += 1
        figures.levels += levels
    first = period.start - timedelta(days=period.start.weekday())
    figures.weeks = []
    day = first
    while day <= period.end:
        counts = weeks.get(day, {})
        figures.weeks.append(
            Week(day, counts.get("referrals", 0), counts.get("procedures", 0), counts.get("levels", 0))
        )
        day += timedelta(days=7)
    figures.referrals = sum(counts.get("referrals", 0) for counts in weeks.values())


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def timeliness(period: Period, figures: Figures) -> None:
    zone = period.zone
    referred = period.scope(
        Case.objects.filter(referral_date__gte=period.start, referral_date__lte=period.end, triaged_at__isnull=False),
        "site_id",
    )
    figures.referral_to_triage_days = Spread(
        tuple(
            float((_local_date(at, zone) - day).days) for day, at in referred.values_list("referral_date", "triaged_at")
        )
    )
    figures.referral_to_procedure_days = Spread(
        tuple(
            float((_local_date(at, zone) - day).days)
            for day, at in _procedures(period).values_list("case__referral_date", "started_at")
        )
    )


def stay(period: Period, figures: Figures) -> None:
    """Hours from the end of the procedure to discharge (one joined query: no list of cases sent back)."""
    ended_and_discharged = (
        _procedures(period)
        .filter(ended_at__isnull=False, case__stay__discharged_at__isnull=False)
        .values_list("ended_at", "case__stay__discharged_at")
    )
    hours = [
        (discharged - ended).total_seconds() / 3600
        for ended, discharged in ended_and_discharged
        if ended and discharged
    ]
    figures.hours_to_discharge = Spread(tuple(round(h, 1) for h in hours))
    figures.discharged_within_24h = Proportion(sum(1 for h in hours if h <= 24), len(hours))


def follow_up(period: Period, figures: Figures) -> None:
    now = clock.current()
    low_days, high_days = FOLLOW_UP_WINDOW
    # Only procedures whose follow-up window has closed count: a window still open is not yet a miss. Each with
    # its visits, if any (one joined query).
    closed = _procedures(period).filter(ended_at__lt=now - timedelta(days=high_days + 1))
    zone = period.zone
    cases: set[int] = set()
    seen: set[int] = set()
    for case_id, ended, at in closed.values_list("case_id", "ended_at", "case__follow_ups__at"):
        cases.add(case_id)
        if (
            at is not None
            and ended is not None
            and low_days <= (_local_date(at, zone) - _local_date(ended, zone)).days <= high_days
        ):
            seen.add(case_id)
    figures.follow_up_in_window = Proportion(len(seen), len(cases))
    low, high = period.bounds()
    entries = period.scope(DiaryEntry.objects.filter(at__gte=low, at__lt=high).exclude(red_flags=[]), "case__site_id")
    counted = entries.aggregate(all=Count("id"), urgent=Count("id", filter=Q(action__in=["emergency", "same_day"])))
    figures.red_flag_entries, figures.urgent_red_flag_entries = counted["all"], counted["urgent"]


def outcomes(period: Period, figures: Figures) -> None:
    """Pain at referral (every treated patient has one), at 24–48 hours and at follow-up (``CaseOutcome``, kept
    by aftercare as scores are recorded), and the questionnaire score before and after (one joined query)."""
    treated = _procedures(period).values_list(
        "case__pain_nrs",
        "case__outcome__pain_baseline",
        "case__outcome__pain_24_48h",
        "case__outcome__pain_follow_up",
        "case__outcome__score_baseline",
        "case__outcome__score_follow_up",
    )
    pain = {name: [0] * 11 for name in PAIN_TIMES}
    early, later, scores = [], [], []
    for at_referral, recorded, at_24_48h, at_follow_up, score_before, score_after in treated:
        baseline = recorded if recorded is not None else at_referral
        for name, value in (("baseline", baseline), ("early", at_24_48h), ("follow_up", at_follow_up)):
            if value is not None and 0 <= value <= 10:
                pain[name][value] += 1
        if baseline is not None and at_24_48h is not None:
            early.append(float(at_24_48h - baseline))
        if baseline is not None and at_follow_up is not None:
            later.append(float(at_follow_up - baseline))
        if score_before is not None and score_after is not None:
            scores.append(float(Decimal(score_after) - Decimal(score_before)))
    figures.pain = pain
    figures.pain_change_early = Spread(tuple(early))
    figures.pain_change_follow_up = Spread(tuple(later))
    figures.score_change = Spread(tuple(scores))


def safety(period: Period, figures: Figures) -> None:
    procedures = _procedures(period)
    levels = TreatedLevel.objects.filter(record__in=procedures).aggregate(
        total=Count("id"),
        leaked=Count("id", filter=~Q(leakage=TreatedLevel.Leakage.NONE)),
        symptomatic=Count("id", filter=Q(leakage=TreatedLevel.Leakage.SYMPTOMATIC)),
    )
    figures.leakage = Proportion(levels["leaked"], levels["total"])
    figures.symptomatic_leakage = Proportion(levels["symptomatic"], levels["total"])
    done = procedures.aggregate(
        done=Count("id", filter=Q(ended_at__isnull=False)),
        complicated=Count("id", filter=Q(ended_at__isnull=False) & ~Q(complications="")),
    )
    figures.complications = Proportion(done["complicated"], done["done"])
    seen = FollowUpRecord.objects.filter(case__procedure__in=procedures).aggregate(
        cases=Count("case_id", distinct=True),
        fracture=Count("case_id", distinct=True, filter=Q(new_fracture_suspected=True)),
    )
    figures.new_fracture = Proportion(seen["fracture"], seen["cases"])
    told = readmissions(procedures.values("case_id"))  # at a follow-up visit or in the diary
    figures.readmitted = Proportion(sum(told.values()), len(told))


def calls(period: Period, figures: Figures) -> None:
    """Pre-procedure calls whose window (24–48 h before, on business days) closed in the period: how many reached
    the patient inside it — an attempt recorded as reaching them, or the call itself signed, started while on the
    phone — counted in the database (one query each). A window still open is not yet a miss."""
    low, high = period.bounds()
    high = min(high, clock.current())
    tasks = period.scope(
        Task.objects.filter(kind=TaskKind.PRECALL, due_end__gte=low, due_end__lt=high), "case__site_id"
    ).exclude(status=TaskStatus.CANCELLED)
    inside = {"gte": OuterRef("due_start"), "lte": OuterRef("due_end")}
    attempt = CallAttempt.objects.filter(
        task_id=OuterRef("pk"), outcome=AttemptOutcome.REACHED, **{f"at__{op}": ref for op, ref in inside.items()}
    )
    call = PreCall.objects.filter(
        task_id=OuterRef("pk"), status=CallStatus.SIGNED, **{f"started_at__{op}": ref for op, ref in inside.items()}
    )
    figures.reached_in_call_window = Proportion(tasks.filter(Exists(attempt) | Exists(call)).count(), tasks.count())


def responses(period: Period, figures: Figures) -> None:
    """Minutes from an urgent diary red flag's task (call now, call today) to its being done."""
    low, high = period.bounds()
    done = period.scope(
        Task.objects.filter(
            kind__in=[TaskKind.DIARY_EMERGENCY, TaskKind.DIARY_SAME_DAY],
            created_at__gte=low,
            created_at__lt=high,
            status=TaskStatus.DONE,
            closed_at__isnull=False,
        ),
        "case__site_id",
    )
    figures.red_flag_response_minutes = Spread(
        tuple(
            round((closed - opened).total_seconds() / 60, 1)
            for opened, closed in done.values_list("created_at", "closed_at")
            if closed is not None
        )
    )


def not_done(period: Period, figures: Figures) -> None:
    """Procedures booked in the period that did not happen, by reason: postponed or cancelled, and how many of
    each on the day itself (in the site's zone). A booking still to come is not yet a procedure lost."""
    low, high = period.bounds()
    high = min(high, clock.current())
    booked = period.scope(
        Appointment.objects.filter(
            start__gte=low, start__lt=high, status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
        ),
        "site_id",
    ).select_related("site")
    found: dict[str, list[int]] = {}
    for appointment in booked:
        reason = appointment.status_reason
        postponed = reason.startswith("postponed: ")
        code = reason.removeprefix("postponed: ")
        if code not in (PostponeReason.values if postponed else CancelReason.values):
            continue  # moved to another time (rescheduled), not a procedure lost
        zone = appointment.site.zone
        same_day = appointment.updated_at.astimezone(zone).date() == appointment.start.astimezone(zone).date()
        counts = found.setdefault(code, [0, 0, 0, 0])
        column = 0 if postponed else 2
        counts[column] += 1
        counts[column + 1] += int(same_day)
    figures.not_done = _most_first(found)


def _most_first(not_done: dict[str, list[int]]) -> dict[str, list[int]]:
    """The reasons a procedure did not happen, the most frequent (postponed and cancelled) first."""
    return dict(sorted(not_done.items(), key=lambda item: -(item[1][0] + item[1][2])))


def sources(period: Period, figures: Figures) -> None:
    referred = period.scope(
        Case.objects.filter(referral_date__gte=period.start, referral_date__lte=period.end), "site_id"
    )
    figures.referrers = dict(referred.values_list("referring_clinician").annotate(n=Count("id")).order_by())


def figures_for(period: Period) -> Figures:
    figures = Figures(period)
    for selector in (volume, timeliness, stay, follow_up, outcomes, safety, calls, responses, not_done, sources):
        selector(period, figures)
    return figures
