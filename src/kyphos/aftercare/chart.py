"""The pain chart of the follow-up visit: one point per day from the referral (baseline) through the procedure
to today, diary red flags marked with a shape and a word (never by colour alone). Drawn as inline SVG by the
server, with the same numbers in a table for screen readers and print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from kyphos import clock, when
from kyphos.aftercare.outcomes import pain_points
from kyphos.aftercare.selectors import procedure_record
from kyphos.pathway.models import Case

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 40, 16, 14, 34
# Where a pain score came from (the codes pain_points gives), in the reader's words.
SOURCES = {"referral": _("referral"), "ward": _("ward"), "diary": _("diary"), "follow-up": _("follow-up visit")}


@dataclass(frozen=True)
class Point:
    day: date
    label: str  # "before", "day 0", "day 3" … in the reader's language
    pain: int  # the highest score that day (the worst is what matters clinically)
    source: str  # a code of SOURCES
    flags: tuple[str, ...]
    x: float = 0
    y: float = 0
    axis: str = ""  # under the point: "before", or the day's number

    @property
    def source_words(self) -> str:
        return str(SOURCES.get(self.source, self.source))


def _procedure_day(case: Case) -> date | None:
    record = procedure_record(case)
    start = record.started_at if record is not None else (case.appointment.start if case.appointment else None)
    return when.local_day(start, case.site) if start else None


def points(case: Case, today: datetime | None = None) -> list[Point]:
    zone = case.site.zone
    day0 = _procedure_day(case)
    by_day: dict[date, tuple[int, str, set[str]]] = {}

    def add(moment: datetime, pain: int, source: str, flags: tuple[str, ...] = ()) -> None:
        day = when.local_day(moment, zone)
        worst, src, seen = by_day.get(day, (-1, source, set()))
        by_day[day] = (max(worst, pain), source if pain >= worst else src, seen | set(flags))

    for moment, pain, source, raised in pain_points(case)[1:]:  # [0] is the referral: the baseline point
        add(moment, pain, source, raised)
    before = pgettext("pain chart", "before")
    out = [Point(case.referral_date, before, case.pain_nrs, "referral", (), axis=before)]
    for day in sorted(by_day):
        worst, source, seen = by_day[day]
        number = (day - day0).days if day0 else None
        label = pgettext("pain chart", "day {number}").format(number=number) if day0 else day.isoformat()
        out.append(Point(day, label, worst, source, tuple(sorted(seen)), axis=str(number) if day0 else label))
    return _place(out, day0, when.local_day(today or clock.current(), zone))


def _place(found: list[Point], day0: date | None, today: date) -> list[Point]:
    """x: the baseline sits one step left of the procedure day; then one step per day up to today."""
    if day0 is None:
        return found
    last = max([today, *(p.day for p in found[1:])])
    span = max((last - day0).days, 1) + 1
    step = (WIDTH - LEFT - RIGHT) / span

    def y(pain: int) -> float:
        return TOP + (10 - pain) * (HEIGHT - TOP - BOTTOM) / 10

    first = found[0]
    placed = [Point(first.day, first.label, first.pain, first.source, (), LEFT, y(first.pain), first.axis)]
    for p in found[1:]:
        x = LEFT + step * (1 + (p.day - day0).days)
        placed.append(Point(p.day, p.label, p.pain, p.source, p.flags, x, y(p.pain), p.axis))
    return placed


def polyline(found: list[Point]) -> str:
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in found)


def grid() -> list[tuple[int, float]]:
    return [(n, TOP + (10 - n) * (HEIGHT - TOP - BOTTOM) / 10) for n in (0, 2, 4, 6, 8, 10)]
