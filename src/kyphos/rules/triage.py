"""Triage findings for a referral: contraindications and coverage criteria, from ``data/triage.toml``."""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from kyphos.errors import Text
from kyphos.rules import data
from kyphos.rules.findings import Finding, Severity, by_severity
from kyphos.rules.levels import parse_level


class Acuity(StrEnum):
    ACUTE = "acute"  # under 6 weeks from symptom onset
    SUBACUTE = "subacute"  # 6 to 12 weeks
    CHRONIC = "chronic"  # over 12 weeks


class Evidence(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class PainTrend(StrEnum):
    WORSENING = "worsening"
    STABLE = "stable"
    IMPROVING = "improving"


class Etiology(StrEnum):
    OSTEOPOROSIS = "osteoporosis"
    STEROID = "steroid"
    NEOPLASTIC = "neoplastic"
    OTHER = "other"


@dataclass(frozen=True)
class LevelFacts:
    level: str
    acuity: Acuity
    edema: Evidence
    height_loss_percent: int | None = None


@dataclass(frozen=True)
class TriageFacts:
    """What the referral says, as the radiologist reviews it."""

    levels: tuple[LevelFacts, ...]
    etiology: Etiology
    pain_nrs: int
    hospitalized: bool
    weeks_conservative_care: int | None = None
    rdq: int | None = None
    pain_trend: PainTrend | None = None  # None: not recorded
    kyphotic_deformity: bool = False
    progressive_height_loss: bool = False
    infection: bool = False
    pregnant: bool = False
    pain_not_from_fracture: bool = False
    cement_allergy: bool = False
    contrast_allergy: bool = False
    uncorrected_coagulopathy: bool = False
    retropulsion: bool = False
    neuro_deficit: bool = False
    spinal_instability: bool = False


@cache
def _rows() -> dict[str, dict[str, Any]]:
    rows = {}
    for row in data.load("triage")["finding"]:
        for key in ("code", "severity", "message", "source", "confidence"):
            if key not in row:
                raise data.DataFileError(f"triage.toml finding {row.get('code', '?')}: missing {key}")
        rows[row["code"]] = row
    return rows


@cache
def thresholds() -> dict[str, data.Sourced]:
    table = data.load("triage")["thresholds"]
    return {name: data.sourced(entry, f"triage.thresholds.{name}") for name, entry in table.items()}


def _threshold(name: str) -> int:
    return int(thresholds()[name].value)


def finding(code: str, **values: object) -> Finding:
    row = _rows()[code]
    params = {name: item.value for name, item in thresholds().items()} | values
    used = {name for _, name, _, _ in string.Formatter().parse(row["message"]) if name}
    return Finding(
        code=code,
        severity=Severity(row["severity"]),
        message=Text(row["message"], **{name: params[name] for name in used}),
        source=row["source"],
        confidence=row["confidence"],
        verify=bool(row.get("verify", False)),
    )


def triage_findings(facts: TriageFacts) -> list[Finding]:
    """Everything the radiologist should weigh before calling the referral eligible, stops first."""
    found: list[Finding] = []
    flag_codes = [
        (facts.infection, "absolute.infection"),
        (facts.pregnant, "absolute.pregnancy"),
        (facts.pain_not_from_fracture, "absolute.pain_not_from_fracture"),
        (facts.cement_allergy, "relative.cement_allergy"),
        (facts.contrast_allergy, "relative.contrast_allergy"),
        (facts.uncorrected_coagulopathy, "relative.coagulopathy"),
        (facts.retropulsion, "relative.retropulsion"),
        (facts.neuro_deficit, "relative.neuro_deficit"),
        (facts.spinal_instability, "relative.spinal_instability"),
    ]
    found += [finding(code) for present, code in flag_codes if present]

    if len(facts.levels) > _threshold("max_levels"):
        found.append(finding("relative.too_many_levels", count=len(facts.levels)))

    for item in facts.levels:
        level = parse_level(item.level)
        if item.acuity is Acuity.CHRONIC:
            found.append(finding("acuity.chronic", level=level))
        if item.edema is Evidence.NO:
            found.append(finding("imaging.no_edema", level=level))
        elif item.edema is Evidence.UNKNOWN:
            found.append(finding("imaging.edema_unknown", level=level))
        if item.height_loss_percent is not None and item.height_loss_percent > _threshold(
            "height_loss_support_percent"
        ):
            found.append(finding("support.height_loss", level=level, height_loss=item.height_loss_percent))

    if facts.hospitalized and facts.pain_nrs < _threshold("pain_min_hospitalized"):
        found.append(finding("pain.below_threshold_hospitalized", pain=facts.pain_nrs))
    if not facts.hospitalized:
        if facts.pain_nrs < _threshold("pain_min_outpatient"):
            found.append(finding("pain.below_threshold_outpatient", pain=facts.pain_nrs))
        if not facts.weeks_conservative_care:
            found.append(finding("conservative.not_tried"))
        found += _supporting_findings(facts)
    if facts.rdq is not None and facts.rdq > _threshold("rdq_severe"):
        found.append(finding("support.rdq_severe", rdq=facts.rdq))

    if facts.etiology is Etiology.NEOPLASTIC:
        found.append(finding("etiology.neoplastic"))
    else:
        found.append(finding("continuum.bmd_referral"))
    return by_severity(found)


def supporting_count(facts: TriageFacts) -> int:
    """The coverage criteria's supporting findings present: progressive height loss, height loss over the
    threshold (any level), kyphotic deformity, RDQ over the threshold."""
    height = any(
        lv.height_loss_percent is not None and lv.height_loss_percent > _threshold("height_loss_support_percent")
        for lv in facts.levels
    )
    rdq = facts.rdq is not None and facts.rdq > _threshold("rdq_severe")
    return sum((facts.progressive_height_loss, height, facts.kyphotic_deformity, rdq))


def _supporting_findings(facts: TriageFacts) -> list[Finding]:
    """An outpatient whose pain is stable or improving needs at least ``supporting_min`` supporting findings."""
    if facts.pain_trend is None:
        return [finding("support.trend_not_recorded")]
    if facts.pain_trend is PainTrend.WORSENING:
        return []
    count = supporting_count(facts)
    if count < _threshold("supporting_min"):
        return [finding("support.too_few", count=count)]
    return []


def all_codes() -> list[str]:
    return list(_rows())
