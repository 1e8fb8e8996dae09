"""Time windows of the pathway: the pre-procedure call and the follow-up visit.

The exact rules (also in the README):

Call window. Take the appointment start on the site's wall clock. The nominal window runs from the same wall
time ``opens_before_hours`` (48 h) earlier to ``closes_before_hours`` (24 h) earlier, counted on the wall clock
(whole days), so a daylight-saving change never moves it. The window is the part of the nominal window that
falls in the site's business hours: it starts at the first business moment inside it and ends at the last one.
When the nominal window holds no business hours at all (a weekend, a holiday, a night), the window moves
earlier, to the business hours of the last business day that ends before the nominal window starts (a Monday
08:00 procedure is called on Friday).

Follow-up window. From the site's opening on the first business day on or after procedure day + 7 to the
site's closing on the last business day on or before procedure day + 14; if no business day falls in that
range, the first business day after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far back a moved window may look for a business day before giving up (a site closed that long has
# no sensible call window; the nominal window is returned and flagged as outside business hours).
MAX_LOOKBACK_DAYS = 31


class WindowError(InvalidInput, ValueError):
    """An appointment time that cannot be placed (naive datetime, unknown zone)."""


@dataclass(frozen=True)
class SiteCalendar:
    """When a site works: its zone, opening hours per weekday (0 = Monday) and holiday dates."""

    time_zone: str
    hours: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        return day not in self.holidays and bool(self.hours.get(day.weekday()))

    def business_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of ``day`` as aware datetimes in the site's zone (empty on closed days)."""
        if not self.is_business_day(day):
            return []
        return [
            (datetime.combine(day, opens, tzinfo=self.zone), datetime.combine(day, closes, tzinfo=self.zone))
            for opens, closes in sorted(self.hours[day.weekday()])
        ]

    def next_business_day(self, day: date, *, inclusive: bool = True) -> date:
        current = day if inclusive else day + timedelta(days=1)
        for _ in range(366):
            if self.is_business_day(current):
                return current
            current += timedelta(days=1)
        raise WindowError(gettext_noop("The site has no business day within a year."))

    def previous_business_day(self, day: date, *, inclusive: bool = True) -> date | None:
        current = day if inclusive else day - timedelta(days=1)
        for _ in range(MAX_LOOKBACK_DAYS):
            if self.is_business_day(current):
                return current
            current -= timedelta(days=1)
        return None

    @classmethod
    def weekdays(
        cls, time_zone: str, opens: time, closes: time, holidays: frozenset[date] = frozenset()
    ) -> SiteCalendar:
        """A calendar open Monday to Friday between ``opens`` and ``closes``."""
        return cls(time_zone, {day: ((opens, closes),) for day in range(5)}, holidays)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    moved: bool = False  # True when moved earlier because the nominal window had no business hours
    note: str = ""

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end

    def as_json(self, zone: ZoneInfo) -> dict[str, str]:
        return {
            "start": self.start.astimezone(zone).isoformat(),
            "end": self.end.astimezone(zone).isoformat(),
        }


def _wall_shift(moment: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The same wall-clock time ``days`` earlier or later in ``zone`` (not a fixed number of hours)."""
    local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=zone)


# Dates a plan can be made for: far enough from datetime's limits (years 1 and 9999) that every shift of days
# or weeks stays representable, and wide enough for any real appointment or date of birth.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def in_plannable_range(moment: datetime) -> bool:
    return EARLIEST_YEAR <= moment.year <= LATEST_YEAR


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise WindowError(gettext_noop("Times must carry their time zone."))
    if not in_plannable_range(moment):
        raise WindowError(
            Text(
                gettext_noop("Give a date from {earliest} to {latest}, not {moment:%Y-%m-%d}."),
                earliest=EARLIEST_YEAR,
                latest=LATEST_YEAR,
                moment=moment,
            )
        )


def _hours_as_days(hours: int) -> int:
    if hours % 24:
        raise WindowError(gettext_noop("Call window bounds must be whole days (multiples of 24 h)."))
    return hours // 24


def call_window(appointment_start: datetime, calendar: SiteCalendar) -> Window:
    """The 48–24 h window in which the pre-procedure call is due (see the module docstring)."""
    _require_aware(appointment_start)
    rules = data.load("windows")["call_window"]
    opens_days = _hours_as_days(int(data.sourced(rules["opens_before_hours"], "call_window.opens").value))
    closes_days = _hours_as_days(int(data.sourced(rules["closes_before_hours"], "call_window.closes").value))
    zone = calendar.zone
    nominal_start = _wall_shift(appointment_start, zone, -opens_days)
    nominal_end = _wall_shift(appointment_start, zone, -closes_days)

    pieces: list[tuple[datetime, datetime]] = []
    day = nominal_start.date()
    while day <= nominal_end.date():
        for opens, closes in calendar.business_intervals(day):
            start, end = max(opens, nominal_start), min(closes, nominal_end)
            if start < end:
                pieces.append((start, end))
        day += timedelta(days=1)
    if pieces:
        return Window(pieces[0][0], pieces[-1][1])

    # No business hours in the nominal window: the last business day that closes before it starts.
    day = nominal_start.date()
    for _ in range(MAX_LOOKBACK_DAYS):
        before = [(s, min(e, nominal_start)) for s, e in calendar.business_intervals(day) if s < nominal_start]
        if before:
            return Window(before[0][0], before[-1][1], moved=True, note="moved to the last business day")
        day -= timedelta(days=1)
    return Window(nominal_start, nominal_end, note="no business hours found; nominal window shown")


def follow_up_window(procedure_start: datetime, calendar: SiteCalendar) -> Window:
    """The window for the radiologist's follow-up visit, 7–14 days after the procedure, on business days."""
    _require_aware(procedure_start)
    rules = data.load("windows")["follow_up"]
    first = int(data.sourced(rules["first_day"], "follow_up.first_day").value)
    last = int(data.sourced(rules["last_day"], "follow_up.last_day").value)
    procedure_day = procedure_start.astimezone(calendar.zone).date()
    start_day = calendar.next_business_day(procedure_day + timedelta(days=first))
    end_day = calendar.previous_business_day(procedure_day + timedelta(days=last)) or start_day
    moved = False
    if end_day < start_day:
        end_day, moved = start_day, True
    return Window(calendar.business_intervals(start_day)[0][0], calendar.business_intervals(end_day)[-1][1], moved)


def parse_hours(spec: Mapping[str, list[list[str]]]) -> dict[int, tuple[tuple[time, time], ...]]:
    """Turn ``{"mon": [["07:00", "17:00"]], ...}`` into weekday-indexed opening periods, checking each."""
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, periods in spec.items():
        if key not in WEEKDAY_KEYS:
            raise WindowError(
                Text(gettext_noop("Unknown weekday {key!r}; use {names}."), key=key, names=", ".join(WEEKDAY_KEYS))
            )
        parsed = []
        for period in periods:
            if len(period) != 2:
                raise WindowError(
                    Text(gettext_noop("{key}: each period needs an opening and a closing time."), key=key)
                )
            opens, closes = (time.fromisoformat(part) for part in period)
            if not opens < closes:
                raise WindowError(
                    Text(
                        gettext_noop("{key}: opening {opens:%H:%M} must be before closing {closes:%H:%M}."),
                        key=key,
                        opens=opens,
                        closes=closes,
                    )
                )
            parsed.append((opens, closes))
        hours[WEEKDAY_KEYS.index(key)] = tuple(sorted(parsed))
    return hours
