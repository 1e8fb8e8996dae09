"""The published figures the dashboard sets beside the service's own (``data/benchmarks.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kyphos.rules.data import DataFileError, load


@dataclass(frozen=True)
class Benchmark:
    id: str
    measure: str  # pain_change, function, leakage, symptomatic_leakage, new_fracture, complication
    label_en: str
    label_es: str
    source: str
    confidence: str
    value: float | None = None  # a difference or mean, with its 95 % interval
    low: float | None = None
    high: float | None = None
    rate: float | None = None  # a proportion (0–1), from events / total when both are given

    def label(self, language: str) -> str:
        return self.label_es if language.startswith("es") else self.label_en

    @property
    def percent(self) -> str:
        """The rate as people read it: "73%", "0.7%" (one decimal below 10 %)."""
        if self.rate is None:
            return ""
        value = 100 * self.rate
        return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


@cache
def benchmarks() -> tuple[Benchmark, ...]:
    found = []
    for row in load("benchmarks").get("figure", []):
        if not row.get("source") or not row.get("confidence"):
            raise DataFileError(f"benchmarks.toml: {row.get('id')} lacks its source")
        rate = row.get("rate")
        if rate is None and row.get("total"):
            rate = row["events"] / row["total"]
        found.append(
            Benchmark(
                id=row["id"],
                measure=row["measure"],
                label_en=row["label_en"],
                label_es=row["label_es"],
                source=row["source"],
                confidence=row["confidence"],
                value=row.get("value"),
                low=row.get("low"),
                high=row.get("high"),
                rate=rate,
            )
        )
    return tuple(found)


def for_measure(measure: str) -> list[Benchmark]:
    return [b for b in benchmarks() if b.measure == measure]
