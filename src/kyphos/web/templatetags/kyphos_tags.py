"""Unambiguous dates (Mon 07-Dec-2026) and 24-hour times in the site's zone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.html import format_html

from kyphos.rules.redflags import flags

register = template.Library()


def _zone(site: Any) -> ZoneInfo:
    """The zone of a site, or a zone name, or the user's zone when none is given (ZoneInfo caches each)."""
    if site is None:
        return ZoneInfo(settings.TIME_ZONE)
    return ZoneInfo(site if isinstance(site, str) else site.time_zone)


@register.filter
def day(value: date | datetime | None, site: Any = None) -> str:
    """``Mon 07-Dec-2026``; a datetime is first put in the site's zone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(_zone(site))
    return f"{value:%a %d-%b-%Y}"


@register.filter
def when(value: datetime | None, site: Any = None) -> str:
    """``Mon 07-Dec-2026 08:00``, in the site's zone, with the zone named when it is not the user's."""
    if value is None:
        return "—"
    zone = _zone(site)
    local = value.astimezone(zone)
    text = f"{local:%a %d-%b-%Y %H:%M}"
    if zone.key != settings.TIME_ZONE:
        text += f" {local:%Z}"
    return text


@register.filter
def lt(value: Any, other: Any) -> bool:
    return bool(value is not None and other is not None and value < other)


@register.filter
def clock(value: datetime | None, site: Any = None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(_zone(site))
    return f"{local:%H:%M}"


@register.filter
def age_on(patient: Any, today: date) -> int:
    return int(patient.age_on(today))


@register.simple_tag
def severity(finding: Any) -> str:
    sev = finding["severity"] if isinstance(finding, dict) else finding.severity
    label = {"stop": "Stop", "caution": "Caution", "info": "Info"}[str(sev)]
    return format_html('<span class="sev sev-{}">{}</span>', sev, label)


@register.filter
def attr(obj: Any, name: str) -> Any:
    """A field of a record by name (the patient's checklist items, listed as data)."""
    return getattr(obj, name, None)


@register.filter
def words(code: str) -> str:
    """``booking_confirmation`` → ``booking confirmation``."""
    return str(code).replace("_", " ")


@register.filter
def red_flag_words(ids: Any) -> str:
    """Diary red-flag ids as the questions the patient answered yes to (for staff)."""
    known = flags()
    return "; ".join(known[i].question["en"] if i in known else str(i) for i in ids or [])
