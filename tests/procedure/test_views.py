"""The procedure-day pages through HTTP: who may do what, and bad input shown on the page with nothing written."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from kyphos.labs.models import LabResult
from kyphos.pathway.stages import Stage
from kyphos.procedure.models import TreatedLevel
from tests.accounts import sign_in
from tests.conftest import ARRIVAL, MONDAY, PERSONAS, case_at, no_labs

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize("persona", [*PERSONAS, "outsider"])
def test_day_list_roles(persona: str, people: dict[str, Any], site: Any) -> None:
    response = client_for(people[persona]).get(reverse("day_list"), {"site": "HOSP", "date": "2030-01-07"})
    allowed = persona not in {"auditor", "outsider"}
    assert response.status_code == (200 if allowed else 403)


def test_day_list_shows_the_days_cases_in_arrival_order(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "precall_done")
    page = client_for(people["ward_nurse"]).get(reverse("day_list"), {"site": "HOSP", "date": "2030-01-07"})
    html = page.content.decode()
    assert "TESTWOMAN, Ada" in html and "Not arrived" in html and "06:30" in html
    assert str(case.uuid) in html


def test_a_high_inr_typed_at_admission_shows_as_a_stop_on_the_day_list_and_a_correction_clears_it(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    from kyphos.labs import services as labs

    case = case_at(make_case, actors, "admitted", no_labs())
    with time_machine.travel(ARRIVAL + timedelta(minutes=20)):
        nurse = client_for(people["ward_nurse"])

        def stops() -> str:
            html = nurse.get(reverse("day_list"), {"site": "HOSP", "date": "2030-01-07"}).content.decode()
            row = next(line for line in html.split("<tr") if str(case.uuid) in line)
            return row.split('class="sev sev-stop"')[1].split("</td>")[0] if "sev-stop" in row else ""

        before = stops()
        answer = nurse.post(
            reverse("procedure:lab", args=[case.uuid]),
            {"lab-code": "inr", "lab-value": "2.1", "lab-taken_at": "2030-01-07T06:40"},
        )
        assert answer.status_code == 302
        case.refresh_from_db()
        assert "labs.inr_high" in [f["code"] for f in case.findings]
        assert stops() != before and str(case.open_stops) in stops()
        labs.record_lab(actors["ward_nurse"], case, "inr", value="1.1", taken_at=ARRIVAL + timedelta(minutes=15))
        case.refresh_from_db()
        assert "labs.inr_high" not in [f["code"] for f in case.findings] and stops() == before


@pytest.mark.parametrize("persona", ["scheduler", "nurse", "radiologist", "anesthesia", "manager"])
def test_only_the_ward_nurse_admits(
    persona: str, people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "precall_done")
    with time_machine.travel(ARRIVAL):
        response = client_for(people[persona]).post(
            reverse("procedure:admit", args=[case.uuid]), {"version": case.version, "consent_signed": "on"}
        )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.stage == Stage.PRECALL_DONE


@pytest.mark.parametrize("value,message", [("0.1", "not a possible INR value"), ("abc", "is not a number")])
def test_bad_lab_input_on_the_page(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any], value: str, message: str
) -> None:
    case = case_at(make_case, actors, "admitted", no_labs())
    with time_machine.travel(ARRIVAL):
        response = client_for(people["ward_nurse"]).post(
            reverse("procedure:lab", args=[case.uuid]),
            {"lab-code": "inr", "lab-value": value, "lab-taken_at": "2030-01-07T06:00"},
        )
    assert response.status_code == 400 and message in response.content.decode()
    assert not LabResult.objects.exists()


def test_cement_volume_of_40_ml_is_refused_on_the_page(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    from kyphos.procedure import services

    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
    with time_machine.travel(MONDAY + timedelta(minutes=10)):
        response = client_for(people["radiologist"]).post(
            reverse("procedure:level", args=[case.uuid]),
            {
                "lvl-level": "T12",
                "lvl-sides": "bilateral",
                "lvl-cement_product": "kyphon-hv-r",
                "lvl-cement_lot": "L1",
                "lvl-cement_mixed_at": "2030-01-07T08:08",
                "lvl-cement_ml_left": "2.5",
                "lvl-cement_ml_right": "40",
                "lvl-restoration": "partial",
                "lvl-leakage": "none",
            },
        )
    html = response.content.decode()
    assert response.status_code == 400 and "Cement volume (right) must be more than 0 and at most 10 mL" in html
    assert not TreatedLevel.objects.exists()


def test_a_scheduler_cannot_start_the_procedure(people: dict[str, Any], make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        response = client_for(people["scheduler"]).post(
            reverse("procedure:start", args=[case.uuid]),
            {"start-version": case.version, "start-operators": "Someone"},
        )
    assert response.status_code == 400 and "does not allow" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.CLEARED


def test_each_procedure_action_has_its_own_address_and_takes_only_posts(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    """One small view per action: a GET changes nothing, and a bad level or checklist part is not found."""
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        radiologist = client_for(people["radiologist"])
        for name in ("start", "level", "end", "sedation", "sign_note", "addendum"):
            assert radiologist.get(reverse(f"procedure:{name}", args=[case.uuid])).status_code == 405, name
        assert radiologist.post(reverse("procedure:checklist", args=[case.uuid, "lunch"])).status_code == 404
        assert radiologist.post(reverse("procedure:cement_set", args=[case.uuid, 999999])).status_code == 404
        started = radiologist.post(
            reverse("procedure:start", args=[case.uuid]),
            {"start-version": case.version, "start-operators": "Dr Rita"},
        )
    assert started.status_code == 302 and started["Location"] == reverse("procedure:page", args=[case.uuid])
    case.refresh_from_db()
    assert case.stage == Stage.IN_PROCEDURE


def test_the_day_list_shows_yesterdays_patient_still_in_recovery(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    """About 24 h in hospital: a patient treated yesterday and still in recovery is on today's list, first."""
    case = case_at(make_case, actors, "recovery")
    with time_machine.travel(MONDAY + timedelta(days=1, hours=2)):
        html = client_for(people["ward_nurse"]).get(reverse("day_list"), {"site": "HOSP"}).content.decode()
    assert str(case.uuid) in html and "TESTWOMAN, Ada" in html


