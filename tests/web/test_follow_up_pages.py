"""Staff screens after discharge: the diary with its tasks, the follow-up worklist and visit page."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from kyphos.aftercare import diary
from kyphos.aftercare.models import FollowUpRecord
from kyphos.pathway.models import Task, TaskKind
from kyphos.pathway.stages import Stage
from tests.accounts import sign_in
from tests.conftest import MONDAY, case_at, diary_entry, patient_actor

pytestmark = pytest.mark.django_db
PATIENT = patient_actor()
VISIT_DAY = MONDAY + timedelta(days=7, hours=1)


def test_the_nurse_answers_a_diary_red_flag(
    make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(MONDAY + timedelta(days=3)):
        diary.record_entry(PATIENT, case, diary_entry(needle_site="yes"))
        sign_in(client, people["nurse"])
        home = client.get("/").content.decode()
        assert "Diary: call the patient today" in home
        page = client.get(f"/cases/{case.uuid}/diary/").content.decode()
        assert "Is there redness, swelling, bleeding or fluid where the needles went in?" in page
        assert "pain-table" in page
        task = Task.objects.get(case=case, kind=TaskKind.DIARY_SAME_DAY)
        assert client.post(f"/cases/{case.uuid}/diary/", {"task": task.uuid, "outcome": ""}).status_code == 302
        task.refresh_from_db()
        assert task.status == "open"  # no outcome, not done
        client.post(f"/cases/{case.uuid}/diary/", {"task": task.uuid, "outcome": "Seen in clinic, no infection"})
        task.refresh_from_db()
        assert task.status == "done" and task.outcome == "Seen in clinic, no infection"


def test_the_follow_up_worklist_and_visit(
    make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(VISIT_DAY):
        sign_in(client, people["radiologist"])
        listing = client.get("/follow-up/").content.decode()
        assert case.patient.mrn in listing and "Open the visit" in listing
        page = client.get(f"/cases/{case.uuid}/follow-up/")
        assert page.status_code == 200 and "Pain from baseline to today" in page.content.decode()
        form = {
            "version": case.version,
            "pain_today": "2",
            "complications": ["none"],
            "outcome": "discharge",
            "pt_referral": "on",
            "pt_note": "Posture and walking",
            "q_pain": "2",
            "q_pain_medicines": "none",
            "q_walking": "as_before",
            "q_activities": "as_before",
        }
        bad = client.post(f"/cases/{case.uuid}/follow-up/", {**form, "q_walking": ""})
        assert bad.status_code == 400 and "Please answer this question." in bad.content.decode()
        assert not FollowUpRecord.objects.exists()
        assert client.post(f"/cases/{case.uuid}/follow-up/", form).status_code == 302
        done = client.get(f"/cases/{case.uuid}/follow-up/").content.decode()
        assert "Physical therapy referral" in done and "Close the case" in done
        letter = client.get(f"/cases/{case.uuid}/letters/pt_referral/")
        assert "Posture and walking" in letter.content.decode()
        case.refresh_from_db()
        assert case.stage == Stage.FOLLOWUP_DONE
        client.post(f"/cases/{case.uuid}/follow-up/close/", {"version": case.version, "note": "well"})
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


def test_the_visit_uses_a_site_loaded_questionnaire(
    make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any]
) -> None:
    from kyphos.aftercare import questionnaires
    from kyphos.aftercare.models import QuestionnaireResponse
    from tests.rules.test_questionnaires import yes_no_instrument

    loaded, _ = questionnaires.load(actors["manager"], yes_no_instrument())
    case = case_at(make_case, actors, "discharged")
    with time_machine.travel(VISIT_DAY):
        sign_in(client, people["radiologist"])
        page = client.get(f"/cases/{case.uuid}/follow-up/?questionnaire={loaded.pk}").content.decode()
        assert "Test statement 1" in page and "Test yes/no check" in page
        form = {
            "version": case.version,
            "pain_today": "2",
            "complications": ["none"],
            "outcome": "discharge",
            "questionnaire": loaded.pk,
            "q_q1": "yes",
            "q_q2": "yes",
            "q_q3": "no",
            "q_q4": "yes",
        }
        assert client.post(f"/cases/{case.uuid}/follow-up/", form).status_code == 302
    response = QuestionnaireResponse.objects.get(case=case, context="follow_up")
    assert response.questionnaire == loaded and response.score == 3


def test_the_follow_up_worklist_reads_holidays_once_per_site(
    make_case: Any, actors: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    from kyphos.aftercare import selectors as aftercare_selectors

    cases = [case_at(make_case, actors, "discharged") for _ in range(3)]
    with django_assert_max_num_queries(3):  # cases, visits, the site's holidays
        rows = aftercare_selectors.worklist(VISIT_DAY)
    assert {r.case for group in rows.values() for r in group} == set(cases)


def test_the_follow_up_worklist_pages_each_group(
    make_case: Any, actors: dict[str, Any], client: Any, people: dict[str, Any], monkeypatch: Any
) -> None:
    """A department with hundreds of discharged patients pages each group instead of cutting the list."""
    from kyphos.aftercare import followup_views
    from kyphos.audit.models import AuditEntry

    monkeypatch.setattr(followup_views, "FOLLOW_UP_PAGE", 2)
    cases = [case_at(make_case, actors, "discharged") for _ in range(3)]
    mrns = {c.patient.mrn for c in cases}
    with time_machine.travel(VISIT_DAY):
        sign_in(client, people["radiologist"])
        first = client.get("/follow-up/").content.decode()
        second = client.get("/follow-up/?booked_page=2").content.decode()
    on_first, on_second = {m for m in mrns if m in first}, {m for m in mrns if m in second}
    assert len(on_first) == 2 and len(on_second) == 1 and on_first | on_second == mrns
    assert "Page 1 of 2" in first and "booked_page=2" in first and "Page 2 of 2" in second
    # The audit names exactly the patients each page showed.
    listed = AuditEntry.objects.filter(object_type="follow_up_list").values_list("patient_uuid", flat=True)
    assert sorted(listed) == sorted(c.patient.uuid for c in cases)
