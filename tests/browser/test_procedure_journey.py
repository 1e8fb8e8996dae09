"""Issue 4's journey so far: admission with labs, the checklist, two levels with the cement countdown, the note."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kyphos import clock
from kyphos.rules.windows import follow_up_window
from tests.browser.test_journey import sign_in, sign_out
from tests.conftest import NEW_YORK, advance, next_business_monday

pytestmark = pytest.mark.browser


def tick_all(page: Page, part: str) -> None:
    for box in page.locator(f"#checklist-{part} input[type=checkbox]").all():
        box.check()


def test_the_procedure_day(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    people: dict[str, Any],
    site: Any,
    make_case: Any,
    actors: dict[str, Any],
    settings: Any,
) -> None:
    # The clock jumps 20 minutes between levels while the radiologist stays on the page: not idle at the table.
    settings.KYPHOS_IDLE_MINUTES = 60
    site.idle_minutes = 60  # the site's own limit, which the hospital-wide one only caps
    site.save()
    monday = next_business_monday(site.calendar(), clock.now().astimezone(NEW_YORK).date())
    start = datetime.combine(monday, time(8), tzinfo=NEW_YORK)
    case = make_case("scheduled", start=start)
    case = advance(case, actors, "precall_done")  # the call, signed on the Friday before
    base = live_server.url

    with time_machine.travel(start - timedelta(minutes=85), tick=True) as traveller:
        # The ward nurse admits the patient from the day list and enters INR 1.3 and platelets 180.
        sign_in(page, base, "t_ward_nurse")
        page.get_by_role("link", name="Day list").click()
        row = page.locator("#day tr", has_text="TESTWOMAN, Ada")
        expect(row).to_contain_text("Not arrived")
        row.get_by_role("link", name="Admission").click()
        for label in (
            "Identity band on and checked",
            "Consent signed",
            "Allergies re-confirmed",
            "Driver confirmed today",
            "IV access in place",
            "Medicine plan followed (last doses checked against the plan)",
        ):
            page.get_by_label(label).check()
        page.get_by_label("Last clear drink").fill((start - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Admit").click()
        expect(page.locator(".messages")).to_contain_text("Admitted")
        for test, value in (("inr", "1.3"), ("platelets", "180"), ("hemoglobin", "12.4")):
            page.locator("#lab-form").get_by_label("Test").select_option(test)
            page.locator("#lab-form").get_by_label("Value").fill(value)
            page.locator("#lab-form").get_by_role("button", name="Add result").click()
            expect(page.locator(".messages")).to_contain_text("Lab result recorded")
        expect(page.locator("#labs")).to_contain_text("6301-6")
        expect(page.locator("#labs")).to_contain_text("777-3")
        sign_out(page)

        # The radiologist signs sign-in and time-out, starts, and records T12 then L1.
        traveller.move_to(start - timedelta(minutes=10))
        sign_in(page, base, "t_radiologist")
        page.goto(f"{base}/cases/{case.uuid}/procedure/")
        tick_all(page, "sign_in")
        page.get_by_role("button", name="Sign sign-in (before sedation)").click()
        tick_all(page, "time_out")
        page.get_by_role("button", name="Sign time-out (before the needle)").click()
        expect(page.locator("#ready-h")).to_have_count(0)  # nothing stands between the patient and the needle
        page.get_by_label("Operator(s)").fill("Dr Rita Radiologist")
        page.get_by_role("button", name="Start the procedure").click()
        expect(page.locator("h1 .stage")).to_have_text("In procedure")

        for name, minutes in (("T12", 5), ("L1", 25)):
            traveller.move_to(start + timedelta(minutes=minutes))
            form = page.locator("#level-form")
            # The level list opens on the next planned level not yet treated.
            expect(form.get_by_role("combobox", name="Level", exact=True)).to_have_value(name)
            form.get_by_label("Cement lot").fill("LOT-7781")
            form.get_by_label("Cement mixed at").fill(
                (start + timedelta(minutes=minutes - 1)).strftime("%Y-%m-%dT%H:%M")
            )
            form.get_by_label("Cement left (mL)").fill("2.4")
            form.get_by_label("Cement right (mL)").fill("2.6")
            form.get_by_role("button", name="Record this level").click()
            expect(page.locator("#levels")).to_contain_text(name)
        # L1's cement was mixed a minute ago: about 7½ minutes of working time remain, on the server's clock.
        timers = page.locator(".cement-timer")
        expect(timers.last).to_contain_text("Workable: 7:")
        expect(timers.first).to_contain_text("Expected set")  # T12's cement, mixed 21 minutes ago

        traveller.move_to(start + timedelta(minutes=50))
        page.reload()
        end = page.locator("#end-form")
        end.get_by_label("Procedure end").fill((start + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"))
        end.get_by_label("Fluoroscopy time (s)").fill("260")
        end.get_by_role("button", name="End the procedure").click()
        expect(page.locator("#coding")).to_contain_text("CPT 22513 + 22515")
        tick_all(page, "sign_out")
        page.get_by_role("button", name="Sign sign-out (before leaving the room)").click()
        # The note opens prefilled from the record; the radiologist rewrites the impression, then signs.
        expect(page.get_by_label("Approach and technique")).to_contain_text("1. T12, bilateral")
        page.get_by_label("Impression").fill("Two-level kyphoplasty, T12 and L1, good fill without leakage.")
        page.get_by_role("button", name="Sign the note").click()
        expect(page.locator(".note-body")).to_contain_text("Two-level kyphoplasty, T12 and L1, good fill")
        expect(page.locator(".note-body")).to_contain_text("CPT 22513 + 22515")
        expect(page.locator(".note-body")).to_contain_text("1. T12, bilateral")
        page.get_by_label("Addendum").fill("L1: small asymptomatic venous trace on the final image.")
        page.get_by_role("button", name="Add addendum").click()
        expect(page.locator(".addendum")).to_contain_text("venous trace")
        expect(page.locator(".note-body")).to_contain_text("1. T12, bilateral")  # the note itself is unchanged

        sign_out(page)

        # Recovery: the ward nurse records checks, sends the patient to the ward, and discharges the next day.
        traveller.move_to(start + timedelta(minutes=60))
        sign_in(page, base, "t_ward_nurse")
        page.goto(f"{base}/cases/{case.uuid}/recovery/")
        for _ in range(2):
            page.get_by_label("Leg strength as before").check()
            page.get_by_label("Leg sensation as before").check()
            page.get_by_label("Pain (0–10)").fill("3")
            page.get_by_role("button", name="Record the check").click()
            expect(page.locator(".messages")).to_contain_text("Saved")
        expect(page.locator("#checks tbody tr")).to_have_count(2)
        traveller.move_to(start + timedelta(minutes=90))
        page.reload()
        expect(page.locator("#overdue")).to_be_visible()  # 15-minute checks until the ward
        page.get_by_label("Bed").fill("Ward 5, bed 12")
        page.get_by_role("button", name="To the ward").click()
        expect(page.locator("#overdue")).to_have_count(0)

        traveller.move_to(start + timedelta(hours=26))  # the next morning: a new shift signs in
        sign_in(page, base, "t_ward_nurse")
        page.goto(f"{base}/cases/{case.uuid}/recovery/")
        page.get_by_label("Pain now (0–10)").fill("2")
        page.get_by_role("button", name="Record pain").click()
        for label in (
            "Walking safely",
            "Pain controlled on oral medicine",
            "Passing urine",
            "Legs: strength and sensation as before",
        ):
            page.get_by_label(label).check()
        page.get_by_role("button", name="Discharge").click()
        expect(page.locator("h1 .stage")).to_have_text("Discharged")
        window = follow_up_window(start, site.calendar())
        visit_text = page.locator("#visit").inner_text()
        first_day = window.start.astimezone(NEW_YORK)
        assert f"{first_day:%a %d-%b-%Y}" in visit_text  # the first free slot, day 7 of the 7–14 day window
        page.get_by_role("link", name="print (HTML)").click()
        expect(page.locator("h1")).to_have_text("Going home after your kyphoplasty")
        expect(page.locator("body")).to_contain_text("Call 911")
