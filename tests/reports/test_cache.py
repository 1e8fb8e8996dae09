"""The dashboard's cache: whole months kept per site give the same figures as the records, a change recomputes only
the months it can alter, a month still settling is recomputed as time passes, and the page says which it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from django.test import Client

from kyphos.audit import services as audit
from kyphos.audit.models import AuditAction
from kyphos.pathway import services
from kyphos.procedure.models import ProcedureRecord
from kyphos.reports import cache
from kyphos.reports.figures import Period, Proportion, figures_for
from kyphos.reports.models import MonthFigures
from tests.accounts import sign_in

LATER = datetime(2030, 3, 1, 12, tzinfo=UTC)  # every follow-up window of the department's cases has closed
FIRST, LAST = date(2026, 1, 1), date(2030, 2, 28)  # 50 whole months


def test_whole_months_from_the_cache_are_the_figures_of_the_records(
    department: dict[str, Any], other_site: Any, django_assert_max_num_queries: Any
) -> None:
    site = department["site"]
    one_site = Period(frozenset({site.pk}), FIRST, LAST)
    with time_machine.travel(LATER):
        live = figures_for(one_site)
        kept = cache.figures(one_site)
        assert kept.from_cache and MonthFigures.objects.filter(site=site).count() == 50
        assert kept.to_data() == live.to_data()
        assert (kept.procedures, kept.levels, kept.follow_up_in_window) == (2, 4, Proportion(1, 2))
        # Asked again: read from the kept months, nothing computed.
        with django_assert_max_num_queries(1):
            again = cache.figures(one_site)
        assert again.to_data() == live.to_data()
        # Every site: each site's months added up (the other site has none of the department's patients).
        every = cache.figures(Period(None, FIRST, LAST))
    assert MonthFigures.objects.filter(site=other_site).count() == 50
    assert every.to_data() == live.to_data()


def test_a_period_that_is_not_whole_months_is_computed_from_the_records(department: dict[str, Any]) -> None:
    mid_month = Period(frozenset({department["site"].pk}), date(2029, 12, 15), LAST)
    with time_machine.travel(LATER):
        figures = cache.figures(mid_month)
        assert not figures.from_cache and figures.to_data() == figures_for(mid_month).to_data()
    assert not MonthFigures.objects.exists()
    # To today in the current month is whole months: the current month's figures are those so far.
    with time_machine.travel(LATER):
        assert cache.months_of(Period(None, date(2030, 1, 1), LATER.date()), LATER.date()) == [
            date(2030, 1, 1),
            date(2030, 2, 1),
            date(2030, 3, 1),
        ]
        assert cache.months_of(Period(None, date(2030, 1, 1), date(2030, 2, 27)), LATER.date()) is None
        assert cache.twelve_months_to(date(2030, 3, 1)) == date(2029, 4, 1)


def test_a_change_recomputes_only_the_months_it_can_alter(
    department: dict[str, Any], other_site: Any, actors: dict[str, Any], settings: Any, monkeypatch: Any
) -> None:
    settings.KYPHOS_DASHBOARD_REFRESH_SECONDS = 86400  # the months still settling wait: only the change counts
    monkeypatch.setattr(cache, "UUIDS_PER_QUERY", 1)  # the changed patients looked up one at a time
    site, referred = department["site"], department["referred"]
    every = Period(None, FIRST, LAST)
    with time_machine.travel(LATER):
        before = cache.figures(every)
        assert cache.refresh() == 0  # nothing changed since
    kept_at = dict(MonthFigures.objects.values_list("pk", "computed_at"))
    # The referred patient is triaged a few years after the referral.
    with time_machine.travel(LATER + timedelta(hours=1)):
        services.triage_case(
            actors["radiologist"], referred, version=referred.version, reason="ok", override_reason="reviewed"
        )
        closed = department["closed"]  # a second patient changed in the same pass (referred the same month)
        audit.record(
            actors["nurse"], AuditAction.UPDATE, "patient", closed.patient.uuid, patient_uuid=closed.patient.uuid
        )
        stale = cache.figures(every)
        assert stale.to_data() == before.to_data()  # served as kept until the worker's next pass
        recomputed = cache.refresh()
        fresh = cache.figures(every)
        assert fresh.to_data() == figures_for(Period(frozenset({site.pk}), FIRST, LAST)).to_data()
    referral_month = referred.referral_date.replace(day=1)
    expected = MonthFigures.objects.filter(site=site, month__gte=referral_month).count()
    assert recomputed == expected and 0 < expected < 50
    for row in MonthFigures.objects.all():
        changed = row.site_id == site.pk and row.month >= referral_month
        assert (row.computed_at != kept_at[row.pk]) == changed, (row.site_id, row.month)
    assert fresh.referral_to_triage_days.n == before.referral_to_triage_days.n + 1
    assert fresh.as_of is not None and fresh.as_of > LATER


def test_a_month_still_settling_is_recomputed_as_its_follow_up_windows_close(department: dict[str, Any]) -> None:
    site = department["site"]
    january = Period(frozenset({site.pk}), date(2030, 1, 1), date(2030, 1, 31))
    ended = max(r.ended_at for r in ProcedureRecord.objects.all() if r.ended_at is not None)
    soon = ended + timedelta(days=3)  # inside the follow-up windows: none is a miss yet
    with time_machine.travel(soon):
        cache.refresh()  # the department's records were written before: nothing kept yet to mark
        assert cache.figures(january).follow_up_in_window == Proportion(0, 0)
        assert cache.refresh() == 0  # computed moments ago
    with time_machine.travel(LATER):
        assert cache.refresh() == 1  # the clock alone has changed January
        assert cache.figures(january).follow_up_in_window == Proportion(1, 2)
    with time_machine.travel(LATER + timedelta(days=30)):
        assert cache.refresh() == 0  # settled: no longer recomputed


def test_the_page_says_whether_its_figures_are_kept_or_computed_now(
    department: dict[str, Any], people: dict[str, Any]
) -> None:
    with time_machine.travel(LATER):
        manager = sign_in(Client(), people["manager"])
        kept = manager.get("/dashboard/").content.decode()
        computed = manager.get("/dashboard/", {"start": "2029-12-15", "end": "2030-02-28"}).content.decode()
    assert "Figures as they stood at" in kept and 'value="2029-04-01"' in kept  # twelve whole months by default
    assert "Computed from the records just now" in computed


def test_the_worker_computes_the_default_view_before_anyone_opens_it(
    department: dict[str, Any], other_site: Any, django_assert_max_num_queries: Any
) -> None:
    from django.core.management import call_command

    with time_machine.travel(LATER):
        call_command("worker", "--once")  # refresh, then warm: twelve whole months to today, every site
        assert MonthFigures.objects.count() == 2 * 12  # April 2029 to March 2030 (the current month) at both sites
        assert cache.warm() == 0  # kept: nothing more to compute
        default = Period(None, cache.twelve_months_to(LATER.date()), LATER.date())
        with django_assert_max_num_queries(2):  # the sites, the kept months: nothing computed
            figures = cache.figures(default)
        assert figures.from_cache and figures.to_data() == figures_for(default).to_data()
