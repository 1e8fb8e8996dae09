"""Each place where the pathway questions the unsafe or the untrue, walked in the browser as its users meet it: the
stop decision, booking help, early discharge, a follow-up outside its window, cement declared set too soon,
messages that stopped being true, the patient's link, and the day list. Each refusal is checked with axe-core too."""

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kyphos.demo.builder import ROUTINE_CALL, Journey
from kyphos.messaging import links, outbox, reminders
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway.models import Case
from tests.browser.axe import violations
from tests.browser.test_journey import sign_in, sign_out
from tests.browser.test_patient_journey import answer_the_visit
from tests.conftest import MONDAY, NEW_YORK, advance, case_at

pytestmark = pytest.mark.browser
FEVER = Journey(call={**ROUTINE_CALL, "fever_or_infection": True})
FRIDAY = datetime(2030, 1, 4, 14, tzinfo=NEW_YORK)  # the afternoon of the call, three days before MONDAY 08:00


def local_input(moment: datetime) -> str:
    return moment.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")


def timeline(page: Page) -> Any:
    return page.locator("section", has=page.get_by_role("heading", name="Timeline"))


def timeline_on_case(page: Page, base: str, case: Any) -> Any:
    page.goto(f"{base}/cases/{case.uuid}/")
    return timeline(page)


def test_a_stop_is_decided_once_and_carried_to_the_start(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "precall_done", FEVER)  # the call reported a fever: a stop on the case
    with time_machine.travel(FRIDAY, tick=True) as traveller:
        sign_in(page, live_server.url, "t_radiologist")
        page.locator("#due tr", has_text="TESTWOMAN, Ada").get_by_role("link", name="TESTWOMAN, Ada").click()
        decide = page.locator("#decide")
        expect(decide).to_contain_text("Proceed with a reason, postpone or cancel")
        expect(page.locator("summary", has_text="Postpone")).to_have_count(1)
        expect(page.locator("summary", has_text="Cancel the case")).to_have_count(1)
        decide.get_by_role("button", name="Proceed").click()
        reason = page.get_by_label("Why the case proceeds despite the stop")
        expect(page.locator(".error-summary")).to_be_visible()  # a decision without a reason is not taken
        expect(reason).to_have_accessible_description("Fill this in.")
        assert violations(page) == []  # the error state is as accessible as the page
        reason.fill("Afebrile today; the GP excluded infection")
        decide.get_by_role("button", name="Proceed").click()
        expect(page.locator("#decide")).to_have_count(0)
        expect(timeline(page)).to_contain_text("the GP excluded infection")
        sign_out(page)

        # Admission and the morning: the start asks nothing again.
        case = advance(Case.objects.get(pk=case.pk), actors, "cleared", FEVER)
        traveller.move_to(MONDAY - timedelta(minutes=10))
        sign_in(page, live_server.url, "t_radiologist")
        page.goto(f"{live_server.url}/cases/{case.uuid}/procedure/")
        ready = page.locator("section", has=page.get_by_role("heading", name="Before the needle"))
        expect(ready.locator(".finding", has_text="fever")).to_contain_text("Decided")
        expect(ready.locator(".finding", has_text="fever")).to_contain_text("the GP excluded infection")
        page.get_by_label("Operator(s)").fill("Dr Rita Radiologist")
        page.get_by_role("button", name="Start the procedure").click()
        expect(page.locator("h1 .stage")).to_have_text("In procedure")


