"""Findings: what a guard or a rule has to say about a case, each with a severity and a source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from kyphos.errors import Text


class Severity(StrEnum):
    INFO = "info"
    CAUTION = "caution"
    STOP = "stop"

    @property
    def rank(self) -> int:
        return {"info": 0, "caution": 1, "stop": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One thing a person should know before a case moves on.

    ``stop`` blocks the move unless a permitted role overrides it with a reason; ``caution`` and ``info`` are
    shown and recorded.
    """

    code: str
    severity: Severity
    message: str | Text  # a Text is translated where it is read; stored with its sentence and values
    source: str
    confidence: str = ""
    verify: bool = False

    def as_dict(self) -> dict[str, object]:
        stored: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": str(self.message),
            "source": self.source,
            "confidence": self.confidence,
            "verify": self.verify,
        }
        if isinstance(self.message, Text):
            # Kept so the finding reads in the reader's language later, not only in the one it was stored in.
            stored["msgid"] = self.message.msgid
            stored["values"] = {key: _plain(value) for key, value in self.message.values.items()}
        return stored

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Finding:
        return cls(
            code=str(data["code"]),
            severity=Severity(str(data["severity"])),
            message=message_of(data),
            source=str(data.get("source", "")),
            confidence=str(data.get("confidence", "")),
            verify=bool(data.get("verify", False)),
        )


def message_of(data: dict[str, object]) -> str | Text:
    """A stored finding's message: its sentence with values when it has them (to translate), else the text."""
    values = data.get("values")
    if isinstance(data.get("msgid"), str) and isinstance(values, dict):
        return Text(str(data["msgid"]), **{str(k): v for k, v in values.items()})
    return str(data.get("message", ""))


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    return str(value)


def has_stop(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.STOP for f in findings)


def by_severity(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Stops first, then cautions, then information."""
    return sorted(findings, key=lambda f: -f.severity.rank)
