"""Message purposes: default timing and text, a site's changes, and changes that are refused."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kyphos.rules.messages import MessageSettingsError, purposes

NY = ZoneInfo("America/New_York")


def test_every_purpose_of_the_issue_is_there_in_both_languages() -> None:
    found = purposes()
    assert set(found) == {
        "booking_confirmation",
        "appointment_reminder",
        "appointment_reminder_after_call",
        "not_reached",
        "early_medicines",
        "diary_prompt",
        "new_link",
        "diary_prompt_before_visit",
        "follow_up_reminder",
        "previsit_questionnaire",
    }
    assert found["diary_prompt"].days == (1, 2, 3, 7)
    assert all(p.text["es"] and p.subject["es"] for p in found.values())


def test_wall_clock_days_do_not_move_across_daylight_saving() -> None:
    # Procedure Friday 6 March 2026, 08:00 New York; clocks go forward on Sunday 8 March.
    reminder = purposes()["diary_prompt"]
    due = reminder.due_at(datetime(2026, 3, 6, 8, tzinfo=NY), NY, day=3)
    assert due == datetime(2026, 3, 9, 10, tzinfo=NY)
    assert due.utcoffset().total_seconds() == -4 * 3600


def test_a_site_may_change_timing_and_words() -> None:
    changed = purposes(
        {
            "appointment_reminder": {"offset_hours": -72, "text_en": "See you on {date}. {link}"},
            "diary_prompt": {"days": [1, 2, 5]},
            "not_reached": {"enabled": False},
        }
    )
    reminder = changed["appointment_reminder"]
    assert reminder.offset_hours == -72 and reminder.offset_days is None
    assert reminder.render("en", {"date": "Monday", "link": "L"})[1] == "See you on Monday. L"
    assert changed["diary_prompt"].days == (1, 2, 5) and not changed["not_reached"].enabled


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"birthday": {}}, "Unknown message purpose"),
        ({"appointment_reminder": {"text_en": "Hi {name}"}}, "uses {name}"),
        ({"appointment_reminder": {"text_en": "Hi {"}}, "unmatched brace"),
        ({"appointment_reminder": {"at": "25:00"}}, "“at” must be a time"),
        ({"diary_prompt": {"days": [1, 1]}}, "days must be"),
        ({"appointment_reminder": {"anchor": "visit"}}, "only"),
        ({"appointment_reminder": {"text_es": ""}}, "text_es is empty"),
    ],
)
def test_bad_site_settings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(MessageSettingsError, match=message):
        purposes(changes)
