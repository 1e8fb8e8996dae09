"""Pre-procedure labs: which are needed, the thresholds, freshness, and the findings they raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data
from kyphos.rules.findings import Finding, Severity, by_severity

SOURCE_THRESHOLDS = "rules/data/labs.toml"


@dataclass(frozen=True)
class LabTest:
    code: str
    name: str
    loinc: str
    unit: str
    required: bool
    source: str
    confidence: str
    recommended: bool = False


@dataclass(frozen=True)
class LabValue:
    code: str
    value: Decimal | None  # None for qualitative tests
    taken_at: datetime
    positive: bool | None = None  # qualitative result (hCG)


@dataclass(frozen=True)
class LabPolicy:
    """A site's choices within the guideline: the INR limit (1.5–1.8) and how fresh results must be."""

    inr_max: Decimal
    freshness: timedelta
    hcg_required: bool = False


def heparin_checked(drug_ids: set[str]) -> bool:
    """Whether a held medicine asks for an aPTT or anti-Xa before the procedure (SIR 2019 drug table)."""
    return bool(drug_ids & set(data.load("labs")["heparin_check"]["drugs"]))


class LabPolicyError(InvalidInput, ValueError):
    """A site setting outside what the guideline allows."""


@cache
def tests() -> dict[str, LabTest]:
    return {
        row["code"]: LabTest(
            row["code"],
            row["name"],
            row["loinc"],
            row["unit"],
            bool(row["required"]),
            row["source"],
            row["confidence"],
            bool(row.get("recommended", False)),
        )
        for row in data.load("labs")["test"]
    }


@cache
def thresholds() -> dict[str, data.Sourced]:
    table = data.load("labs")["thresholds"]
    return {name: data.sourced(entry, f"labs.thresholds.{name}") for name, entry in table.items()}


def policy(
    inr_max: Decimal | float | None = None, freshness_days: int | None = None, hcg_required: bool = False
) -> LabPolicy:
    """The policy of a site, checked against the guideline's range."""
    limits = thresholds()
    inr = Decimal(str(inr_max if inr_max is not None else limits["inr_max_default"].value))
    low, high = (
        Decimal(str(limits["inr_max_default"].value)),
        Decimal(str(limits["inr_max_upper_limit"].value)),
    )
    if not low <= inr <= high:
        raise LabPolicyError(
            Text(
                gettext_noop("The INR limit must be between {low} and {high} (SIR 2019 high bleeding risk)."),
                low=low,
                high=high,
            )
        )
    days = freshness_days if freshness_days is not None else int(limits["freshness_days_default"].value)
    if not 0 < days <= 30:
        raise LabPolicyError(gettext_noop("Lab results must be fresh within 1 to 30 days."))
    return LabPolicy(inr, timedelta(days=days), hcg_required)


def _finding(
    code: str, severity: Severity, message: str | Text, source: str, confidence: str = "S", verify: bool = False
) -> Finding:
    return Finding(code, severity, message, source, confidence, verify)


