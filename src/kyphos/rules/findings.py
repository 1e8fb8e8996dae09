"""Findings: what a guard or a rule has to say about a case, each with a severity and a source."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    message: str
    source: str
    confidence: str = ""
    verify: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source,
            "confidence": self.confidence,
            "verify": self.verify,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Finding:
        return cls(
            code=str(data["code"]),
            severity=Severity(str(data["severity"])),
            message=str(data["message"]),
            source=str(data.get("source", "")),
            confidence=str(data.get("confidence", "")),
            verify=bool(data.get("verify", False)),
        )


def has_stop(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.STOP for f in findings)


def by_severity(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Stops first, then cautions, then information."""
    return sorted(findings, key=lambda f: -f.severity.rank)
