"""Unambiguous dates (Mon 07-Dec-2026) and 24-hour times in the site's zone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kyphos import measures
from kyphos import when as when_words
from kyphos.pathway.kernel import person as person_words
from kyphos.rules.cement import products
from kyphos.rules.findings import Finding, message_of
from kyphos.rules.labs import tests
from kyphos.rules.redflags import flags

register = template.Library()

SEVERITY_WORDS = {"stop": _("Stop"), "caution": _("Caution"), "info": _("Info")}


@register.filter
def day(value: date | datetime | None, site: Any = None) -> str:
    """``Mon 07-Dec-2026``; a datetime is first put in the site's zone."""
    return when_words.staff_day(value, site)


@register.filter
def when(value: datetime | None, site: Any = None) -> str:
    """``Mon 07-Dec-2026 08:00``, in the site's zone, with the zone named when it is not the user's."""
    return when_words.staff_when(value, site)


@register.filter
def lt(value: Any, other: Any) -> bool:
    return bool(value is not None and other is not None and value < other)


@register.filter
def clock(value: datetime | None, site: Any = None) -> str:
    return when_words.staff_time(value, site)


@register.filter
def temperature(celsius: Any, site: Any = None) -> str:
    """A stored °C temperature as the site reads it (``37.2 °C`` or ``99.0 °F``)."""
    return measures.temperature(celsius, site)


@register.filter
def age_on(patient: Any, today: date) -> int:
    return int(patient.age_on(today))


@register.simple_tag
def severity(finding: Any) -> str:
    sev = finding["severity"] if isinstance(finding, dict) else finding.severity
    label = SEVERITY_WORDS[str(sev)]
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
    """Diary red-flag ids as the questions the patient answered yes to (for staff, in the page's language)."""
    known, language = flags(), get_language() or "en"
    return "; ".join(
        (known[i].question.get(language) or known[i].question["en"]) if i in known else str(i) for i in ids or []
    )


@register.filter
def finding_words(finding: Any) -> str:
    """A finding's message in the page's language (a stored finding keeps its sentence and values for this)."""
    message = finding.message if isinstance(finding, Finding) else message_of(finding)
    return str(message)


# Units as people write them, not as UCUM codes them.
PRINT_UNITS = {"10*9/L": "× 10⁹/L", "mL/min/1.73m2": "mL/min/1.73 m²", "10*12/L": "× 10¹²/L"}


@register.filter
def print_unit(unit: str) -> str:
    """``10*9/L`` → ``× 10⁹/L``."""
    return PRINT_UNITS.get(unit, unit)


@register.filter
def lab_name(code: str) -> str:
    """A lab test by its name ("Creatinine"), not its code."""
    test = tests().get(code)
    return test.name if test else code


@register.filter
def cement_name(product_id: str) -> str:
    """A cement product by its name ("Kyphon HV-R"), not its id."""
    product = products().get(product_id)
    return product.name if product else product_id


@register.filter
def short_source(source: str) -> str:
    """One short line for under a finding ("SIR 2019 Part II"); the full citation sits one click away."""
    text = str(source or "")
    for stop in (" (", ";", ":", ", "):
        head = text.split(stop, 1)[0]
        if 0 < len(head) < len(text):
            text = head
            break
    return text if len(text) <= 60 else text[:59].rsplit(" ", 1)[0] + "…"


@register.filter
def person(user: Any) -> str:
    """A signer or assignee by full name and role ("Rita Okafor, radiologist"), never the bare user name; a name
    already stored as signed (a string) is shown as it is."""
    return user if isinstance(user, str) else person_words(user)
