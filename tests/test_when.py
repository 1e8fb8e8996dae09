"""Dates and times in words: one module, always on the site's clock."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from django.utils import translation

from kyphos import when


def test_staff_forms_are_unambiguous_and_name_a_foreign_zone() -> None:
    moment = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in New York, 08:00 in Chicago
    assert when.staff_when(moment, "America/New_York") == "Mon 07-Dec-2026 09:00"
    assert when.staff_when(moment, "America/Chicago") == "Mon 07-Dec-2026 08:00 CST"
    assert when.staff_when(moment, "America/Chicago", zone=False) == "Mon 07-Dec-2026 08:00"
    assert when.staff_day(moment, "America/Chicago") == "Mon 07-Dec-2026" and when.staff_when(None) == "—"
    assert when.staff_time(moment, "America/Chicago") == "08:00"


def test_the_sites_day_is_its_own_even_after_midnight_utc() -> None:
    late = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)  # Monday 22:30 in New York
    assert when.local_day(late, "America/New_York") == date(2026, 12, 7)
    with time_machine.travel(late, tick=False):
        assert when.today("America/New_York") == date(2026, 12, 7) and when.today("UTC") == date(2026, 12, 8)


def test_patients_read_dates_in_their_own_language_and_word_order() -> None:
    day = date(2030, 1, 14)
    assert when.long_date(day, "en") == "Monday 14 January 2030"
    assert when.long_date(day, "es") == "lunes 14 de enero de 2030"
    assert when.short_date(day, "es") == "lunes 14 de enero" and when.weekday_name(day, "es") == "lunes"
    assert when.time_words(datetime(2030, 1, 14, 12, 5, tzinfo=UTC), "America/New_York") == "07:05"


def test_staff_dates_take_the_sites_language_and_keep_their_shape() -> None:
    moment = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    with translation.override("es"):
        assert when.staff_when(moment, "America/New_York") == "lun 07-Dic-2026 08:00"
        assert when.staff_date(date(1948, 3, 14)) == "14-Mar-1948"
    assert when.staff_date(date(1948, 8, 14)) == "14-Aug-1948"


def test_a_length_of_stay_in_hours_and_minutes() -> None:
    assert when.duration(timedelta(days=1, hours=3, minutes=30)) == "27 h 30 min"
    assert when.duration(timedelta(minutes=5)) == "0 h 05 min" and when.duration(None) == "—"
