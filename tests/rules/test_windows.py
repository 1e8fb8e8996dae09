from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphos.rules.holidays import us_federal_holidays
from kyphos.rules.windows import SiteCalendar, WindowError, call_window, follow_up_window, parse_hours

NY = ZoneInfo("America/New_York")
HOLIDAYS = frozenset(day for year in (2026, 2027) for day, _ in us_federal_holidays(year))
HOSP = SiteCalendar.weekdays("America/New_York", time(7), time(17), HOLIDAYS)


def at(y: int, m: int, d: int, hh: int = 8, mm: int = 0, zone: ZoneInfo = NY) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def test_a_monday_0800_procedure_is_called_on_friday() -> None:
    window = call_window(at(2026, 12, 7), HOSP)
    assert (window.start, window.end) == (at(2026, 12, 4, 7), at(2026, 12, 4, 17))
    assert window.moved


def test_a_wednesday_procedure_is_called_48_to_24_hours_before() -> None:
    window = call_window(at(2026, 12, 9, 10), HOSP)
    assert (window.start, window.end) == (at(2026, 12, 7, 10), at(2026, 12, 8, 10))
    assert not window.moved


def test_the_window_is_clipped_to_business_hours() -> None:
    # Tuesday 08:00: the nominal window is Sunday 08:00 – Monday 08:00; only Monday 07:00–08:00 is open.
    window = call_window(at(2026, 12, 8), HOSP)
    assert (window.start, window.end) == (at(2026, 12, 7, 7), at(2026, 12, 7, 8))


def test_a_holiday_moves_the_window_to_the_business_day_before() -> None:
    # Friday 27-Nov-2026 procedure: nominal window Wed 25 08:00 – Thu 26 (Thanksgiving) 08:00 → Wed only.
    window = call_window(at(2026, 11, 27), HOSP)
    assert (window.start, window.end) == (at(2026, 11, 25, 8), at(2026, 11, 25, 17))
    # Monday 30-Nov: Sat/Sun closed → Friday 27-Nov (a business day for this site).
    assert call_window(at(2026, 11, 30), HOSP).start == at(2026, 11, 27, 7)
    # Monday 06-Jul-2026 after the observed Friday 03-Jul holiday → Thursday 02-Jul.
    assert call_window(at(2026, 7, 6), HOSP).start == at(2026, 7, 2, 7)


def test_daylight_saving_does_not_move_the_window() -> None:
    # DST ends Sunday 01-Nov-2026 at 02:00 in New York; the site works every day.
    every_day = SiteCalendar("America/New_York", {d: ((time(7), time(17)),) for d in range(7)})
    window = call_window(at(2026, 11, 2, 10), every_day)
    assert window.start == datetime(2026, 10, 31, 10, tzinfo=NY)  # wall clock 10:00, not 11:00 (48 h earlier)
    assert window.start.utcoffset() == timedelta(hours=-4)
    assert window.end == datetime(2026, 11, 1, 10, tzinfo=NY)
    assert window.end.utcoffset() == timedelta(hours=-5)


def test_naive_times_are_refused() -> None:
    with pytest.raises(WindowError):
        call_window(datetime(2026, 12, 7, 8), HOSP)  # noqa: DTZ001


def test_follow_up_is_7_to_14_days_on_business_days() -> None:
    window = follow_up_window(at(2026, 12, 7, 9), HOSP)
    assert (window.start, window.end) == (at(2026, 12, 14, 7), at(2026, 12, 21, 17))


def test_follow_up_skips_holidays_at_both_ends() -> None:
    # Friday 18-Dec-2026: day 7 is Christmas → Monday 28th; day 14 is New Year's Day → Thursday 31st.
    window = follow_up_window(at(2026, 12, 18, 9), HOSP)
    assert (window.start, window.end) == (at(2026, 12, 28, 7), at(2026, 12, 31, 17))


def test_parse_hours_refuses_nonsense() -> None:
    assert parse_hours({"mon": [["07:00", "17:00"]]}) == {0: ((time(7), time(17)),)}
    for bad in ({"monday": [["07:00", "17:00"]]}, {"mon": [["17:00", "07:00"]]}, {"mon": [["07:00"]]}):
        with pytest.raises(WindowError):
            parse_hours(bad)


