"""The dashboard's cache: each site's figures for each calendar month, added up for a period made of whole months.

A year of a site is twelve small rows (``MonthFigures``: counts, and spreads kept as counts of each value), so a
cached dashboard is one indexed read and some additions, however large the registry. A period that is not whole
months (it starts on another day than the first, or ends before a month's last day other than today) is
computed from the records directly.

Kept current incrementally by the worker (``refresh``, registered as a periodic job):

- **Changes.** Every change to a patient's records writes an audit entry in the same transaction, and entries are
  appended one writer at a time with the lock held to the commit (``audit.chain``), so their ids commit in order:
  the cache remembers the last id it read (``ChangeMark``) and reads on from there. A changed case can only alter
  its site's months from the month of its referral on (everything of a case happens after it is referred); those
  of them computed before the change (or within ``COMMIT_MARGIN`` after it) are marked changed and recomputed,
  the others stay.
- **Time.** A month's figures change by the clock alone until its last follow-up and call windows have closed
  (``settles_at``); until then they are recomputed every ``KYPHOS_DASHBOARD_REFRESH_SECONDS``.

With every site chosen, each site's months are in that site's own time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q

from kyphos import clock
from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.pathway.models import Case
from kyphos.reports.figures import FOLLOW_UP_WINDOW, Figures, Period, figures_for
from kyphos.reports.models import ChangeMark, MonthFigures
from kyphos.scheduling.models import Site

# A month settles when the follow-up window of a procedure on its last day has closed (and a day's margin).
SETTLE_DAYS = FOLLOW_UP_WINDOW[1] + 2
CHANGES = [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.TRANSITION, AuditAction.OVERRIDE]
MARK = "audit"
RECOMPUTE_PER_PASS = 48
UUIDS_PER_QUERY = 500  # changed patients looked up at a time (SQLite allows a few thousand parameters)
# A change is stamped when written and committed moments later: a month computed within this margin after the
# stamp may not have seen it, and is recomputed.
COMMIT_MARGIN = timedelta(minutes=1)  # months recomputed by one refresh pass; the rest wait for the next one


def first_of(day: date) -> date:
    return day.replace(day=1)


def last_of(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def twelve_months_to(end: date) -> date:
    """The first day of the month eleven months before ``end``'s: with ``end`` itself, twelve whole months."""
    month = first_of(end)
    for _ in range(11):
        month = first_of(month - timedelta(days=1))
    return month


def months_of(period: Period, today: date) -> list[date] | None:
    """The first days of the months the period is made of, or None when it is not whole months: it must start on
    a month's first day and end on a month's last day, or on today or later in the current month."""
    if period.start.day != 1:
        return None
    end_month = first_of(period.end)
    if period.end != last_of(end_month) and not (end_month == first_of(today) and period.end >= today):
        return None
    months, month = [], period.start
    while month <= end_month:
        months.append(month)
        month = last_of(month) + timedelta(days=1)
    return months


def _settles_at(month: date) -> datetime:
    return datetime.combine(last_of(month) + timedelta(days=SETTLE_DAYS), time.min, UTC)


def compute(site_id: int, month: date) -> MonthFigures:
    """Compute one site's month from the records and keep it (replacing what was kept)."""
    started = clock.current()
    figures = figures_for(Period(frozenset({site_id}), month, last_of(month)))
    values = {"data": figures.to_data(), "computed_at": started, "settles_at": _settles_at(month)}
    try:
        with transaction.atomic():
            row, _created = MonthFigures.objects.update_or_create(site_id=site_id, month=month, defaults=values)
    except IntegrityError:  # another process kept the same month at the same moment: theirs is as good
        row = MonthFigures.objects.get(site_id=site_id, month=month)
    return row