def lab_findings(
    results: list[LabValue],
    procedure_start: datetime,
    rules: LabPolicy,
    *,
    inr_same_day: bool = False,
    heparin_check: bool = False,
) -> list[Finding]:
    """Stops for missing, stale or out-of-range labs and a positive hCG; the latest result of each test counts.

    ``inr_same_day``: the patient held warfarin, so the INR must be taken on the day of the procedure
    (SIR 2019, INR day of procedure). ``heparin_check``: heparin (IV), argatroban or bivalirudin was held, so an
    aPTT or anti-Xa taken on the day must show no effect left (SIR 2019 drug table; the limits are local).
    """
    latest: dict[str, LabValue] = {}
    for result in sorted(results, key=lambda r: r.taken_at):
        latest[result.code] = result
    limits = thresholds()
    found: list[Finding] = []
    required = [t for t in tests().values() if t.required] + ([tests()["hcg"]] if rules.hcg_required else [])
    fresh_source = limits["freshness_days_default"].source
    for test in required:
        found_result = latest.get(test.code)
        if found_result is None:
            found.append(
                _finding(
                    f"labs.missing.{test.code}",
                    Severity.STOP,
                    Text(gettext_noop("{test} is missing."), test=test.name),
                    test.source,
                    test.confidence,
                )
            )
        elif found_result.taken_at < procedure_start - rules.freshness:
            found.append(
                _finding(
                    f"labs.stale.{test.code}",
                    Severity.STOP,
                    Text(gettext_noop("{test} is older than {days} days."), test=test.name, days=rules.freshness.days),
                    fresh_source,
                    "local",
                    True,
                )
            )
    for test in tests().values():
        if test.recommended and test.code not in latest:
            found.append(
                _finding(
                    f"labs.missing.{test.code}",
                    Severity.CAUTION,
                    Text(gettext_noop("{test} is not recorded."), test=test.name),
                    test.source,
                    test.confidence,
                )
            )
    inr = latest.get("inr")
    if inr is not None and inr.value is not None and inr.value > rules.inr_max:
        found.append(
            _finding(
                "labs.inr_high",
                Severity.STOP,
                Text(gettext_noop("INR {value} is above {limit}."), value=inr.value, limit=rules.inr_max),
                limits["inr_max_default"].source,
            )
        )
    if inr is not None and inr_same_day and inr.taken_at.date() != procedure_start.date():
        found.append(
            _finding(
                "labs.inr_not_same_day",
                Severity.STOP,
                Text(gettext_noop("Warfarin was held: the INR must be taken on the day of the procedure.")),
                "SIR 2019 warfarin row (INR day of procedure)",
                "T",
            )
        )
    platelets = latest.get("platelets")
    if (
        platelets is not None
        and platelets.value is not None
        and platelets.value < Decimal(str(limits["platelets_min"].value))
    ):
        found.append(
            _finding(
                "labs.platelets_low",
                Severity.STOP,
                Text(
                    gettext_noop("Platelets {value} × 10⁹/L are below {limit}."),
                    value=platelets.value,
                    limit=limits["platelets_min"].value,
                ),
                limits["platelets_min"].source,
            )
        )
    if heparin_check:
        found += _heparin_findings(latest, procedure_start, limits)
    hcg = latest.get("hcg")
    if hcg is not None and hcg.positive:
        found.append(
            _finding(
                "labs.hcg_positive",
                Severity.STOP,
                Text(gettext_noop("The pregnancy test is positive: pregnancy is an absolute contraindication.")),
                "Medicare LCD L34228 (pregnancy an absolute contraindication); ACR-SPR practice parameter for imaging "
                "pregnant or potentially pregnant patients",
                "S/T",
            )
        )
    return by_severity(found)


def _heparin_findings(
    latest: dict[str, LabValue], procedure_start: datetime, limits: dict[str, data.Sourced]
) -> list[Finding]:
    source = data.load("labs")["heparin_check"]["source"]
    checks = [latest[c] for c in ("aptt", "antixa") if c in latest and latest[c].value is not None]
    today = [r for r in checks if r.taken_at.date() == procedure_start.date()]
    if not today:
        return [
            _finding(
                "labs.heparin_check_missing",
                Severity.STOP,
                Text(
                    gettext_noop("A heparin was held: an aPTT or anti-Xa taken on the day of the procedure is missing.")
                ),
                source,
                "T",
                True,
            )
        ]
    found = []
    for result in today:
        name = "aptt_max_seconds" if result.code == "aptt" else "antixa_max"
        limit = limits[name]
        if result.value is not None and result.value > Decimal(str(limit.value)):
            found.append(
                _finding(
                    f"labs.{result.code}_high",
                    Severity.STOP,
                    Text(
                        gettext_noop("{test} {value} is above the local limit {limit}: heparin effect may remain."),
                        test=tests()[result.code].name,
                        value=result.value,
                        limit=limit.value,
                    ),
                    limit.source,
                    limit.confidence,
                    limit.verify,
                )
            )
    return found


def describe(code: str) -> dict[str, Any]:
    test = tests()[code]
    return {"code": test.code, "name": test.name, "loinc": test.loinc, "unit": test.unit}