# --- properties over many dates, zones and holiday sets ------------------------------------------------

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Phoenix",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
]


@st.composite
def calendars(draw: st.DrawFn) -> SiteCalendar:
    zone = draw(st.sampled_from(ZONES))
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    opens = time(draw(st.integers(6, 10)))
    closes = time(draw(st.integers(14, 20)))
    base = draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    holidays = draw(st.sets(st.integers(-12, 0), max_size=5))
    return SiteCalendar(
        zone, {d: ((opens, closes),) for d in days}, frozenset(base + timedelta(days=k) for k in holidays)
    )


@st.composite
def appointments(draw: st.DrawFn, calendar: SiteCalendar) -> datetime:
    day = (
        max(calendar.holidays) + timedelta(days=draw(st.integers(0, 3)))
        if calendar.holidays
        else draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    )
    # Procedures happen by day; times between 05:00 and 21:45 keep clear of the 01:00–03:00 DST changes.
    return datetime.combine(
        day, time(draw(st.integers(5, 21)), draw(st.sampled_from([0, 15, 30, 45]))), tzinfo=calendar.zone
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[SiteCalendar, datetime]:
    calendar = draw(calendars())
    return calendar, draw(appointments(calendar))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_property_window_is_before_the_appointment_and_on_business_days(
    case: tuple[SiteCalendar, datetime],
) -> None:
    calendar, start = case
    window = call_window(start, calendar)
    assert window.start < window.end <= start
    if window.note.startswith("no business hours"):
        return  # no business day in the look-back: nothing better exists
    day = window.start.astimezone(calendar.zone).date()
    while day <= window.end.astimezone(calendar.zone).date():
        assert calendar.is_business_day(day), f"window {window} overlaps closed day {day}"
        day += timedelta(days=1)
    for moment in (window.start, window.end):
        local_day = moment.astimezone(calendar.zone).date()
        assert any(o <= moment <= c for o, c in calendar.business_intervals(local_day))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_property_unmoved_windows_stay_within_48_to_24_hours(case: tuple[SiteCalendar, datetime]) -> None:
    calendar, start = case
    window = call_window(start, calendar)
    wall = start.replace(tzinfo=None)
    if not window.moved and not window.note:
        assert wall - timedelta(days=2) <= window.start.astimezone(calendar.zone).replace(tzinfo=None)
        assert window.end.astimezone(calendar.zone).replace(tzinfo=None) <= wall - timedelta(days=1)
    if window.moved:
        # Moved only when the nominal window had no business hours at all.
        nominal_start, nominal_end = wall - timedelta(days=2), wall - timedelta(days=1)
        for offset in range(3):
            day = nominal_start.date() + timedelta(days=offset)
            for o, c in calendar.business_intervals(day):
                assert not (o.replace(tzinfo=None) < nominal_end and c.replace(tzinfo=None) > nominal_start)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_property_windows_do_not_depend_on_daylight_saving(case: tuple[SiteCalendar, datetime]) -> None:
    calendar, start = case
    without_dst = SiteCalendar("UTC", calendar.hours, calendar.holidays)
    same_wall_time = start.replace(tzinfo=ZoneInfo("UTC"))
    for rule in (call_window, follow_up_window):
        with_zone, without = rule(start, calendar), rule(same_wall_time, without_dst)
        assert with_zone.start.astimezone(calendar.zone).replace(tzinfo=None) == without.start.replace(tzinfo=None)
        assert with_zone.end.astimezone(calendar.zone).replace(tzinfo=None) == without.end.replace(tzinfo=None)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_property_follow_up_is_on_business_days_7_to_14_days_later(
    case: tuple[SiteCalendar, datetime],
) -> None:
    calendar, start = case
    window = follow_up_window(start, calendar)
    first = window.start.astimezone(calendar.zone).date()
    last = window.end.astimezone(calendar.zone).date()
    procedure_day = start.date()
    assert calendar.is_business_day(first) and calendar.is_business_day(last)
    assert first >= procedure_day + timedelta(days=7)
    if not window.moved:
        assert last <= procedure_day + timedelta(days=14)
