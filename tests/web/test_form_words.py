"""Form errors in our words, all at once: every problem on the page is reported in one go, each next to its field
and named in the summary, and none of Django's stock sentences ("Ensure this value is less than or equal to 480")
reaches a person."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django import forms
from django.test import Client
from django.urls import reverse

from kyphos.formfields import between
from kyphos.pathway.stages import Stage
from kyphos.procedure.models import Admission
from tests.accounts import sign_in
from tests.conftest import ARRIVAL, MONDAY, case_at

pytestmark = pytest.mark.django_db
# Django's stock wording, as it would read had we not replaced it.
DJANGO_WORDS = re.compile(
    r"Ensure this value|Ensure that there are|Select a valid choice|This field is required|Enter a whole number\."
    r"|Enter a number\.|Enter a valid|Null characters are not allowed"
)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def summary_lines(html: str) -> list[str]:
    start = html.index('class="error-summary"')
    return re.findall(r"<li><a href=\"#[\w-]+\">([^<]+)</a></li>", html[start : html.index("</div>", start)])


def test_every_admission_problem_is_reported_at_once(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    """A mistyped blood pressure no longer hides a temperature of 60 °C and an SpO₂ of 150."""
    case = case_at(make_case, actors, "precall_done")
    with time_machine.travel(ARRIVAL):
        response = client_for(people["ward_nurse"]).post(
            reverse("procedure:admit", args=[case.uuid]),
            {"version": case.version, "bp_systolic": "12O", "temperature_c": "60", "spo2": "150", "weight_kg": "70"},
        )
    html = response.content.decode()
    assert response.status_code == 400
    assert summary_lines(html) == [
        "BP systolic: Write a whole number, in digits.",
        "SpO₂ %: Enter a number from 50 to 100.",
        "Temperature (°C): Enter a number from 30 to 43.",
    ]
    assert not DJANGO_WORDS.search(html) and not Admission.objects.exists()
    case.refresh_from_db()
    assert case.stage == Stage.PRECALL_DONE


def test_a_booking_of_too_many_minutes_reads_in_our_words(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("triaged")
    room = case.site.rooms.order_by("name").first()
    response = client_for(people["scheduler"]).post(
        reverse("case_book", args=[case.uuid]),
        {"version": case.version, "room": "999", "day": "2030-01-07", "start_time": "08:00", "minutes": "481"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and room is not None
    assert "Planned duration (minutes): Enter a number from 10 to 480." in summary_lines(html)
    assert any(line.endswith("Choose one of the options offered.") for line in summary_lines(html))
    assert not DJANGO_WORDS.search(html)


def test_recovery_checks_report_each_impossible_number(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "recovery")
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client_for(people["ward_nurse"]).post(
            reverse("aftercare:check", args=[case.uuid]),
            {"chk-bp_systolic": "300", "chk-heart_rate": "x", "chk-pain_nrs": "11", "chk-puncture_sites": "wet"},
        )
    html = response.content.decode()
    assert response.status_code == 400
    lines = summary_lines(html)
    assert "BP systolic: Enter a number from 50 to 260." in lines
    assert "Pain (0–10): Enter a number from 0 to 10." in lines
    assert "Heart rate: Write a whole number, in digits." in lines
    assert "Puncture sites: Choose one of the options offered." in lines
    assert not DJANGO_WORDS.search(html)


def test_our_words_reach_forms_defined_anywhere() -> None:
    """The replacement is global: a form defined now (as the admin's are) speaks our words too."""

    class Anything(forms.Form):
        count = forms.IntegerField(max_value=480)
        name = forms.CharField(max_length=5)
        day = forms.DateField()
        pick = forms.ChoiceField(choices=[("a", "A")])
        score = forms.IntegerField(**between(0, 10))

    form = Anything({"count": "481", "name": "toolong", "day": "31/12", "pick": "b", "score": "-1"})
    assert not form.is_valid()
    assert form.errors == {
        "count": ["Enter 480 or less."],
        "name": ["Use at most 5 characters (this has 7)."],
        "day": ["Enter the date as YYYY-MM-DD."],
        "pick": ["Choose one of the options offered."],
        "score": ["Enter a number from 0 to 10."],
    }
    assert Anything({}).errors["count"] == ["Fill this in."]
