"""The manager's dashboard on a known department: two patients treated (one followed up and closed, one
discharged and not yet seen), one only referred; every figure checked against what was recorded, small counts
given without percentages, the page and its CSV for managers and radiologists only."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from django.test import Client

from kyphos.aftercare.models import CaseOutcome
from kyphos.procedure.models import ProcedureRecord
from kyphos.reports.figures import Period, Proportion, figures_for
from tests.accounts import sign_in
from tests.conftest import MONDAY

LATER = datetime(2030, 3, 1, 12, tzinfo=UTC)  # every follow-up window of the cases below has closed


def period(site: Any) -> Period:
    return Period(frozenset({site.pk}), date(2026, 1, 1), date(2030, 2, 28))


def test_every_figure_follows_the_records(department: dict[str, Any]) -> None:
    with time_machine.travel(LATER):
        figures = figures_for(period(department["site"]))
    assert (figures.referrals, figures.procedures, figures.levels) == (3, 2, 4)
    assert sum(w.procedures for w in figures.weeks) == 2 and sum(w.levels for w in figures.weeks) == 4
    monday_week = next(w for w in figures.weeks if w.start == date(2030, 1, 7))
    assert (monday_week.procedures, monday_week.levels) == (2, 4)  # Monday and Wednesday of the same week
    # Triaged the day they were referred; treated on the day booked.
    assert figures.referral_to_triage_days.values == (0.0, 0.0)
    referred_on = department["closed"].referral_date
    assert sorted(figures.referral_to_procedure_days.values) == sorted(
        float((r.started_at.astimezone(department["site"].zone).date() - referred_on).days)
        for r in ProcedureRecord.objects.all()
    )
    # Discharged 26 hours after the start of a procedure that ended 85 minutes in: not within 24 hours.
    assert figures.discharged_within_24h == Proportion(0, 2)
    assert all(24 < h < 25 for h in figures.hours_to_discharge.values)
    # The closed case was seen 10 days after; the discharged one was never seen: 1 of 2 windows kept.
    assert figures.follow_up_in_window == Proportion(1, 2)
    # Pain: both 7 at referral; the closed case 2 at follow-up (change -5).
    assert figures.pain["baseline"][7] == 2 and figures.pain["follow_up"][2] == 1
    assert figures.pain_change_follow_up.values == (-5.0,)
    assert CaseOutcome.objects.get(case=department["closed"]).pain_follow_up == 2
    assert figures.leakage == Proportion(1, 4) and figures.symptomatic_leakage == Proportion(0, 4)
    assert figures.complications == Proportion(0, 2) and figures.new_fracture == Proportion(0, 1)
    assert figures.readmitted == Proportion(0, 1)
    assert figures.leakage.small and figures.leakage.rate is None  # 4 levels: no percentage on so few


def test_another_site_or_period_sees_none_of_it(department: dict[str, Any], other_site: Any) -> None:
    with time_machine.travel(LATER):
        elsewhere = figures_for(Period(frozenset({other_site.pk}), date(2026, 1, 1), date(2030, 2, 28)))
        before = figures_for(Period(frozenset({department["site"].pk}), date(2020, 1, 1), date(2020, 12, 31)))
    for figures in (elsewhere, before):
        assert (figures.referrals, figures.procedures, figures.levels) == (0, 0, 0)
        assert figures.leakage == Proportion(0, 0) and figures.follow_up_in_window == Proportion(0, 0)


def test_the_page_and_its_csv_for_managers_and_radiologists(department: dict[str, Any], people: dict[str, Any]) -> None:
    query = {"site": department["site"].pk, "start": "2026-01-01", "end": "2028-12-31"}
    with time_machine.travel(LATER):
        manager = sign_in(Client(), people["manager"])
        page = manager.get("/dashboard/", query)
        assert page.status_code == 200
        text = page.content.decode()
        assert '<svg class="chart" id="volume"' in text and 'role="img"' in text
        assert '<title id="pain-t">Pain (0-10) before, at 24-48 hours and at follow-up</title>' in text
        assert "Wardlaw D et al. Lancet 2009" in text and "Papanastassiou" in text
        assert "levels (mostly without symptoms): 73%" in text and "3,175 patients): 0.7%" in text
        csv_answer = manager.get("/dashboard/figures.csv", query)
    assert csv_answer.status_code == 200 and csv_answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_answer.content.decode())))
    assert rows[0] == ["section", "figure", "value", "n"]
    assert ["volume", "referrals", "3", ""] in rows
    assert ["volume", "procedures, week of 2030-01-07", "2", ""] not in rows  # the query ends in 2028
    weekly = [r for r in rows if r[1].startswith("referrals, week of ")]
    assert weekly and sum(int(r[2]) for r in weekly) == 3 and all(r[2].isdigit() for r in rows[1:] if r[0] == "volume")
    assert department["closed"].patient.family_name not in csv_answer.content.decode()
    assert sign_in(Client(), people["radiologist"]).get("/dashboard/").status_code == 200
    assert sign_in(Client(), people["nurse"]).get("/dashboard/").status_code == 403


def test_a_period_that_makes_no_sense_is_refused_beside_the_field(db: Any, people: dict[str, Any]) -> None:
    manager = sign_in(Client(), people["manager"])
    page = manager.get("/dashboard/", {"start": "2026-05-01", "end": "2026-04-01"})
    assert page.status_code == 400 and "The start is after the end." in page.content.decode()
    wide = manager.get("/dashboard/figures.csv", {"start": "2016-01-01", "end": "2026-01-01"})
    assert wide.status_code == 400 and "Choose at most three years." in wide.content.decode()


def test_calls_red_flag_answers_lost_procedures_and_who_refers(
    department: dict[str, Any], actors: dict[str, Any], make_case: Any
) -> None:
    from kyphos.aftercare import diary
    from kyphos.pathway import kernel, services
    from kyphos.pathway.models import Task, TaskKind, TaskStatus
    from tests.conftest import diary_entry, patient_actor

    discharged = department["discharged"]
    started = ProcedureRecord.objects.get(case=discharged).started_at
    # A fever two days after the procedure: the nurse's call is done 40 minutes after the task opened. The same
    # entry says the patient was admitted to a hospital since discharge.
    with time_machine.travel(started + timedelta(days=2), tick=False):
        diary.record_entry(patient_actor(), discharged, replace(diary_entry(fever="yes"), admitted="yes"))
    task = Task.objects.get(case=discharged, kind=TaskKind.DIARY_SAME_DAY)
    with time_machine.travel(task.created_at + timedelta(minutes=40), tick=False):
        kernel.close_task(actors["nurse"], task, TaskStatus.DONE, "called: no fever now")
    # One procedure postponed on its own morning (unwell), one cancelled three days before (declined).
    unwell = make_case("scheduled", start=MONDAY + timedelta(days=21))
    with time_machine.travel(MONDAY + timedelta(days=21, hours=-2), tick=False):
        services.postpone_case(actors["scheduler"], unwell, version=unwell.version, reason="illness")
    declined = make_case("scheduled", start=MONDAY + timedelta(days=28))
    with time_machine.travel(MONDAY + timedelta(days=25), tick=False):
        services.cancel_case(actors["scheduler"], declined, version=declined.version, reason="patient_declined")
    # At the follow-up visit the closed case's patient said they had been admitted to a hospital since.
    from kyphos.aftercare.models import FollowUpRecord

    FollowUpRecord.objects.filter(case=department["closed"]).update(complications=["fever", "readmitted"])
    with time_machine.travel(LATER):
        figures = figures_for(period(department["site"]))
    assert figures.readmitted == Proportion(2, 2)  # one told at the follow-up visit, one in the diary
    assert figures.red_flag_response_minutes.values == (40.0,)
    assert figures.not_done == {"illness": [1, 1, 0, 0], "patient_declined": [0, 0, 1, 0]}
    assert figures.reached_in_call_window == Proportion(2, 2)  # both treated patients called inside the window
    assert figures.referral_sources == [("Dr Okafor", 5)]
