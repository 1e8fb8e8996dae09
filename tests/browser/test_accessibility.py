"""Every page of the pathway passes axe-core's WCAG 2.1 A and AA rules with no violation at all (any impact), in
English and in Spanish: the staff pages at a desk's width, the patient's pages on a phone. The pages are those of
the demo department, opened by the role that works there (tests/browser/tour.py). None of them uses anything the
Content Security Policy refuses."""

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from kyphos.demo.department import demo_password
from tests.browser import tour
from tests.browser.axe import violations

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo_password(username))
    page.locator("form button[type=submit]").click()
    expect(page.locator("header.top .me form")).to_have_count(1)


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_page_of_the_pathway_has_no_accessibility_violation(
    page: Page, live_server: Any, transactional_db: Any, language: str
) -> None:
    settings.LANGUAGE_CODE = language
    call_command("demo", "--seed", "7", verbosity=0)
    found: dict[str, list[str]] = {}
    refused: list[str] = []  # anything the Content Security Policy blocked (an inline script or style)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    current = None
    for stop in tour.staff_stops():
        page.set_viewport_size({"width": tour.STAFF_WIDTH, "height": 900})
        if stop.user != current:
            page.context.clear_cookies()
            if stop.user:
                sign_in(page, live_server.url, stop.user)
            current = stop.user
        response = page.goto(live_server.url + stop.path)
        assert response is not None and response.status == 200, f"{stop.name}: {response and response.status}"
        found[stop.name] = violations(page)
    page.context.clear_cookies()
    for stop in tour.patient_stops():
        page.set_viewport_size({"width": tour.PHONE_WIDTH, "height": 800})
        response = page.goto(live_server.url + stop.path)
        assert response is not None and response.status == 200, f"{stop.name}: {response and response.status}"
        found[stop.name] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}
    assert refused == []