def test_booking_shows_free_times_and_asks_why_outside_the_hours(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any
) -> None:
    thursday = datetime(2030, 1, 3, 10, tzinfo=NEW_YORK)
    with time_machine.travel(thursday, tick=True):
        case = make_case("triaged")
        sign_in(page, live_server.url, "t_scheduler")
        page.goto(f"{live_server.url}/cases/{case.uuid}/")
        page.get_by_role("link", name="Book the procedure").click()
        page.get_by_label("Room").select_option(label="IR Suite 1")
        page.get_by_label("Date").fill("2030-01-07")
        with page.expect_response(lambda r: "/book/plan/" in r.url):
            page.get_by_label("Date").press("Tab")
        help_box = page.locator("#booking-help")
        expect(help_box).to_contain_text("Free in IR Suite 1 on Mon 07-Jan-2030")
        expect(help_box).to_contain_text("07:00–17:00")
        page.get_by_label("Start time").fill("20:10")
        with page.expect_response(lambda r: "/book/plan/" in r.url):
            page.get_by_label("Start time").press("Tab")
        expect(help_box).to_contain_text("outside the site's hours that day (07:00–17:00)")
        page.get_by_role("button", name="Book", exact=True).click()
        expect(page.locator(".error-summary")).to_contain_text("outside the site's hours")
        assert Case.objects.get(pk=case.pk).appointment is None
        assert violations(page) == []
        page.get_by_label("Reason to book anyway (only when the page warns)").fill("On-call team, emergency list")
        page.get_by_role("button", name="Book", exact=True).click()
        expect(page.locator(".appt")).to_contain_text("Mon 07-Jan-2030 20:10")
        expect(timeline(page)).to_contain_text("On-call team, emergency list")


def test_discharge_minutes_after_the_end_needs_a_radiologists_reason(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "recovery")
    ended = case.procedure.ended_at
    recovery = f"{live_server.url}/cases/{case.uuid}/recovery/"
    with time_machine.travel(ended + timedelta(minutes=3), tick=True):
        sign_in(page, live_server.url, "t_ward_nurse")
        page.goto(recovery)
        page.get_by_label("Leg strength as before").check()
        page.get_by_label("Leg sensation as before").check()
        page.get_by_role("button", name="Record the check").click()
        early = page.locator("#too-early")
        expect(early).to_contain_text("the site's minimum is 4 h")
        expect(early).to_contain_text("the site asks for 2")
        for box in page.locator("#discharge-form input[type=checkbox]").all():
            box.check()
        page.get_by_role("button", name="Discharge", exact=True).click()
        expect(page.locator(".error-summary")).to_contain_text("A radiologist may discharge earlier with a reason")
        expect(page.locator("h1 .stage")).to_have_text("Recovery")
        assert violations(page) == []
        sign_out(page)

        sign_in(page, live_server.url, "t_radiologist")
        page.goto(recovery)
        for box in page.locator("#discharge-form input[type=checkbox]").all():
            box.check()
        page.get_by_label("Reason to discharge earlier (radiologist, only when the page asks)").fill(
            "Transferred to the orthopaedic ward for observation"
        )
        page.get_by_role("button", name="Discharge", exact=True).click()
        expect(page.locator("h1 .stage")).to_have_text("Discharged")
        expect(timeline_on_case(page, live_server.url, case)).to_contain_text("orthopaedic ward for observation")


def test_a_follow_up_visit_a_week_early_asks_why(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3, hours=2), tick=True):
        sign_in(page, live_server.url, "t_radiologist")
        page.goto(f"{live_server.url}/cases/{case.uuid}/follow-up/")
        answer_the_visit(page, pain=2)
        page.get_by_label("Discharge from the kyphoplasty service").check()
        page.get_by_role("button", name="Record the visit").click()
        expect(page.locator(".error-summary")).to_contain_text("the 7–14-day follow-up window opens Mon 14-Jan-2030")
        expect(page.get_by_label("Pain today (0–10)")).to_have_value("2")  # nothing typed is lost
        assert violations(page) == []
        page.get_by_label("Reason to record the visit outside the 7–14-day window (only when the page asks)").fill(
            "Moving abroad on Friday"
        )
        page.get_by_role("button", name="Record the visit").click()
        expect(page.locator(".messages")).to_contain_text("Follow-up visit recorded")
        expect(timeline_on_case(page, live_server.url, case)).to_contain_text("Moving abroad on Friday")


