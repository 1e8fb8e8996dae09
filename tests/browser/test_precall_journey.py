"""Issue 3's journey: an unanswered attempt, then the call; the plan, findings, tasks and the Spanish letter."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kyphos import clock
from kyphos.pathway.models import TaskKind, TaskStatus
from kyphos.precall.letter import short_date
from tests.browser.test_journey import sign_in
from tests.conftest import NEW_YORK, next_business_monday

pytestmark = pytest.mark.browser


def test_the_nurse_makes_the_call(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], site: Any, make_case: Any
) -> None:
    monday = next_business_monday(site.calendar(), clock.now().astimezone(NEW_YORK).date())
    case = make_case("scheduled", start=datetime.combine(monday, time(8), tzinfo=NEW_YORK))
    case.patient.preferred_language = "es"
    case.patient.save()
    friday = monday - timedelta(days=3)

    # 07:05 on Friday: the window has just opened and apixaban's last safe dose (08:00) is still ahead.
    with time_machine.travel(datetime.combine(friday, time(7, 5), tzinfo=NEW_YORK), tick=True):
        sign_in(page, live_server.url, "t_nurse")
        row = page.locator("#due tr", has_text="TESTWOMAN, Ada")
        expect(row).to_contain_text("Spanish")
        row.get_by_role("link", name="Pre-procedure call").click()
        expect(page.get_by_role("heading", name="Pre-procedure call")).to_be_visible()

        # One unanswered attempt: recorded, and the next try is scheduled.
        page.get_by_label("Outcome of this try").select_option("no_answer")
        page.get_by_role("button", name="Record attempt").click()
        expect(page.locator(".messages")).to_contain_text("Attempt recorded")
        expect(page.locator("#att-h + ul")).to_contain_text("No answer")

        # The nurse takes the call: it is in her name now, and the form opens.
        page.get_by_role("button", name="Take the call and open the form").click()
        expect(page.get_by_role("button", name="Release this call to the queue")).to_be_visible()

        # The call, in the order the nurse talks.
        page.get_by_label("Name and date of birth confirmed with the patient").check()
        page.get_by_label("Medicine 1", exact=True).fill("Eliquis")
        page.get_by_label("Dose 1", exact=True).fill("5 mg")
        page.get_by_label("How often 1", exact=True).select_option("twice-daily")
        page.get_by_label("Taken for 1", exact=True).select_option("af")
        page.get_by_label("Prescriber 1", exact=True).fill("Dr Patel")
        page.get_by_label("Prescriber phone 1", exact=True).fill("+1 555 0199")
        page.get_by_label("Creatinine clearance (mL/min), if known").fill("45")
        page.get_by_label("Allergy 1: kind").select_option("latex")
        page.get_by_label("Allergy 1: substance").fill("Latex gloves")
        page.get_by_label("Allergy 1: reaction").fill("rash")
        page.get_by_label("No driver: the service arranges transport").check()
        page.get_by_label("Bringing it").check()
        page.get_by_label("MRI", exact=True).check()
        page.get_by_label("CD", exact=True).check()
        page.get_by_label("Fasting instructions given").check()
        page.get_by_label("Arrival time and place confirmed").check()
        page.get_by_role("button", name="Save", exact=True).click()

        # The plan: six twice-daily doses before Monday 08:00 (SIR 2019, CrCl < 50), shown as unverified.
        plan = page.locator("#plan")
        last_dose = datetime.combine(monday - timedelta(days=3), time(8))
        expect(plan).to_contain_text(f"{last_dose:%a %d-%b-%Y} 08:00")
        expect(plan).to_contain_text("unverified")
        expect(page.locator(".findings")).to_contain_text("Latex allergy")
        expect(page.locator(".findings")).to_contain_text("No driver arranged")

        page.get_by_role("button", name="Sign the call").click()
        expect(page.locator(".messages")).to_contain_text("Call signed")
        expect(page.locator("h1 .stage")).to_have_text("Pre-call done")
        tasks = page.locator("#k-h + ul")
        expect(tasks).to_contain_text("Arrange transport")
        expect(tasks).to_contain_text("Agree the medicine plan with the prescriber")
        open_kinds = set(case.tasks.filter(status=TaskStatus.OPEN).values_list("kind", flat=True))
        assert {TaskKind.ARRANGE_TRANSPORT, TaskKind.CONTACT_PRESCRIBER} <= open_kinds

        # The letter in Spanish, HTML and PDF, with the right dates.
        last_dose_es = short_date(last_dose.date(), "es")
        page.get_by_role("link", name="print (HTML)").click()
        expect(page.locator("h1")).to_have_text("Su cifoplastia: qué hacer antes de venir")
        expect(page.locator("body")).to_contain_text(f"tome la última dosis el {last_dose_es} por la mañana")
        expect(page.locator("body")).to_contain_text("No la tome el sábado, domingo ni lunes")
        expect(page.locator("body")).to_contain_text("Nosotros organizaremos su transporte")
        pdf = page.request.get(page.url.replace("/letter/", "/letter.pdf"))
        assert pdf.headers["content-type"] == "application/pdf"
        body = pdf.body()
        assert body.startswith(b"%PDF")
        assert last_dose_es.encode("latin-1") in body
