"""Messages to patients: each purpose's timing and text (data/messages.toml), with a site's changes merged in."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data

ANCHORS = {"booked", "appointment", "not_reached", "early_plan", "procedure", "visit", "manual"}
PLACEHOLDERS = {"site", "phone", "link", "date", "time", "arrival", "day"}
LANGUAGES = ("en", "es")
EDITABLE = {"enabled", "offset_hours", "offset_days", "at", "days", "calendar"} | {
    f"{part}_{lang}" for part in ("text", "subject") for lang in LANGUAGES
}


class MessageSettingsError(InvalidInput, ValueError):
    """A purpose's settings cannot be used; the message names the purpose and the field."""


@dataclass(frozen=True)
class Purpose:
    name: str
    anchor: str
    enabled: bool
    offset_hours: float | None
    offset_days: int | None
    at: time | None
    days: tuple[int, ...]
    calendar: bool
    text: dict[str, str]
    subject: dict[str, str]

    def occurrences(self) -> tuple[int | None, ...]:
        """Diary prompts go once per listed day; every other purpose once."""
        return self.days or (None,)

    def due_at(self, anchor: datetime, zone: ZoneInfo, day: int | None = None) -> datetime:
        if self.offset_hours is not None:
            return anchor + timedelta(hours=self.offset_hours)
        assert self.offset_days is not None and self.at is not None
        local_day = anchor.astimezone(zone).date() + timedelta(days=self.offset_days + (day or 0))
        return datetime.combine(local_day, self.at, tzinfo=zone)

    def render(self, language: str, values: dict[str, Any]) -> tuple[str, str]:
        lang = language if language in self.text else "en"
        return self.subject[lang].format_map(values), self.text[lang].format_map(values)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _check(name: str, row: dict[str, Any]) -> Purpose:
    where = f"Message “{name}”"
    unknown = set(row) - EDITABLE - {"anchor", "source", "confidence", "verify"}
    if unknown:
        raise MessageSettingsError(
            Text(gettext_noop("{where}: unknown setting {names}."), where=where, names=", ".join(sorted(unknown)))
        )
    if row.get("anchor") not in ANCHORS:
        raise MessageSettingsError(
            Text(gettext_noop("{where}: anchor must be one of {names}."), where=where, names=", ".join(sorted(ANCHORS)))
        )
    hours, days_offset, at = row.get("offset_hours"), row.get("offset_days"), row.get("at")
    if (hours is None) == (days_offset is None):
        raise MessageSettingsError(
            Text(gettext_noop("{where}: give either offset_hours or offset_days with a time “at”."), where=where)
        )
    if hours is not None and (not isinstance(hours, int | float) or abs(hours) > 24 * 60):
        raise MessageSettingsError(
            Text(gettext_noop("{where}: offset_hours must be a number of hours (at most 60 days)."), where=where)
        )
    parsed_at = None
    if days_offset is not None:
        if not isinstance(days_offset, int) or abs(days_offset) > 60:
            raise MessageSettingsError(
                Text(gettext_noop("{where}: offset_days must be a whole number of days (at most 60)."), where=where)
            )
        if not isinstance(at, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
            raise MessageSettingsError(Text(gettext_noop("{where}: “at” must be a time such as 10:00."), where=where))
        parsed_at = time.fromisoformat(at)
    days = row.get("days", [])
    if (
        not isinstance(days, list)
        or not all(isinstance(d, int) and 0 <= d <= 60 for d in days)
        or len(set(days)) != len(days)
    ):
        raise MessageSettingsError(
            Text(gettext_noop("{where}: days must be a list of different whole days from 0 to 60."), where=where)
        )
    text: dict[str, str] = {}
    subject: dict[str, str] = {}
    for lang in LANGUAGES:
        for part, out in (("text", text), ("subject", subject)):
            value = row.get(f"{part}_{lang}")
            if not isinstance(value, str) or not value.strip():
                raise MessageSettingsError(
                    Text(gettext_noop("{where}: {part}_{lang} is empty."), where=where, part=part, lang=lang)
                )
            try:
                names = _placeholders(value)
            except ValueError:
                raise MessageSettingsError(
                    Text(
                        gettext_noop("{where}: {part}_{lang} has an unmatched brace."),
                        where=where,
                        part=part,
                        lang=lang,
                    )
                ) from None
            if names - PLACEHOLDERS:
                raise MessageSettingsError(
                    Text(
                        gettext_noop("{where}: {part}_{lang} uses {{{names}}}; allowed are {allowed}."),
                        where=where,
                        part=part,
                        lang=lang,
                        names=", ".join(sorted(names - PLACEHOLDERS)),
                        allowed=", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)),
                    )
                )
            out[lang] = value
    if len(text["en"]) > 1000:
        raise MessageSettingsError(Text(gettext_noop("{where}: the text is longer than 1000 characters."), where=where))
    return Purpose(
        name,
        row["anchor"],
        bool(row.get("enabled", True)),
        None if hours is None else float(hours),
        days_offset,
        parsed_at,
        tuple(sorted(days)),
        bool(row.get("calendar", False)),
        text,
        subject,
    )


def purposes(overrides: dict[str, Any] | None = None) -> dict[str, Purpose]:
    """Every purpose with the site's changes applied; raise MessageSettingsError for a bad change."""
    defaults: dict[str, Any] = data.load("messages")["purpose"]
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise MessageSettingsError(gettext_noop("Message settings must map a purpose to its changes."))
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise MessageSettingsError(
            Text(
                gettext_noop("Unknown message purpose {names}; known: {allowed}."),
                names=", ".join(sorted(unknown)),
                allowed=", ".join(sorted(defaults)),
            )
        )
    out = {}
    for name, row in defaults.items():
        change = overrides.get(name, {})
        if not isinstance(change, dict) or set(change) - EDITABLE:
            raise MessageSettingsError(
                Text(
                    gettext_noop("Message “{name}”: only {names} can be changed."),
                    name=name,
                    names=", ".join(sorted(EDITABLE)),
                )
            )
        merged = {**row, **change}
        if "offset_hours" in change:
            merged.pop("offset_days", None)
            merged.pop("at", None)
        if "offset_days" in change:
            merged.pop("offset_hours", None)
        out[name] = _check(name, merged)
    return out