def test_cement_declared_set_in_the_minute_it_was_mixed_is_questioned(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "in_procedure")
    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=True):
        sign_in(page, live_server.url, "t_radiologist")
        page.goto(f"{live_server.url}/cases/{case.uuid}/procedure/")
        form = page.locator("#level-form")
        form.get_by_label("Cement lot").fill("LOT-1")
        form.get_by_label("Cement mixed at").fill(local_input(MONDAY + timedelta(minutes=5)))
        form.get_by_label("Cement left (mL)").fill("2")
        form.get_by_label("Cement right (mL)").fill("2")
        form.get_by_role("button", name="Record this level").click()
        expect(page.locator("#levels")).to_contain_text("T12")
        page.locator("#levels").get_by_role("button", name="Cement set").click()
        expect(page.locator(".messages")).to_contain_text("declared set 0 h 00 min after mixing")
        expect(page.locator(".messages")).to_contain_text("sets about 13 min after mixing")
        expect(timeline_on_case(page, live_server.url, case)).to_contain_text("Cement at T12 declared set")


def test_a_reminder_that_stopped_being_true_is_withdrawn(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    people: dict[str, Any],
    make_case: Any,
    actors: dict[str, Any],
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.KYPHOS_SMS_DIR = str(tmp_path / "sms")
    due = datetime(2030, 1, 4, 10, tzinfo=NEW_YORK)  # the reminder three days before, on the call's Friday
    case = make_case("scheduled", start=MONDAY)
    with time_machine.travel(due, tick=False):
        reminders.derive()
    OutboxMessage.objects.filter(case=case).exclude(purpose="appointment_reminder").update(status="sent")
    assert "A nurse will call you" in OutboxMessage.objects.get(case=case, purpose="appointment_reminder").body
    advance(case, actors, "precall_done")  # the call is made before the worker gets to the reminder
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        outbox.process_one(check=reminders.current_message)  # the worker's next step
    with time_machine.travel(due + timedelta(minutes=5), tick=True):
        sign_in(page, live_server.url, "t_nurse")
        page.goto(f"{live_server.url}/cases/{case.uuid}/")
        page.get_by_text("Messages to the patient").click()
        reminder = page.locator("#case-messages li", has_text="appointment reminder ·")
        expect(reminder).to_contain_text("Cancelled")
    assert not list((tmp_path / "sms").glob("*"))  # nothing reached the patient's phone


def test_the_patients_link_state_and_resend(
    page: Page, live_server: Any, transactional_db: Any, people: dict[str, Any], make_case: Any
) -> None:
    case = make_case("scheduled")
    sign_in(page, live_server.url, "t_nurse")
    page.goto(f"{live_server.url}/cases/{case.uuid}/")
    pages = page.locator("#patient-pages")
    expect(pages).to_contain_text("No link issued yet")
    pages.get_by_text("Issue or revoke the link").click()
    pages.get_by_role("button", name="Issue a new link and send it").click()
    pages = page.locator("#patient-pages")
    expect(pages).to_contain_text("Link active until")
    expect(pages).to_contain_text("not opened yet")
    expect(pages).to_contain_text("by Text message")
    link = links.current_link(case)
    assert link is not None and links.path_for(link) not in page.content()  # the token stays hidden
    page.get_by_role("button", name="Send the link again").click()
    expect(page.locator(".messages")).to_be_visible()
    assert OutboxMessage.objects.filter(case=case, body__contains=links.path_for(link)).count() == 2
    assert links.current_link(case).pk == link.pk  # the same link, sent again


def test_the_day_list_opens_where_the_patients_are_and_shows_recovery(
    page: Page,
    live_server: Any,
    transactional_db: Any,
    people: dict[str, Any],
    make_case: Any,
    actors: dict[str, Any],
    other_site: Any,
) -> None:
    case = case_at(make_case, actors, "recovery")  # treated yesterday, still in hospital (about 24 h)
    with time_machine.travel(MONDAY + timedelta(days=1, hours=1), tick=True):
        sign_in(page, live_server.url, "t_ward_nurse")
        page.get_by_role("link", name="Day list").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(case.site.name)
        row = page.locator("#day tr", has_text="TESTWOMAN, Ada")
        expect(row).to_contain_text("Recovery")
        page.get_by_label("Site").select_option(other_site.code)
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(other_site.name)
        page.get_by_role("link", name="Day list").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(other_site.name)  # the choice is remembered
