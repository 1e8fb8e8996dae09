"""The foundation journey in a real browser: referral → triage → booking → the nurse's call worklist."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kyphos import clock
from kyphos.pathway.models import Case
from kyphos.patients.models import Patient
from tests.conftest import NEW_YORK, next_business_monday

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_referral_to_call_worklist(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], site: Any
) -> None:
    base = live_server.url
    monday = next_business_monday(site.calendar(), clock.now().astimezone(NEW_YORK).date())
    wednesday = datetime.combine(monday - timedelta(days=5), time(10, 0), tzinfo=NEW_YORK)
    friday_morning = datetime.combine(monday - timedelta(days=3), time(8, 15), tzinfo=NEW_YORK)

    with time_machine.travel(wednesday, tick=True) as traveller:
        # The scheduler enters a referral for a new patient with two levels; a typo is caught first.
        sign_in(page, base, "t_scheduler")
        page.get_by_role("link", name="New referral").click()
        # The existing patient's MRN field shows only when "Existing patient" is chosen.
        expect(page.get_by_label("MRN of the existing patient")).to_be_hidden()
        page.get_by_label("Existing patient (by MRN)").check()
        expect(page.get_by_label("MRN of the existing patient")).to_be_visible()
        expect(page.get_by_label("Family name")).to_be_hidden()
        page.get_by_label("New patient").check()
        expect(page.get_by_label("MRN of the existing patient")).to_be_hidden()
        page.get_by_role("textbox", name="MRN", exact=True).fill("H424242")
        page.get_by_label("Family name").fill("Quintero")
        page.get_by_label("Given name").fill("Rosa")
        page.get_by_label("Date of birth").fill("1941-06-02")
        page.get_by_label("Mobile phone").fill("+1 555 0142 7788")
        page.get_by_label("Referring clinician").fill("Dr Lindqvist")
        page.get_by_label("Cause of the fracture").select_option("osteoporosis")
        page.get_by_label("Pain now (0–10)").fill("8")
        page.get_by_label("Weeks of non-surgical care tried").fill("8")
        page.get_by_label("Pain over the last weeks").select_option("worsening")
        # Levels are picked from a list; one empty row shows, "Add another level" opens the next.
        page.get_by_label("Level 1", exact=True).select_option("T12")
        page.get_by_label("Edema 1").select_option("yes")
        expect(page.get_by_label("Level 2", exact=True)).to_be_hidden()
        page.get_by_role("button", name="Add another level").click()
        page.get_by_label("Level 2", exact=True).select_option("T12")
        page.get_by_label("Edema 2").select_option("yes")
        page.get_by_role("button", name="Save referral").click()
        expect(page.get_by_role("alert")).to_contain_text("T12 is already listed")
        assert not Patient.objects.exists()
        expect(page.get_by_label("Family name")).to_have_value("Quintero")  # nothing typed is lost
        expect(page.get_by_label("Level 2", exact=True)).to_be_visible()  # the row with the error stays in sight
        expect(page.get_by_label("Level 4", exact=True)).to_be_hidden()  # one spare row (3), no more
        page.get_by_label("Level 2", exact=True).select_option("L1")
        page.get_by_role("button", name="Save referral").click()
        expect(page.locator(".banner-name")).to_have_text("QUINTERO, Rosa")
        expect(page.locator("h1 .stage")).to_have_text("Referred")
        case = Case.objects.get()
        assert case.level_names == ["T12", "L1"]
        sign_out(page)

        # The radiologist finds it in the triage worklist and calls it eligible.
        sign_in(page, base, "t_radiologist")
        row = page.locator("#due tr", has_text="QUINTERO, Rosa")
        expect(row).to_contain_text("Triage the referral")
        row.get_by_role("link", name="QUINTERO, Rosa").click()
        page.get_by_label("Eligible", exact=True).check()
        page.get_by_label("Reason / note").fill("Acute T12 and L1 with edema; pain 8/10.")
        page.get_by_role("button", name="Record triage decision").click()
        expect(page.locator("h1 .stage")).to_have_text("Triaged – eligible")
        sign_out(page)

        # The scheduler books it for next Monday 08:00.
        sign_in(page, base, "t_scheduler")
        page.locator("#due tr", has_text="QUINTERO, Rosa").get_by_role("link").click()
        page.get_by_role("link", name="Book the procedure").click()
        page.get_by_label("Room").select_option(label="IR Suite 1")
        page.get_by_label("Date").fill(monday.isoformat())
        with page.expect_response(lambda r: "/book/plan/" in r.url):
            page.get_by_label("Date").press("Tab")  # the booking help answers each change
        page.get_by_label("Start time").fill("08:00")
        with page.expect_response(lambda r: "/book/plan/" in r.url):
            page.get_by_label("Start time").press("Tab")
        page.get_by_role("button", name="Book", exact=True).click()
        expect(page.locator(".appt")).to_contain_text(f"Procedure {monday:%a %d-%b-%Y} 08:00")
        sign_out(page)

        # Thursday: the call is upcoming, not yet due.
        traveller.move_to(friday_morning - timedelta(days=1))
        sign_in(page, base, "t_nurse")
        expect(page.locator("#due")).to_have_count(0)
        expect(page.locator("#upcoming tr", has_text="QUINTERO, Rosa")).to_contain_text("Pre-procedure call")
        sign_out(page)

        # Friday morning: the call is due now in the nurse's worklist, with the phone and the procedure time.
        traveller.move_to(friday_morning)
        sign_in(page, base, "t_nurse")
        row = page.locator("#due tr", has_text="QUINTERO, Rosa")
        expect(row).to_contain_text("Pre-procedure call")
        expect(row).to_contain_text("+1 555 0142 7788")
        expect(row).to_contain_text(f"{monday:%a %d-%b-%Y} 08:00")
        expect(row).not_to_contain_text("Overdue")


def test_worklist_sorts_by_column_from_the_keyboard(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], site: Any, make_case: Any
) -> None:
    monday = next_business_monday(site.calendar(), clock.now().astimezone(NEW_YORK).date())
    early = make_case("scheduled", start=datetime.combine(monday, time(8), tzinfo=NEW_YORK))
    late = make_case("scheduled", start=datetime.combine(monday, time(13), tzinfo=NEW_YORK))
    Patient.objects.filter(pk=early.patient.pk).update(family_name="Zeta")
    Patient.objects.filter(pk=late.patient.pk).update(family_name="Alpha")
    with time_machine.travel(datetime.combine(monday - timedelta(days=3), time(9), tzinfo=NEW_YORK), tick=True):
        sign_in(page, live_server.url, "t_nurse")
        names = page.locator("#due tbody tr td:nth-child(3)")
        expect(names).to_have_text(["ZETA, Ada", "ALPHA, Ada"])  # same window: by deadline, then by booking
        header = page.locator("#due thead").get_by_role("button", name="Patient")
        header.focus()
        page.keyboard.press("Enter")
        expect(names).to_have_text(["ALPHA, Ada", "ZETA, Ada"])
        expect(page.locator("#due thead th", has_text="Patient")).to_have_attribute("aria-sort", "ascending")
        page.keyboard.press("Enter")
        expect(names).to_have_text(["ZETA, Ada", "ALPHA, Ada"])
