"""The site's language (KYPHOS_LANGUAGE): staff pages, commands and what services store speak it; a patient keeps
their own language on their own pages, and what a Spanish-speaking patient's entry stores is still in the site's."""

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.messaging import links
from kyphos.pathway.models import Event, Task, TaskKind
from kyphos.rules.findings import Finding
from kyphos.rules.levels import InvalidLevel, parse_level
from kyphos.rules.triage import finding
from tests.conftest import CALM, MONDAY, case_at, no_flags
from tests.web.test_views import client_for

pytestmark = pytest.mark.django_db


def emergency_entry() -> dict[str, str]:
    flags = {f"flag_{k}": v for k, v in no_flags().items()}
    return {**CALM, **flags, "flag_leg_weakness_or_numbness": "yes", "temperature": "", "note": "", "admitted": "no"}


def test_staff_pages_are_in_the_sites_language(settings: Any, people: dict[str, Any], make_case: Any) -> None:
    settings.LANGUAGE_CODE = "es"
    case = make_case("scheduled")
    body = client_for(people["scheduler"]).get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert '<html lang="es">' in body
    assert "Citado" in body  # the stage (a model choice)
    assert "Aplazar" in body and "Scheduled" not in body


def test_english_is_the_default(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("scheduled")
    body = client_for(people["scheduler"]).get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert '<html lang="en">' in body and "Scheduled" in body and "Citado" not in body


def test_a_refusal_from_the_rules_is_shown_in_the_sites_language(
    settings: Any, people: dict[str, Any], make_case: Any
) -> None:
    """rules/ is pure Python: its sentence (a dose in an unknown unit) is translated where it is shown, next to the
    field of the nurse's call."""
    from tests.precall.test_views import FRIDAY, form_data

    settings.LANGUAGE_CODE = "es"
    case = make_case("scheduled", start=MONDAY)
    with time_machine.travel(FRIDAY):
        nurse = client_for(people["nurse"])
        nurse.post(reverse("precall:call", args=[case.uuid]), {"action": "take"})
        response = nurse.post(
            reverse("precall:call", args=[case.uuid]), form_data(1, med_name_0="apixaban", med_dose_0="2 tabs")
        )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Unidad desconocida «tabs»; use mg, mcg, g, units o mL." in body
    assert "Unknown unit" not in body


def test_a_rules_error_reads_in_the_language_active_when_it_is_read() -> None:
    with pytest.raises(InvalidLevel) as caught:
        parse_level("Q3")
    with translation.override("es"):
        assert caught.value.message == "«Q3» no es un nivel vertebral; use T1–T12 o L1–L5."
    with translation.override("en"):
        assert str(caught.value) == "“Q3” is not a vertebral level; use T1–T12 or L1–L5."
    plain = InvalidInput(gettext_noop("A dose must be more than zero."))
    with translation.override("es"):
        assert plain.message == "Una dosis debe ser mayor que cero."
    assert Text(gettext_noop("{name} is not in use."), name="Room 2") == "Room 2 is not in use."


def test_a_stored_finding_reads_in_the_language_of_the_page(
    settings: Any, people: dict[str, Any], make_case: Any
) -> None:
    """Triage stored its findings in English; a Spanish site reads them in Spanish, values kept."""
    case = make_case("referred", pain_nrs=3)
    stored = [f for f in case.findings if f["code"] == "pain.below_threshold_outpatient"]
    assert stored and stored[0]["message"] == "Pain 3/10, below the outpatient threshold of 5."
    settings.LANGUAGE_CODE = "es"
    body = client_for(people["radiologist"]).get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "Dolor 3/10, por debajo del umbral ambulatorio de 5." in body


def test_a_finding_keeps_its_sentence_and_values_through_storage() -> None:
    original = finding("relative.too_many_levels", count=4)
    back = Finding.from_dict(original.as_dict())
    assert back == original
    with translation.override("es"):
        assert str(back.message) == "Más de 3 niveles en una sesión (4 derivados)."


def test_a_spanish_patients_red_flag_is_recorded_in_the_sites_language(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "discharged")
    case.patient.preferred_language = "es"
    case.patient.save()
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = links.path_for(links.issue(actors["scheduler"], case, require_dob=False))  # straight to the diary
        response = Client().post(url + "diary/", emergency_entry(), follow=True)
    assert 'lang="es"' in response.content.decode()  # the patient read their page in Spanish
    task = Task.objects.get(case=case, kind=TaskKind.DIARY_EMERGENCY)
    assert task.note.startswith("Diary: ") and "Diario" not in task.note  # the staff's record, in English
    event = Event.objects.filter(case=case, summary__startswith="Diary red flag").get()
    assert "Señal" not in event.summary


def test_a_spanish_site_records_in_spanish(settings: Any, make_case: Any, actors: dict[str, Any]) -> None:
    settings.LANGUAGE_CODE = "es"
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        url = links.path_for(links.issue(actors["scheduler"], case, require_dob=False))  # straight to the diary
        Client().post(url + "diary/", emergency_entry())
    assert Task.objects.get(case=case, kind=TaskKind.DIARY_EMERGENCY).note.startswith("Diario: ")


def test_a_command_refuses_in_the_sites_language(site: Any, capsys: Any) -> None:
    with translation.override("es"), pytest.raises(SystemExit) as exit_info:
        call_command("windows", "--site", "HOSP", "--appointment", "0001-01-01T08:00")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Dé una fecha entre 1900 y 2999" in err and err.count("\n") == 1


def test_an_unknown_site_language_is_one_line_and_status_2(tmp_path: Any) -> None:
    env = {"KYPHOS_SECRET_KEY": "x", "PATH": "/usr/bin:/bin", "KYPHOS_VAR_DIR": str(tmp_path), "KYPHOS_LANGUAGE": "fr"}
    done = subprocess.run([sys.executable, "-m", "kyphos", "check"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "kyphos: KYPHOS_LANGUAGE must be one of en, es, not 'fr'.\n"