def test_the_day_list_opens_on_the_site_with_todays_cases_then_remembers_the_choice(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any], other_site: Any
) -> None:
    case = case_at(make_case, actors, "precall_done")
    with time_machine.travel(MONDAY - timedelta(hours=3)):
        client = client_for(people["ward_nurse"])
        html = client.get(reverse("day_list")).content.decode()
        assert str(case.uuid) in html  # the site whose list starts first today
        client.get(reverse("day_list"), {"site": "ASC"})
        again = client.get(reverse("day_list")).content.decode()
        assert str(case.uuid) not in again and "Lakeshore ASC" in again  # the choice is remembered


def test_labs_and_cement_read_as_clinicians_write_them(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    """Tests and products by name, units in print form: "Platelet count 220 × 10⁹/L", "Kyphon HV-R"."""
    from kyphos.procedure import services

    case = case_at(make_case, actors, "in_procedure")
    html = client_for(people["ward_nurse"]).get(reverse("procedure:admission", args=[case.uuid])).content.decode()
    assert "Platelet count" in html and "× 10⁹/L" in html and "10*9/L" not in html and "PLATELETS" not in html
    with time_machine.travel(MONDAY + timedelta(minutes=20)):
        level = services.LevelInput(
            "T12", "bilateral", "kyphon-hv-r", "LOT-1", MONDAY + timedelta(minutes=10),
            cement_ml_left=Decimal("2"), cement_ml_right=Decimal("2"),
        )  # fmt: skip
        services.record_level(actors["radiologist"], case, level)
        page = client_for(people["radiologist"]).get(reverse("procedure:page", args=[case.uuid])).content.decode()
    assert "Kyphon HV-R lot LOT-1" in page and "kyphon-hv-r lot" not in page


def test_update_sedation_opens_with_what_was_recorded(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    from kyphos.demo.builder import Journey

    case = case_at(make_case, actors, "cleared", Journey(sedation=True))
    with time_machine.travel(MONDAY - timedelta(minutes=2)):
        html = client_for(people["anesthesia"]).get(reverse("procedure:page", args=[case.uuid])).content.decode()
    form = html[html.index('action="/cases/' + str(case.uuid) + '/procedure/sedation/"') :]
    form = form[: form.index("</form>")]
    assert "Update sedation" in html
    assert 'value="Dr Alan Anesthesia"' in form and 'value="2"' in form
    assert '<option value="moderate" selected>' in form
    assert 'value="2030-01-07T07:45"' in form  # recorded 12:45 UTC: the start on the site's clock
    assert "Midazolam 2 mg IV; fentanyl 50 mcg IV</textarea>" in form
