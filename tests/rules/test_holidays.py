from datetime import date

from kyphos.rules.holidays import us_federal_holidays


def test_2026_federal_holidays_with_observed_days() -> None:
    days = dict(us_federal_holidays(2026))
    assert date(2026, 1, 1) in days
    assert date(2026, 1, 19) in days  # MLK: third Monday of January
    assert date(2026, 5, 25) in days  # Memorial Day: last Monday of May
    assert date(2026, 7, 3) in days  # July 4 is a Saturday: observed Friday
    assert date(2026, 11, 26) in days  # Thanksgiving: fourth Thursday
    assert date(2026, 12, 25) in days
    assert len(days) == 11


def test_2027_observed_days() -> None:
    days = dict(us_federal_holidays(2027))
    assert date(2027, 6, 18) in days  # Juneteenth on Saturday → Friday
    assert date(2027, 7, 5) in days  # July 4 on Sunday → Monday
    assert date(2027, 12, 24) in days  # Christmas on Saturday → Friday
    assert date(2027, 11, 25) in days
