"""Red flags of the symptom diary: which answers call for emergency services, a call today, or a review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

from kyphos.errors import Text, gettext_noop
from kyphos.rules import data


class Action(StrEnum):
    EMERGENCY = "emergency"
    SAME_DAY = "same_day"
    REVIEW = "review"

    @property
    def rank(self) -> int:
        return {"emergency": 2, "same_day": 1, "review": 0}[self.value]


@dataclass(frozen=True)
class RedFlag:
    id: str
    action: Action
    question: dict[str, str]
    source: str
    confidence: str
    verify: bool


@cache
def flags() -> dict[str, RedFlag]:
    return {
        row["id"]: RedFlag(
            row["id"],
            Action(row["action"]),
            {"en": row["question_en"], "es": row["question_es"]},
            row["source"],
            row["confidence"],
            bool(row.get("verify", False)),
        )
        for row in data.load("redflags")["flag"]
    }


def fever_threshold() -> Decimal:
    return Decimal(str(data.sourced(data.load("redflags")["thresholds"]["fever_celsius"], "fever").value))


@dataclass(frozen=True)
class Raised:
    flags: tuple[RedFlag, ...]

    @property
    def action(self) -> Action | None:
        return max((f.action for f in self.flags), key=lambda a: a.rank) if self.flags else None


@dataclass(frozen=True)
class SiteFlags:
    """The red flags as one site uses them: its wording, its fever threshold and its emergency number."""

    flags: dict[str, RedFlag]
    fever: data.Sourced
    emergency_phone: data.Sourced


def for_site(overrides: dict[str, Any] | None = None) -> SiteFlags:
    """Apply a site's changes: ``{"fever_celsius": {value, source, confidence}, "emergency_phone": {…},
    "questions": {flag id: {"en": …, "es": …}}}``. A changed number must carry its source; actions stay fixed."""
    overrides = overrides or {}
    if not isinstance(overrides, dict) or set(overrides) - {"fever_celsius", "emergency_phone", "questions"}:
        raise data.DataFileError(
            gettext_noop("Red-flag settings may change fever_celsius, emergency_phone and questions only.")
        )
    table = data.load("redflags")
    fever = data.sourced(overrides.get("fever_celsius") or table["thresholds"]["fever_celsius"], "fever_celsius")
    try:
        fever_value = Decimal(str(fever.value))
    except ArithmeticError:
        raise data.DataFileError(gettext_noop("fever_celsius: the value must be a number.")) from None
    if not Decimal(37) <= fever_value <= Decimal(40):
        raise data.DataFileError(gettext_noop("fever_celsius: the value must be between 37 and 40 °C."))
    phone = data.sourced(overrides.get("emergency_phone") or table["numbers"]["emergency_phone"], "emergency_phone")
    if not str(phone.value).strip() or len(str(phone.value)) > 20:
        raise data.DataFileError(gettext_noop("emergency_phone: give the number to call."))
    questions = overrides.get("questions") or {}
    if not isinstance(questions, dict) or set(questions) - set(flags()):
        raise data.DataFileError(
            Text(gettext_noop("questions: known flags are {names}."), names=", ".join(sorted(flags())))
        )
    changed = {}
    for key, flag in flags().items():
        wording = questions.get(key) or {}
        if not isinstance(wording, dict) or any(not isinstance(v, str) or not v.strip() for v in wording.values()):
            raise data.DataFileError(
                Text(gettext_noop('questions.{key}: give the wording per language, e.g. {{"en": "…"}}.'), key=key)
            )
        changed[key] = RedFlag(
            flag.id, flag.action, {**flag.question, **wording}, flag.source, flag.confidence, flag.verify
        )
    return SiteFlags(changed, data.Sourced(fever_value, fever.source, fever.confidence, fever.verify), phone)


def evaluate(answers: dict[str, bool], temperature_c: Decimal | None = None, site: SiteFlags | None = None) -> Raised:
    """The red flags a diary entry raises; an unknown question id is refused (ValueError)."""
    table = site.flags if site else flags()
    threshold = site.fever.value if site else fever_threshold()
    unknown = set(answers) - set(table)
    if unknown:
        raise ValueError(f"Unknown red-flag questions: {', '.join(sorted(unknown))}")
    raised = [table[key] for key, yes in answers.items() if yes]
    if temperature_c is not None and temperature_c > threshold and table["fever"] not in raised:
        raised.append(table["fever"])
    return Raised(tuple(sorted(raised, key=lambda f: -f.action.rank)))
