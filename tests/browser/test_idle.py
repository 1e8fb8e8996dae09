"""The idle warning in the browser: a minute before the session's idle time runs out the page asks, and "Stay
signed in" keeps it; typing in the page is activity and renews it without asking."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journey import sign_in

pytestmark = pytest.mark.browser


def test_the_page_warns_a_minute_before_and_stay_keeps_the_session(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any]
) -> None:
    page.clock.install()
    sign_in(page, live_server.url, "t_nurse")
    warning = page.get_by_role("alertdialog", name="Still there?")
    expect(warning).to_be_hidden()
    page.clock.run_for("13:50")
    expect(warning).to_be_hidden()
    page.clock.run_for("00:20")  # 14 min 10 s: one minute before the end
    expect(warning).to_be_visible()
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    with page.expect_response(lambda r: "/session/keep-alive/" in r.url and r.status == 204):
        page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()


def test_typing_in_the_page_counts_as_activity(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any]
) -> None:
    """A nurse typing the call for a quarter of an hour is not idle: the session renews itself, no question asked."""
    page.clock.install()
    sign_in(page, live_server.url, "t_nurse")
    page.clock.run_for("10:00")
    page.keyboard.press("Tab")
    with page.expect_response(lambda r: "/session/keep-alive/" in r.url and r.status == 204):
        page.clock.run_for("04:10")
    expect(page.get_by_role("alertdialog", name="Still there?")).to_be_hidden()
