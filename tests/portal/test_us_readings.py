"""A site whose people read °F and 12-hour times (the United States): temperatures are typed and shown in °F and
kept in °C; the patient's letters, pages and messages give 12-hour times; the patient's pages write dates one way."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from kyphos import measures, when
from kyphos.aftercare.models import DiaryEntry
from kyphos.messaging.letters import current_letter
from kyphos.precall import services as precall
from kyphos.precall.services import CallInput
from kyphos.procedure.models import Admission
from tests.accounts import sign_in
from tests.conftest import ARRIVAL, MONDAY, NEW_YORK, case_at
from tests.portal.test_pages import diary_post, url_for
from tests.precall.test_services import FRIDAY_MORNING, complete_values, open_and_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def us_site(site: Any) -> Any:
    site.temperature_unit, site.clock_hours = "F", "12"
    site.save()
    return site


def staff(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@given(st.decimals(min_value=Decimal("86.0"), max_value=Decimal("109.4"), places=1))
def test_a_fahrenheit_reading_comes_back_as_typed(typed: Decimal) -> None:
    assert measures.from_celsius(measures.to_celsius(typed, "F"), "F") == typed


def test_times_for_patients_follow_the_site_clock(site: Any) -> None:
    afternoon, morning, midnight = (datetime(2030, 1, 7, h, 5, tzinfo=NEW_YORK) for h in (14, 8, 0))
    assert when.time_words(afternoon, site) == "14:05"
    site.clock_hours = "12"
    assert [when.time_words(m, site) for m in (afternoon, morning, midnight)] == ["2:05 PM", "8:05 AM", "12:05 AM"]
    assert when.time_words(afternoon, site, "es") == "2:05 p. m."
    assert when.day_and_time(afternoon, site, "en") == "Monday 7 January, 2:05 PM"


def test_the_admission_takes_fahrenheit_and_keeps_celsius(
    us_site: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "precall_done")
    url = reverse("procedure:admit", args=[case.uuid])
    with time_machine.travel(ARRIVAL):
        nurse = staff(people["ward_nurse"])
        response = nurse.get(reverse("procedure:admission", args=[case.uuid]))
        page = response.content.decode()
        assert response.status_code == 200, response
        assert "Temperature (°F)" in page and "Temperature (°C)" not in page
        refused = nurse.post(url, {"version": case.version, "temperature_c": "37.5"})  # typed as if °C
        assert refused.status_code == 400 and "Enter a number from 86.0 to 109.4." in refused.content.decode()
        assert not Admission.objects.exists()
        nurse.post(url, {"version": case.version, "temperature_c": "100.4", "consent_signed": "on"})
    assert Admission.objects.get(case=case).temperature_c == Decimal("38.00")


def test_the_diary_in_fahrenheit(us_site: Any, people: dict[str, Any], make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = url_for(case, actors)
        form = Client().get(url + "diary/").content.decode()
        assert "Your temperature in °F, if you measured it (for example 99.0)" in form
        wrong = Client().post(url + "diary/", diary_post(temperature="38.4"))
        assert "Enter a temperature in °F between 93.2 and 109.4." in wrong.content.decode()
        assert not DiaryEntry.objects.exists()
        Client().post(url + "diary/", diary_post(temperature="101.5"))
    entry = DiaryEntry.objects.get(case=case)
    assert entry.red_flags == ["fever"] and entry.temperature_c == Decimal("38.61")  # over 38.3 °C (101 °F)
    shown = staff(people["nurse"]).get(reverse("aftercare:diary", args=[case.uuid])).content.decode()
    assert "<td>101.5 °F</td>" in shown and "38.6 °C" not in shown


def test_the_patient_reads_twelve_hour_times(us_site: Any, make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled", start=MONDAY)
    page = Client().get(url_for(case, actors)).content.decode()
    assert "6:30 AM" in page and "06:30" not in page
    with time_machine.travel(FRIDAY_MORNING):
        call = open_and_save(actors, case, CallInput(complete_values()))
        precall.sign_call(actors["nurse"], call, version=call.version)
    letter = current_letter(case, "pre_procedure").html
    assert "6:30 AM" in letter and "06:30" not in letter


def test_the_diary_list_writes_dates_in_words(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = url_for(case, actors)
        Client().post(url + "diary/", diary_post())
        home = Client().get(url).content.decode()
    assert "Thursday 10 January 2030 · Pain" in home and "2030-01-10" not in home


def test_the_date_of_birth_is_typed_as_day_month_and_year(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    url = url_for(case, actors, require_dob=True)
    browser = Client()
    page = browser.get(url).content.decode()
    assert all(f'<label for="dob-{part}">' in page for part in ("day", "month", "year"))
    half = browser.post(url, {"dob_day": "14", "dob_month": "3", "dob_year": ""})
    body = half.content.decode()
    assert half.status_code == 400 and "Enter the day, month and year you were born, as numbers." in body
    assert 'value="14"' in body  # what was typed stays
    right = browser.post(url, {"dob_day": "14", "dob_month": "03", "dob_year": "1948"}, follow=True)
    assert "Please arrive at" in right.content.decode()
