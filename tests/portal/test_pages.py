"""The patient's pages through HTTP: their own case only, bad links refused, bad input changes nothing."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from kyphos import clock
from kyphos.aftercare import followup
from kyphos.aftercare.models import DiaryEntry, QuestionnaireResponse
from kyphos.audit.models import AuditEntry
from kyphos.messaging import links
from kyphos.pathway.models import Task, TaskKind
from kyphos.precall.models import PatientChecklist
from kyphos.rules import redflags
from tests.accounts import sign_in
from tests.conftest import CALM, MONDAY, case_at, no_flags

pytestmark = pytest.mark.django_db
NO_FLAGS = no_flags()


def url_for(case: Any, actors: dict[str, Any], require_dob: bool = False, **kwargs: Any) -> str:
    """A link straight to the pages (these tests are about the pages; the date-of-birth gate, on by default for
    every site, has its own tests below)."""
    return links.path_for(links.issue(actors["scheduler"], case, require_dob=require_dob, **kwargs))


def diary_post(**changes: str) -> dict[str, str]:
    flags = {f"flag_{k}": v for k, v in NO_FLAGS.items()}
    return {**CALM, **flags, "temperature": "", "note": "", "admitted": "no", **changes}


def test_the_page_shows_the_appointment_and_keeps_the_link_to_itself(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    response = Client().get(url_for(case, actors))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello Ada" in body and "Please arrive at" in body and case.site.phone in body
    assert case.patient.mrn not in body  # nothing the patient does not need
    assert response["Referrer-Policy"] == "same-origin" and response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(
        object_type="patient_page", patient_uuid=case.patient.uuid, username__startswith="patient link"
    ).exists()


def test_spanish_for_a_spanish_speaker(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    case.patient.preferred_language = "es"
    case.patient.save()
    body = Client().get(url_for(case, actors)).content.decode()
    assert 'lang="es"' in body and "Hola Ada" in body and "Por favor llegue a las" in body


def test_ticking_the_checklist_is_seen_by_staff(
    make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any]
) -> None:
    case = make_case("scheduled")
    base = url_for(case, actors)
    response = Client().post(base + "checklist/", {"driver": "on", "fasting": "on"})
    assert response.status_code == 200 and "Saved" in response.content.decode()
    ticks = PatientChecklist.objects.get(case=case)
    assert (ticks.driver, ticks.imaging, ticks.medicines, ticks.fasting) == (True, False, False, True)
    sign_in(client, people["nurse"])
    page = client.get(f"/cases/{case.uuid}/").content.decode()
    assert "A driver is arranged to take me home" in page and "✓ Done" in page


def test_the_calendar_file(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    response = Client().get(url_for(case, actors) + "appointment.ics")
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert f"UID:{case.appointment.uuid}@kyphos" in text and "Kyphoplasty at Riverside General" in text
    assert "Testwoman" not in text  # the calendar entry does not name the patient


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "xyz", lambda t: "not-a-token", lambda t: t + "0"])
def test_a_tampered_link_shows_nothing(make_case: Any, actors: dict[str, Any], mangle: Any) -> None:
    case = make_case("scheduled")
    token = url_for(case, actors).split("/")[2]
    response = Client().get(f"/p/{mangle(token)}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode() and "Ada" not in response.content.decode()


def test_an_expired_link_shows_nothing(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    url = url_for(case, actors)
    with time_machine.travel(clock.current() + timedelta(days=case.site.patient_link_days + 1)):
        response = Client().get(url)
    assert response.status_code == 404 and "expired" in response.content.decode()


def test_a_link_never_shows_another_patients_entry(make_case: Any, actors: dict[str, Any]) -> None:
    mine, theirs = case_at(make_case, actors, "discharged"), case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=2)):
        my_url, their_url = url_for(mine, actors), url_for(theirs, actors)
        Client().post(their_url + "diary/", diary_post(note="private words"))
        their_entry = DiaryEntry.objects.get(case=theirs)
        response = Client().get(f"{my_url}diary/{their_entry.uuid}/")
        page = Client().get(my_url).content.decode()
    assert response.status_code == 404 and "private words" not in response.content.decode()
    assert theirs.patient.given_name not in page or theirs.patient.given_name == mine.patient.given_name
    assert str(their_entry.uuid) not in page


def test_the_date_of_birth_gate(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    url = url_for(case, actors, require_dob=True)
    browser = Client()
    first = browser.get(url).content.decode()
    assert "Please confirm who you are" in first and "Please arrive at" not in first
    wrong = browser.post(url, {"dob_day": "1", "dob_month": "1", "dob_year": "1950"})
    assert wrong.status_code == 400 and "does not match" in wrong.content.decode()
    right = browser.post(url, {"dob_day": "14", "dob_month": "3", "dob_year": "1948"}, follow=True)
    assert "Please arrive at" in right.content.decode()


def test_a_leg_weakness_entry_shows_the_emergency_message(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = url_for(case, actors)
        response = Client().post(url + "diary/", diary_post(flag_leg_weakness_or_numbness="yes"), follow=True)
    body = response.content.decode()
    assert 'role="alertdialog"' in body and "Call 911 now" in body and 'href="tel:911"' in body
    assert Task.objects.get(case=case, kind=TaskKind.DIARY_EMERGENCY).urgent


def test_diary_pain_11_is_refused_and_nothing_is_written(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        response = Client().post(url_for(case, actors) + "diary/", diary_post(pain="11", note="kept"))
    body = response.content.decode()
    assert response.status_code == 400 and "Enter a number from 0 to 10." in body
    assert "kept" in body  # what the patient wrote is not lost
    assert not DiaryEntry.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_a_closed_case_ends_the_link_and_the_page_says_whom_to_call(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=10)):
        url = url_for(case, actors)
        followup.record_visit(
            actors["radiologist"],
            case,
            followup.VisitInput(1, "discharge", complications=("none",)),
            version=case.version,
        )
        case.refresh_from_db()
        followup.close_case(actors["radiologist"], case, version=case.version)
        ended = Client().post(url + "diary/", diary_post())  # closing the case ends the patient's link
    page = ended.content.decode()
    assert ended.status_code == 404 and "This link no longer works" in page
    assert f"Call {case.site.name} on {case.site.phone}." in page  # whom to call
    assert not DiaryEntry.objects.exists()


def test_a_link_asks_the_date_of_birth_unless_the_site_turned_it_off(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    first = Client().get(links.path_for(links.issue(actors["scheduler"], case))).content.decode()
    assert "Please confirm who you are" in first
    case.site.patient_link_asks_dob = False
    case.site.save()
    second = Client().get(links.path_for(links.issue(actors["scheduler"], case))).content.decode()
    assert "Please confirm who you are" not in second and "Hello Ada" in second


def test_a_link_stops_thirty_days_after_the_follow_up_visit(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    visit_at = MONDAY + timedelta(days=10)
    with time_machine.travel(visit_at, tick=False):
        url = url_for(case, actors)  # issued for the site's 45 days
        followup.record_visit(
            actors["radiologist"], case, followup.VisitInput(1, "further", complications=("none",)), version=None
        )
    with time_machine.travel(visit_at + timedelta(days=29)):
        assert Client().get(url).status_code == 200
    with time_machine.travel(visit_at + timedelta(days=30, minutes=1)):
        expired = Client().get(url)
    assert expired.status_code == 404 and "This link has expired" in expired.content.decode()


def test_every_red_flag_question_is_on_the_page(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        body = Client().get(url_for(case, actors) + "diary/").content.decode()
    for flag in redflags.flags().values():
        assert flag.question["en"].replace("'", "&#x27;") in body


def test_staff_revoke_and_reissue(make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any]) -> None:
    case = make_case("scheduled")
    old = url_for(case, actors)
    sign_in(client, people["nurse"])
    client.post(f"/cases/{case.uuid}/patient-link/", {"action": "issue"})
    assert Client().get(old).status_code == 404
    new = links.current_link(case)
    assert new is not None and Client().get(links.path_for(new)).status_code == 200
    assert case.outbox.filter(purpose="new_link").count() == 1
    client.post(f"/cases/{case.uuid}/patient-link/", {"action": "revoke", "reason": "wrong phone number"})
    assert Client().get(links.path_for(new)).status_code == 404
    sign_in(client, people["manager"])
    assert client.post(f"/cases/{case.uuid}/patient-link/", {"action": "issue"}).status_code == 403


def test_errors_in_spanish_for_a_spanish_speaker(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    case.patient.preferred_language = "es"
    case.patient.save()
    with time_machine.travel(MONDAY + timedelta(days=3)):
        response = Client().post(url_for(case, actors) + "diary/", diary_post(pain="11", flag_fever=""))
    body = response.content.decode()
    assert "Escriba un número del 0 al 10." in body and "Por favor conteste sí o no." in body
    assert "Enter a number" not in body


def test_the_date_of_birth_gate_returns_to_the_page_asked_for(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    url = url_for(case, actors, require_dob=True)
    browser = Client()
    assert "Please confirm who you are" in browser.get(url + "checklist/").content.decode()
    answer = browser.post(url, {"dob_day": "14", "dob_month": "3", "dob_year": "1948", "next": url + "checklist/"})
    assert answer.status_code == 302 and answer["Location"] == url + "checklist/"
    elsewhere = Client()
    elsewhere.get(url)
    outside = elsewhere.post(
        url, {"dob_day": "14", "dob_month": "3", "dob_year": "1948", "next": "https://elsewhere.example/"}
    )
    assert outside["Location"] == url


def test_the_error_summary_names_each_unanswered_question(make_case: Any, actors: dict[str, Any]) -> None:
    """Every red-flag question left unanswered is its own line in the summary, named, linking to its field."""
    import re

    case = case_at(make_case, actors, "discharged")
    unanswered = {f"flag_{key}": "" for key in NO_FLAGS}
    with time_machine.travel(MONDAY + timedelta(days=3)):
        response = Client().post(url_for(case, actors) + "diary/", diary_post(**unanswered))
    body = response.content.decode()
    summary = body[body.index('id="error-summary"') : body.index("</div>", body.index('id="error-summary"'))]
    lines = re.findall(r'<li><a href="#(flag_\w+)-error">([^<]+)</a></li>', summary)
    assert response.status_code == 400 and len(lines) == len(NO_FLAGS) == len({text for _key, text in lines})
    for key, text in lines:
        question = redflags.flags()[key.removeprefix("flag_")].question["en"].replace("'", "&#x27;")
        assert text == f"{question} — Please answer yes or no."
    assert not DiaryEntry.objects.exists()


def test_the_diary_asks_about_a_hospital_admission_and_the_service_learns_of_it(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    from kyphos.pathway.models import Event

    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = url_for(case, actors)
        form = Client().get(url + "diary/").content.decode()
        assert "Since you went home, have you been admitted to a hospital?" in form
        unanswered = Client().post(url + "diary/", diary_post(admitted=""))
        assert unanswered.status_code == 400 and not DiaryEntry.objects.exists()
        body = unanswered.content.decode()
        assert '<a href="#admitted-error">Since you went home, have you been admitted to a hospital?' in body
        assert Client().post(url + "diary/", diary_post(admitted="yes")).status_code == 302
        staff = sign_in(Client(), people["nurse"]).get(f"/cases/{case.uuid}/diary/").content.decode()
    assert DiaryEntry.objects.get().admitted is True
    assert Event.objects.filter(case=case, summary="Diary: admitted to a hospital since discharge").exists()
    assert "Admitted to a hospital since discharge" in staff
