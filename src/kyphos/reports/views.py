"""The manager's dashboard (``/dashboard/``): by site and period, every filter in the URL so a view can be
shared; the numbers behind each chart as a table and as CSV (``/dashboard/figures.csv`` with the same query)."""

from __future__ import annotations

import csv
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.pathway import kernel
from kyphos.pathway.policy import may, site_ids_of
from kyphos.pathway.stages import CancelReason, PostponeReason
from kyphos.reports import cache, charts
from kyphos.reports.figures import Figures, Period, Proportion, Spread
from kyphos.reports.registry import Export
from kyphos.rules.benchmarks import for_measure
from kyphos.scheduling.models import Site

MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my sites"),
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = clock.current().date()
        end = data.get("end") or today
        start = data.get("start") or cache.twelve_months_to(end)
        if start > end:
            self.add_error("start", _("The start is after the end."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("start", _("Choose at most three years."))
        data["start"], data["end"] = start, end
        return data


def _period(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    kernel.require(Actor.from_request(request), "dashboard.view")  # a 403 naming the permission
    allowed = site_ids_of(request.user)
    sites = Site.objects.order_by("name") if allowed is None else Site.objects.filter(pk__in=allowed).order_by("name")
    today = clock.current().date()
    initial = {"start": cache.twelve_months_to(today), "end": today}  # shown in the fields before any choice
    form = PeriodForm(request.GET or None, sites=sites, initial=initial)
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if request.GET else {}
    end = data.get("end") or clock.current().date()
    start = data.get("start") or cache.twelve_months_to(end)
    site = data.get("site")
    chosen = frozenset({site.pk}) if site is not None else allowed
    return form, Period(chosen, start, end)


def _percent(share: Proportion) -> str:
    if share.total == 0:
        return "—"
    if share.small:
        return _("{events} of {total} (too few for a percentage)").format(events=share.events, total=share.total)
    return _("{percent:.0f}% ({events} of {total})").format(
        percent=100 * (share.rate or 0), events=share.events, total=share.total
    )


def _spread(spread: Spread, unit: str) -> str:
    if not spread.n:
        return "—"
    return _("median {median:g} {unit}, 90th centile {p90:g} (n = {n})").format(
        median=round(spread.median or 0, 1), p90=round(spread.p90 or 0, 1), unit=unit, n=spread.n
    )


def _mean(spread: Spread) -> str:
    if not spread.n:
        return "—"
    mean = sum(spread.values) / spread.n
    if spread.n < 10:
        return _("{n} patients (too few for a mean)").format(n=spread.n)
    return _("mean {mean:+.1f} (n = {n})").format(mean=mean, n=spread.n)


def _reason_label(code: str) -> str:
    for choices in (PostponeReason, CancelReason):
        if code in choices.values:
            return str(choices(code).label)
    return code


def rows(figures: Figures) -> list[tuple[str, str, str, str]]:
    """Every figure as (section, figure, value, n) — the page's tables and the CSV."""
    lines: list[tuple[str, str, str, str]] = []
    for week in figures.weeks:  # one number per row: a spreadsheet sums them as they are
        day = week.start.isoformat()
        lines += [
            ("volume", f"referrals, week of {day}", str(week.referrals), ""),
            ("volume", f"procedures, week of {day}", str(week.procedures), ""),
            ("volume", f"levels treated, week of {day}", str(week.levels), ""),
        ]
    lines += [
        ("volume", "referrals", str(figures.referrals), ""),
        ("volume", "procedures", str(figures.procedures), ""),
        ("volume", "levels treated", str(figures.levels), ""),
    ]
    for name, spread in (
        ("days from referral to triage", figures.referral_to_triage_days),
        ("days from referral to procedure", figures.referral_to_procedure_days),
        ("hours from the end of the procedure to discharge", figures.hours_to_discharge),
        ("pain change at 24-48 h", figures.pain_change_early),
        ("pain change at follow-up", figures.pain_change_follow_up),
        ("questionnaire score change", figures.score_change),
        ("minutes from an urgent red flag to the call", figures.red_flag_response_minutes),
    ):
        median = "" if spread.median is None else f"{spread.median:g}"
        lines.append(("distribution", f"{name} (median)", median, str(spread.n)))
    for name, share in (
        ("discharged within 24 h", figures.discharged_within_24h),
        ("follow-up visit 7-14 days after", figures.follow_up_in_window),
        ("cement leakage (levels)", figures.leakage),
        ("symptomatic cement leakage (levels)", figures.symptomatic_leakage),
        ("complications (procedures)", figures.complications),
        ("new fracture suspected at follow-up", figures.new_fracture),
        ("reached inside the call window", figures.reached_in_call_window),
        ("readmitted (told at follow-up)", figures.readmitted),
    ):
        lines.append(("proportion", name, str(share.events), str(share.total)))
    for code, (postponed, postponed_same_day, cancelled, cancelled_same_day) in figures.not_done.items():
        lines += [
            ("not done", f"postponed: {code}", str(postponed), ""),
            ("not done", f"postponed on the day: {code}", str(postponed_same_day), ""),
            ("not done", f"cancelled: {code}", str(cancelled), ""),
            ("not done", f"cancelled on the day: {code}", str(cancelled_same_day), ""),
        ]
    for name, n in figures.referral_sources:
        lines.append(("referral source", name, str(n), ""))
    for stage, counts in figures.pain.items():
        for score, n in enumerate(counts):
            lines.append(("pain", f"{stage} {score}", str(n), ""))
    return lines


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    context: dict[str, Any] = {"form": form}
    if period is not None:
        figures = cache.figures(period)
        audit.record(Actor.from_request(request), AuditAction.VIEW, "dashboard", detail=f"{period.start}..{period.end}")
        language = get_language() or "en"
        categories = [f"{w.start:%d %b}" for w in figures.weeks]
        volume_chart = charts.bars(
            "volume",
            _("Referrals, procedures and levels treated per week"),
            _("Weekly counts from {start} to {end}; the numbers are in the table below.").format(
                start=period.start.isoformat(), end=period.end.isoformat()
            ),
            categories,
            [
                charts.Series(_("Referrals"), [float(w.referrals) for w in figures.weeks]),
                charts.Series(_("Procedures"), [float(w.procedures) for w in figures.weeks]),
                charts.Series(_("Levels"), [float(w.levels) for w in figures.weeks]),
            ],
        )
        pain_chart = charts.bars(
            "pain",
            _("Pain (0-10) before, at 24-48 hours and at follow-up"),
            _("How many patients gave each pain score at each time; the numbers are in the table below."),
            [str(n) for n in range(11)],
            [
                charts.Series(_("Before"), [float(n) for n in figures.pain["baseline"]]),
                charts.Series(_("24-48 hours"), [float(n) for n in figures.pain["early"]]),
                charts.Series(_("Follow-up"), [float(n) for n in figures.pain["follow_up"]]),
            ],
        )
        context |= {
            "period": period,
            "figures": figures,
            "volume_chart": volume_chart,
            "pain_chart": pain_chart,
            "timeliness": [
                (_("Days from referral to triage"), _spread(figures.referral_to_triage_days, _("days"))),
                (_("Days from referral to procedure"), _spread(figures.referral_to_procedure_days, _("days"))),
                (_("Patients reached inside the call window"), _percent(figures.reached_in_call_window)),
            ],
            "not_done": [(_reason_label(code), *counts) for code, counts in figures.not_done.items()],
            "sources": figures.referral_sources,
            "stay": [
                (_("Hours from the end of the procedure to discharge"), _spread(figures.hours_to_discharge, _("h"))),
                (_("Discharged within 24 hours"), _percent(figures.discharged_within_24h)),
            ],
            "follow_up": [
                (_("Seen at follow-up 7-14 days after the procedure"), _percent(figures.follow_up_in_window)),
                (_("Diary entries with a red flag"), str(figures.red_flag_entries)),
                (_("... of which urgent (emergency or same day)"), str(figures.urgent_red_flag_entries)),
                (_("Admitted to a hospital since discharge (told at follow-up)"), _percent(figures.readmitted)),
                (
                    _("Minutes from an urgent red flag to the call"),
                    _spread(figures.red_flag_response_minutes, _("min")),
                ),
            ],
            "outcomes": [
                (_("Pain change at 24-48 hours"), _mean(figures.pain_change_early), for_measure("pain_change")),
                (_("Pain change at follow-up"), _mean(figures.pain_change_follow_up), for_measure("pain_change")),
                (_("Questionnaire score change (RDQ, ODI…)"), _mean(figures.score_change), for_measure("function")),
            ],
            "safety": [
                (_("Cement leakage (per level)"), _percent(figures.leakage), for_measure("leakage")),
                (
                    _("Symptomatic cement leakage (per level)"),
                    _percent(figures.symptomatic_leakage),
                    for_measure("symptomatic_leakage"),
                ),
                (_("Complications (per procedure)"), _percent(figures.complications), for_measure("complication")),
                (
                    _("New fracture suspected at follow-up (per patient seen)"),
                    _percent(figures.new_fracture),
                    for_measure("new_fracture"),
                ),
            ],
            "pain_rows": [
                (n, figures.pain["baseline"][n], figures.pain["early"][n], figures.pain["follow_up"][n])
                for n in range(11)
            ],
            "language": language,
            "query": request.GET.urlencode(),
            "may_export": may(request.user, "registry.export"),
        }
    return render(request, "reports/dashboard.html", context, status=200 if period is not None else 400)


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    if period is None:
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    figures = cache.figures(period)
    audit.record(Actor.from_request(request), AuditAction.VIEW, "dashboard", detail=f"csv {period.start}..{period.end}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kyphos-figures-{period.start}-{period.end}.csv"'
    writer = csv.writer(response)
    writer.writerow(["section", "figure", "value", "n"])
    writer.writerows(rows(figures))
    return response


@login_required
@require_GET
def registry_zip(request: HttpRequest) -> HttpResponse | FileResponse:
    """The registry export of the period (``kyphos export registry`` from the dashboard): cases.csv and
    levels.csv in one ZIP, de-identified with ``deidentified=1``; written to a temporary file (memory stays
    bounded), every patient exported audited."""
    form, period = _period(request)
    actor = Actor.from_request(request)
    kernel.require(actor, "registry.export")
    if period is None:
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    deidentified = request.GET.get("deidentified") == "1"
    export = Export(period, deidentified=deidentified)
    with tempfile.TemporaryDirectory(prefix="kyphos-registry-") as folder:
        cases_path, levels_path = Path(folder, "cases.csv"), Path(folder, "levels.csv")
        with (
            open(cases_path, "w", newline="", encoding="utf-8") as cases,
            open(levels_path, "w", newline="", encoding="utf-8") as levels,
        ):
            export.write(cases, levels, actor)
        bundle = open(Path(folder, "registry.zip"), "w+b")  # noqa: SIM115 - the response closes it
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(cases_path, "cases.csv")
            archive.write(levels_path, "levels.csv")
        bundle.seek(0)  # still open: the folder goes, the file is read to its end by the response
    kind = "deidentified" if deidentified else "identified"
    return FileResponse(
        bundle,
        as_attachment=True,
        filename=f"kyphos-registry-{kind}-{period.start}-{period.end}.zip",
        content_type="application/zip",
    )
