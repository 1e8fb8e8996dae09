"""The call page and the letter through HTTP: roles, bad input, concurrency, reprints, site wording."""

from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from kyphos.messaging.models import Letter
from kyphos.pathway.models import TaskKind
from kyphos.pathway.stages import Stage
from kyphos.precall.models import PreCall
from tests.accounts import sign_in
from tests.conftest import NEW_YORK, PERSONAS

pytestmark = pytest.mark.django_db
MONDAY = datetime(2030, 1, 7, 8, tzinfo=NEW_YORK)
FRIDAY = datetime(2030, 1, 4, 9, tzinfo=NEW_YORK)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def form_data(version: int, **overrides: Any) -> dict[str, Any]:
    data = {
        "version": version,
        "identity_confirmed": "on",
        "driver_status": "arranged",
        "driver_name": "Ana",
        "imaging_status": "received",
        "pregnancy_status": "not_applicable",
        "fasting_given": "on",
        "arrival_confirmed": "on",
        "no_known_allergies": "on",
        "action": "save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def booked(make_case: Any) -> Any:
    return make_case("scheduled", start=MONDAY)


@pytest.mark.parametrize("persona", [*PERSONAS, "outsider"])
def test_only_the_nurse_opens_the_call(persona: str, people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        client = client_for(people[persona])
        response = client.get(reverse("precall:call", args=[booked.uuid]))
    assert response.status_code == (200 if persona == "nurse" else 403)


def test_opening_the_call_page_writes_nothing_until_the_nurse_takes_the_call(
    people: dict[str, Any], booked: Any
) -> None:
    """A GET only reads: the call is taken (task in the nurse's name, draft created) by an explicit POST."""
    task = booked.tasks.get(kind=TaskKind.PRECALL)
    events = booked.events.count()
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        page = nurse.get(reverse("precall:call", args=[booked.uuid]))
        assert page.status_code == 200 and "Take the call" in page.content.decode()
        task.refresh_from_db()
        assert task.assignee is None and not PreCall.objects.filter(case=booked).exists()
        assert booked.events.count() == events
        taken = nurse.post(reverse("precall:call", args=[booked.uuid]), {"action": "take"})
        assert taken.status_code == 302 and taken["Location"] == reverse("precall:call", args=[booked.uuid])
        task.refresh_from_db()
        assert task.assignee == people["nurse"] and PreCall.objects.filter(case=booked).count() == 1
        form = nurse.get(reverse("precall:call", args=[booked.uuid])).content.decode()
        assert 'id="call-form"' in form and "Release this call to the queue" in form


def test_save_then_sign_through_the_page(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        response = nurse.post(
            reverse("precall:call", args=[booked.uuid]),
            form_data(1, med_name_0="Xarelto", med_dose_0="20 mg", med_frequency_0="once-daily", crcl="60"),
        )
        assert response.status_code == 302
        page = nurse.get(reverse("precall:call", args=[booked.uuid])).content.decode()
        assert "Sat 05-Jan-2030 08:00" in page  # rivaroxaban, 2 daily doses before Monday 08:00
        response = nurse.post(
            reverse("precall:call", args=[booked.uuid]),
            form_data(2, med_name_0="Xarelto", action="sign", crcl="60"),
        )
        assert response.status_code == 302 and response["Location"] == reverse("case_detail", args=[booked.uuid])
    booked.refresh_from_db()
    assert booked.stage == Stage.PRECALL_DONE


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("crcl", "-3", "not possible"),
        ("crcl", "900", "not possible"),
        ("med_dose_0", "0 mg", "more than zero"),
        ("med_dose_0", "5000000 mg", "not a possible single dose"),
    ],
)
def test_bad_input_shows_a_message_and_changes_nothing(
    people: dict[str, Any], booked: Any, field: str, value: str, message: str
) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        data = form_data(1, med_name_0="apixaban", **{field: value})
        response = nurse.post(reverse("precall:call", args=[booked.uuid]), data)
    assert response.status_code == 400 and message in response.content.decode()
    call = PreCall.objects.get(case=booked)
    assert call.version == 1 and call.crcl is None and not call.medications.exists()


def test_a_refused_signature_keeps_the_draft_unchanged(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        response = nurse.post(
            reverse("precall:call", args=[booked.uuid]),
            form_data(1, identity_confirmed="", action="sign", questions="typed before signing"),
        )
    html = response.content.decode()
    assert response.status_code == 400 and "Confirm the patient&#x27;s name and date of birth" in html
    assert "typed before signing" in html  # nothing the nurse typed is lost
    assert PreCall.objects.get(case=booked).version == 1


def test_signing_twice_is_refused(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        nurse.post(reverse("precall:call", args=[booked.uuid]), form_data(1, action="sign"))
        response = nurse.post(reverse("precall:call", args=[booked.uuid]), form_data(2, action="sign"))
    assert response.status_code == 409
    assert Letter.objects.filter(case=booked).count() == 1


def test_a_second_nurse_sees_who_has_the_call(people: dict[str, Any], booked: Any) -> None:
    from django.contrib.auth.models import Group, User

    other = User.objects.create_user("t_nurse2", password="x")
    other.groups.add(Group.objects.get(name="nurse"))
    booked.site.staff.add(other)  # a nurse of the same site
    with time_machine.travel(FRIDAY):
        client_for(people["nurse"]).post(reverse("precall:call", args=[booked.uuid]), {"action": "take"})
        response = client_for(other).get(reverse("precall:call", args=[booked.uuid]))
        assert response.status_code == 409 and "already taken by t_nurse" in response.content.decode()
        # The first nurse releases it; now the second can take it.
        task = booked.tasks.get(kind=TaskKind.PRECALL)
        client_for(people["nurse"]).post(reverse("task_release", args=[task.uuid]))
        assert client_for(other).get(reverse("precall:call", args=[booked.uuid])).status_code == 200


def test_a_stale_save_is_refused_on_the_page(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        nurse.post(reverse("precall:call", args=[booked.uuid]), form_data(1, crcl="60"))
        response = nurse.post(reverse("precall:call", args=[booked.uuid]), form_data(1, crcl="30"))
    assert response.status_code == 400 and "changed by someone else" in response.content.decode()
    assert PreCall.objects.get(case=booked).crcl == 60


def test_attempt_with_a_malformed_call_back_time(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        response = nurse.post(
            reverse("precall:attempt", args=[booked.uuid]),
            {"outcome": "call_back", "call_back_at": "tomorrow-ish"},
            follow=True,
        )
    assert "YYYY-MM-DD HH:MM" in response.content.decode()
    assert not booked.call_attempts.exists()


def test_a_call_back_without_its_time_keeps_the_outcome_chosen(people: dict[str, Any], booked: Any) -> None:
    with time_machine.travel(FRIDAY):
        response = client_for(people["nurse"]).post(
            reverse("precall:attempt", args=[booked.uuid]), {"outcome": "call_back", "call_back_at": ""}
        )
    html = response.content.decode()
    assert response.status_code == 400 and "Enter when the patient asked to be called back." in html
    assert 'value="call_back" selected' in html
    assert not booked.call_attempts.exists()


def signed(people: dict[str, Any], booked: Any, **overrides: Any) -> None:
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.get(reverse("precall:call", args=[booked.uuid]))
        nurse.post(reverse("precall:call", args=[booked.uuid]), form_data(1, action="sign", **overrides))


def test_the_letter_reprints_the_same_document(people: dict[str, Any], booked: Any) -> None:
    signed(people, booked, med_name_0="warfarin", med_dose_0="5 mg")
    scheduler = client_for(people["scheduler"])
    first = scheduler.get(reverse("precall:letter_pdf", args=[booked.uuid]))
    second = scheduler.get(reverse("precall:letter_pdf", args=[booked.uuid]))
    assert first["Content-Type"] == "application/pdf" and first.content == second.content
    assert first.content == bytes(Letter.objects.get(case=booked).pdf)
    html = scheduler.get(reverse("precall:letter", args=[booked.uuid])).content.decode()
    # Warfarin's last safe dose (Wednesday, 5 days before) has passed by the Friday call: stop now; restart
    # 24 h after the one-hour procedure, as SIR 2019 is transcribed.
    assert "warfarin: do not take any more before the procedure." in html
    assert "usually from Tuesday 8 January, 09:00" in html


def test_the_letter_is_for_staff_only(people: dict[str, Any], booked: Any) -> None:
    assert client_for(people["nurse"]).get(reverse("precall:letter", args=[booked.uuid])).status_code == 404
    signed(people, booked)
    assert client_for(people["outsider"]).get(reverse("precall:letter", args=[booked.uuid])).status_code == 403
    assert client_for(people["auditor"]).get(reverse("precall:letter_pdf", args=[booked.uuid])).status_code == 403


def test_site_wording_blocks_appear_in_the_letter(people: dict[str, Any], booked: Any) -> None:
    booked.site.letter_blocks = {
        "en": {
            "intro": "Welcome to Riverside's spine service.",
            "closing": "Parking is free in the River Road garage.",
        }
    }
    booked.site.save()
    signed(people, booked)
    html = client_for(people["nurse"]).get(reverse("precall:letter", args=[booked.uuid])).content.decode()
    assert "Welcome to Riverside&#x27;s spine service." in html and "River Road garage" in html


def test_agreeing_a_plan_from_the_case_page(people: dict[str, Any], booked: Any) -> None:
    signed(people, booked, med_name_0="Plavix", med_dose_0="75 mg", med_prescriber_0="Dr Lee")
    task = booked.tasks.get(kind=TaskKind.CONTACT_PRESCRIBER)
    page = client_for(people["nurse"]).get(reverse("case_detail", args=[booked.uuid])).content.decode()
    assert "not yet agreed" in page and "Plan agreed" in page
    response = client_for(people["scheduler"]).post(reverse("precall:agree", args=[task.uuid]))
    assert response.status_code == 403
    client_for(people["nurse"]).post(reverse("precall:agree", args=[task.uuid]), {"note": "Dr Lee: stop 5 days"})
    page = client_for(people["nurse"]).get(reverse("case_detail", args=[booked.uuid])).content.decode()
    assert "agreed with the prescriber" in page
