"""Dates and times in plain words for patients, in their language, in the site's time zone.

The names of days and months are Django's own translations; the order of the words is a sentence of our
catalogue (context "date in words"), so a new language brings its own order.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import translation
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import pgettext_lazy

LONG = pgettext_lazy("date in words", "{weekday} {day} {month} {year}")
SHORT = pgettext_lazy("date in words", "{weekday} {day} {month}")


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


def time_words(moment: datetime) -> str:
    """24-hour time, as on every hospital letter (no am/pm mix-ups)."""
    return moment.strftime("%H:%M")