def figures(period: Period) -> Figures:
    """The period's figures: from the cache when the period is whole months (a month not kept yet is computed and
    kept), else from the records. ``as_of`` says when the oldest part was computed."""
    now = clock.current()
    months = months_of(period, now.date())
    if months is None:
        live = figures_for(period)
        live.as_of = now
        return live
    sites = period.sites
    if sites is None:
        sites = frozenset(Site.objects.values_list("pk", flat=True))
    kept = {
        (row.site_id, row.month): row
        for row in MonthFigures.objects.filter(site_id__in=sites, month__gte=months[0], month__lte=months[-1])
    }
    result = Figures(period)
    oldest = now
    for site_id in sorted(sites):
        for month in months:
            row = kept.get((site_id, month)) or compute(site_id, month)
            result.add(row.data)
            oldest = min(oldest, row.computed_at)
    result.weeks = [week for week in result.weeks if week.start <= period.end]  # the current month: to today
    result.as_of, result.from_cache = oldest, True
    return result


def refresh(now: datetime | None = None) -> int:
    """Read the changes since the last pass, mark the months they may alter, and recompute what is out of date
    (changed, or not settled and older than the refresh interval). Returns how many months were recomputed."""
    now = now or clock.current()
    with transaction.atomic():
        mark = ChangeMark.objects.select_for_update(no_key=True).filter(name=MARK).first()
        last = AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0
        if mark is None:
            # The first pass: a month kept already was computed after every change logged so far, so reading
            # starts here (not at the start of a years-long audit log).
            try:
                with transaction.atomic():
                    mark = ChangeMark.objects.create(name=MARK, last_id=last)
            except IntegrityError:
                mark = ChangeMark.objects.select_for_update(no_key=True).get(name=MARK)
        if last > mark.last_id:
            changed = dict(
                AuditEntry.objects.filter(
                    id__gt=mark.last_id, id__lte=last, action__in=CHANGES, patient_uuid__isnull=False
                )
                .values_list("patient_uuid")
                .annotate(latest=Max("at"))
                .order_by()
            )
            # (site, month of referral) → the latest change of its cases; months computed well after it saw it.
            latest: dict[tuple[int, date], datetime] = {}
            patients = list(changed)
            for start in range(0, len(patients), UUIDS_PER_QUERY):  # after a long pause there may be many
                cases = Case.objects.filter(patient__uuid__in=patients[start : start + UUIDS_PER_QUERY])
                for site_id, referred, patient in cases.values_list("site_id", "referral_date", "patient__uuid"):
                    key = (site_id, first_of(referred))
                    latest[key] = max(changed[patient], latest.get(key, changed[patient]))
            for (site_id, month), at in latest.items():
                MonthFigures.objects.filter(
                    site_id=site_id, month__gte=month, computed_at__lte=at + COMMIT_MARGIN
                ).update(changed_at=now)
            mark.last_id = last
            mark.save(update_fields=["last_id"])
    interval = timedelta(seconds=settings.KYPHOS_DASHBOARD_REFRESH_SECONDS)
    due = MonthFigures.objects.filter(
        Q(changed_at__gte=F("computed_at")) | (Q(computed_at__lt=F("settles_at")) & Q(computed_at__lt=now - interval))
    ).order_by("-month", "site_id")[:RECOMPUTE_PER_PASS]
    done = 0
    for site_id, month in due.values_list("site_id", "month"):
        compute(site_id, month)
        done += 1
    return done


def warm(now: datetime | None = None) -> int:
    """Compute the months of the dashboard's default view (twelve whole months to today) that are not kept yet, for
    every site, so the first manager to open it does not wait for them (a year of a large site takes seconds
    cold). Run by the worker beside ``refresh``; at most ``RECOMPUTE_PER_PASS`` months a pass."""
    today = (now or clock.current()).date()
    months = months_of(Period(None, twelve_months_to(today), today), today) or []
    kept = set(MonthFigures.objects.filter(month__gte=months[0]).values_list("site_id", "month")) if months else set()
    missing = [
        (site_id, month)
        for site_id in Site.objects.order_by("id").values_list("pk", flat=True)
        for month in reversed(months)
        if (site_id, month) not in kept
    ]
    for site_id, month in missing[:RECOMPUTE_PER_PASS]:
        compute(site_id, month)
    return min(len(missing), RECOMPUTE_PER_PASS)
