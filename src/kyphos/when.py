"""Dates and times in words, in one place: always in the site's time zone.

Staff read the unambiguous form (``Mon 07-Dec-2026 08:00``, 24-hour, the zone named when it is not theirs);
patients read plain words in their own language (``lunes 7 de diciembre de 2026``), with day and month names from
Django's translations and the word order from our catalogue (context "date in words").
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import pgettext_lazy

from kyphos import clock

LONG = pgettext_lazy("date in words", "{weekday} {day} {month} {year}")
SHORT = pgettext_lazy("date in words", "{weekday} {day} {month}")
MORNING = pgettext_lazy("12-hour clock", "{hour}:{minute} AM")
AFTERNOON = pgettext_lazy("12-hour clock", "{hour}:{minute} PM")
DAY_AND_TIME = pgettext_lazy("date in words", "{date}, {time}")


def zone_of(place: Any) -> ZoneInfo:
    """The zone of a site (anything with ``time_zone``), a zone, a zone name, or the staff's zone for None."""
    if place is None:
        return ZoneInfo(settings.TIME_ZONE)
    if isinstance(place, ZoneInfo):
        return place
    return ZoneInfo(place if isinstance(place, str) else place.time_zone)


def local(moment: datetime, place: Any) -> datetime:
    """``moment`` on the site's wall clock."""
    return moment.astimezone(zone_of(place))


def local_day(moment: datetime, place: Any) -> date:
    """The site's calendar day of ``moment``."""
    return local(moment, place).date()


def today(place: Any) -> date:
    """Today at the site."""
    return local_day(clock.current(), place)


# --- for staff ------------------------------------------------------------------------------------------------


def staff_date(day: date | None) -> str:
    """``07-Dec-2026``: a day without its weekday (a date of birth), the month in the site's language."""
    if day is None:
        return "—"
    return f"{day.day:02d}-{str(MONTHS_3[day.month]).title()}-{day.year}"


def staff_day(value: date | datetime | None, place: Any = None) -> str:
    """``Mon 07-Dec-2026``; a datetime is first put on the site's clock."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = local(value, place)
    return f"{WEEKDAYS_ABBR[value.weekday()]} {staff_date(value)}"


def staff_when(moment: datetime | None, place: Any = None, *, zone: bool | None = None) -> str:
    """``Mon 07-Dec-2026 08:00``; the zone's abbreviation follows when it is not the staff's own (or ``zone=True``)."""
    if moment is None:
        return "—"
    where = zone_of(place)
    at = moment.astimezone(where)
    text = f"{staff_day(at.date())} {at:%H:%M}"
    if zone or (zone is None and where.key != settings.TIME_ZONE):
        text += f" {at:%Z}"
    return text


def duration(span: timedelta | None) -> str:
    """``27 h 30 min``: a length of stay in hours and minutes (the same abbreviations in English and Spanish)."""
    if span is None:
        return "—"
    minutes = max(int(span.total_seconds() // 60), 0)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def staff_time(moment: datetime | None, place: Any = None) -> str:
    """``08:00`` on the site's clock."""
    return "—" if moment is None else f"{local(moment, place):%H:%M}"


# --- for patients ---------------------------------------------------------------------------------------------


def weekday_name(day: date, language: str = "en") -> str:
    """``Monday`` / ``lunes``."""
    with translation.override(language):
        return str(WEEKDAYS[day.weekday()])


def long_date(day: date, language: str = "en") -> str:
    """``Monday 7 December 2026`` / ``lunes 7 de diciembre de 2026``."""
    with translation.override(language):
        return str(LONG).format(weekday=WEEKDAYS[day.weekday()], day=day.day, month=MONTHS[day.month], year=day.year)


def short_date(day: date, language: str = "en") -> str:
    """``Monday 7 December`` / ``lunes 7 de diciembre`` (the year is clear from the letter)."""
    with translation.override(language):
        return str(SHORT).format(weekday=WEEKDAYS[day.weekday()], day=day.day, month=MONTHS[day.month])


day_words = long_date


def time_words(moment: datetime, place: Any = None, language: str | None = None) -> str:
    """A time on a patient's letter, message or page, on the site's clock when one is given: 24-hour (``14:30``)
    unless the site's people read 12-hour times (``Site.clock_hours``), then ``2:30 PM`` in their language."""
    at = moment if place is None else local(moment, place)
    if getattr(place, "clock_hours", "24") != "12":
        return at.strftime("%H:%M")
    words = AFTERNOON if at.hour >= 12 else MORNING
    with translation.override(language) if language else nullcontext():
        return str(words).format(hour=at.hour % 12 or 12, minute=f"{at.minute:02d}")


def day_and_time(moment: datetime, place: Any = None, language: str = "en") -> str:
    """``Monday 7 December, 08:00`` (or ``8:00 AM``) for a patient, on the site's clock."""
    at = moment if place is None else local(moment, place)
    with translation.override(language):
        return str(DAY_AND_TIME).format(date=short_date(at.date(), language), time=time_words(at, place, language))
