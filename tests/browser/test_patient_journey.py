"""Issue 5's journeys in a real Chromium: the patient's pages on a phone, the diary's emergency message and the
nurse's urgent task, the radiologist's follow-up visit; axe-core checks the patient pages (WCAG 2.1 AA)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kyphos.aftercare import diary
from kyphos.messaging import links
from kyphos.pathway.stages import Stage
from kyphos.precall.models import PatientChecklist
from tests.browser.axe import violations
from tests.browser.test_journey import sign_in
from tests.conftest import CALM, MONDAY, case_at, diary_entry, patient_actor

pytestmark = pytest.mark.browser
PATIENT = patient_actor()
PHONE = {"width": 375, "height": 740}


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA findings."""
    return violations(page, frozenset({"serious", "critical"}))


def test_before_the_procedure_on_a_phone(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    make_case: Any,
    actors: dict[str, Any],
    tmp_path: Path,
) -> None:
    case = make_case("scheduled")
    url = live_server.url + links.path_for(links.issue(actors["scheduler"], case))
    page.set_viewport_size(PHONE)
    page.goto(url)
    # Every new link asks the date of birth first, as three boxes.
    expect(page.get_by_role("heading", name="Please confirm who you are")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("3")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert").or_(page.locator(".p-error"))).to_contain_text("day, month and year")
    expect(page.get_by_label("Day")).to_have_value("14")  # what was typed stays
    page.get_by_label("Year").fill("1948")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Hello Ada")).to_be_visible()
    expect(page.get_by_text("Please arrive at")).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_role("link", name="Open your checklist").click()
    page.get_by_label("A driver is arranged to take me home").check()
    page.get_by_label("I understand when to stop eating and drinking").check()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    ticks = PatientChecklist.objects.get(case=case)
    assert ticks.driver and ticks.fasting and not ticks.imaging

    page.get_by_role("link", name="Back to your page").click()
    expect(page.get_by_text("2 of 4 done")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to my calendar").click()
    text = Path(download.value.path()).read_text()
    assert "BEGIN:VCALENDAR" in text and "Kyphoplasty at Riverside General" in text

    page.get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", name="Hola Ada")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert serious_violations(page) == []


def test_the_diary_emergency_reaches_the_nurse_first(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    make_case: Any,
    actors: dict[str, Any],
    people: dict[str, Any],
) -> None:
    case = case_at(make_case, actors, "discharged")
    # Something else is long overdue for the nurse: the urgent task must still come first.
    other = make_case("scheduled", start=MONDAY + timedelta(days=1))
    with time_machine.travel(MONDAY + timedelta(days=2, hours=10), tick=True) as traveller:
        url = live_server.url + links.path_for(links.issue(actors["scheduler"], case, require_dob=False))
        page.set_viewport_size(PHONE)
        page.goto(url)
        page.get_by_role("link", name="Write today's diary entry").click()
        assert serious_violations(page) == []
        page.get_by_role("radio", name="3", exact=True).check()
        page.get_by_label("Only ones like paracetamol").check()
        page.get_by_label("A little worse than before the fracture").first.check()
        page.locator("input[name=activities][value=bit_worse]").check()
        for box in page.locator(".p-flag input[value=no]").all():
            box.check()
        page.get_by_role("button", name="Send my diary entry").click()
        expect(page.get_by_role("status")).to_contain_text("Your entry is saved")

        traveller.shift(timedelta(days=1))
        page.goto(url + "diary/")
        page.get_by_role("button", name="Send my diary entry").click()  # nothing answered: errors, nothing saved
        expect(page.get_by_role("alert")).to_contain_text("Please check your answers")
        assert diary.entries(case).__len__() == 1
        page.get_by_role("radio", name="6", exact=True).check()
        page.locator("input[name=pain_medicines][value=opioid]").check()
        page.locator("input[name=walking][value=much_worse]").check()
        page.locator("input[name=activities][value=much_worse]").check()
        for box in page.locator(".p-flag input[value=no]").all():
            box.check()
        page.locator("#flag_leg_weakness_or_numbness-yes").check()
        page.get_by_role("button", name="Send my diary entry").click()
        emergency = page.get_by_role("alertdialog")
        expect(emergency).to_be_visible()
        expect(emergency.get_by_role("heading")).to_have_text("Call 911 now")
        box = emergency.bounding_box()
        assert box is not None and box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1
        assert serious_violations(page) == []

        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, live_server.url, "t_nurse")
        first = page.locator("#due tbody tr").first
        expect(first).to_contain_text("Urgent")
        expect(first).to_contain_text("Diary red flag: call the patient now")
        expect(first).to_contain_text("TESTWOMAN, Ada")
        expect(page.locator("#due tbody tr", has_text="Pre-procedure call")).to_have_count(1)
        assert other.stage == Stage.SCHEDULED
        first.get_by_role("link", name="Diary red flag: call the patient now").click()
        expect(page.locator("#entries tbody tr")).to_have_count(2)
        expect(page.locator("#pain-table")).to_contain_text("Are your legs newly weak or numb?")


def answer_the_visit(page: Page, pain: int) -> None:
    """The visit's own questions and the questionnaire, for a patient doing well."""
    page.get_by_label("Pain today (0–10)").fill(str(pain))
    page.get_by_label("None since discharge").check()
    page.locator("#questionnaire input[name=q_pain]").fill(str(pain))
    page.locator("#questionnaire input[name=q_pain_medicines][value=none]").check()
    page.locator("#questionnaire input[name=q_walking][value=as_before]").check()
    page.locator("#questionnaire input[name=q_activities][value=as_before]").check()


def test_the_follow_up_visit(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    make_case: Any,
    actors: dict[str, Any],
    people: dict[str, Any],
) -> None:
    case = case_at(make_case, actors, "discharged")
    for day, pain in ((1, 5), (2, 4), (3, 2)):
        with time_machine.travel(MONDAY + timedelta(days=day, hours=10)):
            diary.record_entry(PATIENT, case, diary_entry({**CALM, "pain": str(pain)}))
    with time_machine.travel(MONDAY + timedelta(days=7, hours=1), tick=True):
        sign_in(page, live_server.url, "t_radiologist")
        page.get_by_role("link", name="Follow-up").first.click()
        page.locator("#booked tr", has_text="TESTWOMAN, Ada").get_by_role("link", name="Open the visit").click()
        chart = page.locator(".pain-chart svg")
        expect(chart).to_be_visible()
        expect(chart.locator("circle")).to_have_count(4)  # the referral, then diary days 1, 2 and 3
        expect(page.locator("#pain-table")).to_contain_text("before")
        answer_the_visit(page, pain=1)
        page.get_by_label("Refer to physical therapy").check()
        page.get_by_label("Physical therapy: goals and precautions").fill("Core strengthening; no lifting over 5 kg")
        page.get_by_label("Refer for bone density (DXA) and osteoporosis care").check()
        page.get_by_label("Discharge from the kyphoplasty service").check()
        page.get_by_role("button", name="Record the visit").click()
        expect(page.locator(".messages")).to_contain_text("Follow-up visit recorded")
        expect(page.locator("#outcomes")).to_contain_text("1/10")
        with page.context.expect_page() as letter_page:
            page.get_by_role("link", name="print (HTML)").first.click(modifiers=["Control"])
        expect(letter_page.value.get_by_role("heading", name="Referral to physical therapy")).to_be_visible()
        page.get_by_role("button", name="Close the case").click()
        expect(page.locator(".messages")).to_contain_text("Case closed")
        expect(page.locator("h1 .stage")).to_have_text("Closed")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
