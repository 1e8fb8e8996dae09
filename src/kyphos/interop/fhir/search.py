"""Search parameters as FHIR R4 defines them (section 3.1.1, "Search"), turned into ORM filters, and paging.

Dates take the prefixes eq, ne, lt, le, gt, ge, sa, eb and any precision from a year to a second; a value names
a range (``2026-03`` is all of March) and each prefix compares ranges as section 3.1.1.4.2 says. Strings match
from the start, ignoring case and accents. Tokens are ``[system|]code``.

Pages follow a keyset: the ``next`` link carries the sort key and id of the last entry shown (signed, so a client
cannot forge it), so rows inserted or removed meanwhile never shift a page or repeat an entry.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from kyphos.interop.fhir.outcome import FhirError

PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb")
DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
COUNT_DEFAULT, COUNT_MAX = 50, 500
CURSOR_SALT = "kyphos.fhir.cursor"
CONTROL = {"_count", "_sort", "_total", "_cursor", "_format", "_pretty", "_summary", "_elements"}


def bad(text: str, where: str = "") -> FhirError:
    return FhirError(400, "invalid", text, where)


def date_range(text: str, name: str) -> tuple[str, datetime, datetime]:
    """(prefix, start, end) of a date search value; end is exclusive."""
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    found = DATE.match(value)
    if found is None:
        raise bad(
            _("{name}: “{value}” is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a time).").format(
                name=name, value=value[:40]
            ),
            name,
        )
    try:
        year, month, day = int(found["year"]), int(found["month"] or 1), int(found["day"] or 1)
        zone: Any = UTC
        if found["zone"] and found["zone"] != "Z":
            sign = 1 if found["zone"][0] == "+" else -1
            hours, minutes = int(found["zone"][1:3]), int(found["zone"][4:6])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        if found["hour"] is not None:
            second = int(found["second"] or 0)
            start = datetime(year, month, day, int(found["hour"]), int(found["minute"]), second, tzinfo=zone)
            end = start + (timedelta(seconds=1) if found["second"] else timedelta(minutes=1))
        else:
            start = datetime.combine(date(year, month, day), time(), tzinfo=UTC)
            if found["day"]:
                end = start + timedelta(days=1)
            elif found["month"]:
                end = start + timedelta(days=calendar.monthrange(year, month)[1])
            else:
                end = start.replace(year=year + 1)
    except (ValueError, OverflowError):
        raise bad(_("{name}: “{value}” is not a real date.").format(name=name, value=value[:40]), name) from None
    return prefix, start, end


def date_filter(field: str, values: list[str], name: str, *, is_date: bool = False) -> Q:
    """The filter for every value of a date parameter (repeated: all must hold; comma: any may)."""
    combined = Q()
    for value in values:
        either = Q(pk__in=[])
        for part in value.split(","):
            prefix, start, end = date_range(part, name)
            low: Any = start.date() if is_date else start
            high: Any = end.date() if is_date else end
            either |= {
                "eq": Q(**{f"{field}__gte": low, f"{field}__lt": high}),
                "ne": Q(**{f"{field}__lt": low}) | Q(**{f"{field}__gte": high}),
                "lt": Q(**{f"{field}__lt": low}),
                "eb": Q(**{f"{field}__lt": low}),
                "le": Q(**{f"{field}__lt": high}),
                "gt": Q(**{f"{field}__gte": high}),
                "sa": Q(**{f"{field}__gte": high}),
                "ge": Q(**{f"{field}__gte": low}),
            }[prefix]
        combined &= either
    return combined


def token(text: str) -> tuple[str | None, str]:
    """(system, code) of a token value: ``system|code``, ``|code`` (no system) or ``code`` (any system)."""
    if "|" in text:
        system, _bar, code = text.partition("|")
        return system, code
    return None, text


@dataclass(frozen=True)
class Sort:
    """A sort a search accepts: the model field, and how its value is written into and read from a cursor."""

    field: str
    dump: Callable[[Any], Any] = lambda v: v
    load: Callable[[Any], Any] = lambda v: v


def iso(value: datetime) -> str:
    return value.isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Page:
    rows: list[Any]  # (part, row) pairs: which of the type's parts (kinds.Kind.parts) a row comes from
    next_cursor: str | None
    total: int | None


def count_of(params: QueryDict) -> int:
    text = params.get("_count", str(COUNT_DEFAULT))
    try:
        count = int(text)
    except ValueError:
        raise bad(_("_count must be a whole number."), "_count") from None
    if not 0 <= count <= COUNT_MAX:
        raise bad(_("_count must be from 0 to {most}.").format(most=COUNT_MAX), "_count")
    return count


def page(parts: list[tuple[QuerySet[Any], dict[str, Sort]]], params: QueryDict, default: str) -> Page:
    """One page over the querysets of a type's parts, in the order ``_sort`` asks (a key every part sorts by,
    ``-`` for descending), after the cursor's entry; ``total`` only with ``_total=accurate``.

    Entries are ordered by (sort value, part, row id), so a page merges the parts' own keyset pages: each part
    is read from just after the cursor (strictly after for the parts before the cursor's part, from the same
    value on for the parts after it) and the first ``_count`` of the merged rows make the page.
    """
    wanted = params.get("_sort") or default
    descending = wanted.startswith("-")
    key = wanted.lstrip("-")
    common = [name for name in parts[0][1] if all(name in sorts for _rows, sorts in parts)]
    if key not in common:
        named = ", ".join(name for name in common if name)  # "": the row order a type uses when none is asked
        raise bad(_("_sort by {key} is not supported; use one of: {keys}.").format(key=key[:40], keys=named), "_sort")
    count = count_of(params)
    total = sum(rows.count() for rows, _sorts in parts) if params.get("_total") == "accurate" else None
    cursor = params.get("_cursor")
    at: tuple[Any, int, int] | None = None
    if cursor:
        try:
            last_value, last_part, last_pk, cursor_sort = signing.loads(cursor, salt=CURSOR_SALT)
            if cursor_sort != wanted or not 0 <= int(last_part) < len(parts):
                raise ValueError
            at = (last_value, int(last_part), int(last_pk))
        except (signing.BadSignature, ValueError, TypeError):
            raise bad(_("The page link is not one Kyphos gave; start the search again."), "_cursor") from None
    after, same = ("lt", "lte") if descending else ("gt", "gte")
    merged: list[tuple[Any, int, int, Any]] = []
    for index, (rows, sorts) in enumerate(parts):
        sort = sorts[key]
        ordered = rows.order_by(f"-{sort.field}", "-pk") if descending else rows.order_by(sort.field, "pk")
        if at is not None:
            try:
                value = sort.load(at[0])
            except (ValueError, TypeError):
                raise bad(_("The page link is not one Kyphos gave; start the search again."), "_cursor") from None
            later = (index > at[1]) != descending  # this part comes after the cursor's part at an equal value
            if index == at[1]:
                ordered = ordered.filter(
                    Q(**{f"{sort.field}__{after}": value}) | Q(**{sort.field: value, f"pk__{after}": at[2]})
                )
            else:
                ordered = ordered.filter(**{f"{sort.field}__{same if later else after}": value})
        for row in ordered[: count + 1] if count else []:
            merged.append((_value_of(row, sort.field), index, row.pk, row))
    merged.sort(key=lambda entry: entry[:3], reverse=descending)
    next_cursor = None
    if len(merged) > count:
        merged = merged[:count]
        value, index, pk, _row = merged[-1]
        next_cursor = signing.dumps([parts[index][1][key].dump(value), index, pk, wanted], salt=CURSOR_SALT)
    return Page([(index, row) for _value, index, _pk, row in merged], next_cursor, total)


def _value_of(row: Model, field: str) -> Any:
    value: Any = row
    for part in field.split("__"):
        value = getattr(value, part)
    return value


def link(base: str, params: QueryDict, **changes: str | None) -> str:
    """The search URL with the same parameters, some changed (None removes one)."""
    pairs = [(k, v) for k, values in params.lists() for v in values if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return f"{base}?{urlencode(pairs)}" if pairs else base


def bundle(
    base: str, resource_type: str, params: QueryDict, found: Page, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    links = [{"relation": "self", "url": link(f"{base}/{resource_type}", params, _cursor=params.get("_cursor"))}]
    if found.next_cursor:
        links.append({"relation": "next", "url": link(f"{base}/{resource_type}", params, _cursor=found.next_cursor)})
    body: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if found.total is not None:
        body["total"] = found.total
    body["link"] = links
    body["entry"] = [
        {"fullUrl": f"{base}/{e['resourceType']}/{e['id']}", "resource": e, "search": {"mode": "match"}}
        for e in entries
    ]
    return body


def unknown_params(params: QueryDict, known: set[str]) -> list[str]:
    return sorted(k for k in params if k.split(":")[0] not in known | CONTROL)


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def reference_id(text: str, resource_type: str) -> str:
    """The id in ``Type/id`` (or a bare id)."""
    return text.split("/", 1)[1] if text.startswith(f"{resource_type}/") else text


def references(params: QueryDict, names: tuple[str, ...], resource_type: str, path: str) -> Q:
    """The filter of reference parameters (``patient``, ``subject`` …) naming ``resource_type`` ids by UUID."""
    found = Q()
    for name in names:
        for value in params.getlist(name):
            ids = [reference_id(part, resource_type) for part in value.split(",")]
            found &= Q(**{f"{path}__in": [i for i in ids if is_uuid(i)]})
    return found


def patients(params: QueryDict, path: str) -> Q:
    """``patient`` / ``subject`` / ``for`` as a filter on ``path`` (the patient's UUID)."""
    return references(params, ("patient", "subject", "for"), "Patient", path)


def no_modifiers(params: QueryDict) -> None:
    """Refuse ``name:modifier`` where a type supports none."""
    for name in params:
        if ":" in name:
            raise bad(_("Search modifiers are not supported on {name}.").format(name=name[:40]), name)
