"""Red flags of the symptom diary: which answers call for emergency services, a call today, or a review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache

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
    return {row["id"]: RedFlag(row["id"], Action(row["action"]), {"en": row["question_en"], "es": row["question_es"]},
                               row["source"], row["confidence"], bool(row.get("verify", False)))
            for row in data.load("redflags")["flag"]}


def fever_threshold() -> Decimal:
    return Decimal(str(data.sourced(data.load("redflags")["thresholds"]["fever_celsius"], "fever").value))


@dataclass(frozen=True)
class Raised:
    flags: tuple[RedFlag, ...]

    @property
    def action(self) -> Action | None:
        return max((f.action for f in self.flags), key=lambda a: a.rank) if self.flags else None


def evaluate(answers: dict[str, bool], temperature_c: Decimal | None = None) -> Raised:
    """The red flags a diary entry raises; an unknown question id is refused (ValueError)."""
    unknown = set(answers) - set(flags())
    if unknown:
        raise ValueError(f"Unknown red-flag questions: {', '.join(sorted(unknown))}")
    raised = [flags()[key] for key, yes in answers.items() if yes]
    if temperature_c is not None and temperature_c > fever_threshold() and flags()["fever"] not in raised:
        raised.append(flags()["fever"])
    return Raised(tuple(sorted(raised, key=lambda f: -f.action.rank)))
