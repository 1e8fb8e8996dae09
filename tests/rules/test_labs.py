from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kyphos.rules import labs
from kyphos.rules.findings import Severity
from kyphos.rules.labs import LabPolicyError, LabValue, lab_findings, policy

NY = ZoneInfo("America/New_York")
START = datetime(2026, 12, 7, 8, tzinfo=NY)
MORNING = START - timedelta(hours=1)


def good(**overrides: object) -> list[LabValue]:
    values = {"inr": Decimal("1.3"), "platelets": Decimal("180"), "hemoglobin": Decimal("12.5")}
    values.update(overrides)  # type: ignore[arg-type]
    return [LabValue(code, value, MORNING) for code, value in values.items() if value is not None]  # type: ignore[misc]


def codes(results: list[LabValue], **kwargs: object) -> set[str]:
    return {f.code for f in lab_findings(results, START, policy(**kwargs))}  # type: ignore[arg-type]


def test_good_labs_find_nothing() -> None:
    assert codes(good()) == set()


def test_loinc_codes() -> None:
    assert {t.code: t.loinc for t in labs.tests().values()} == {
        "inr": "6301-6",
        "pt": "5902-2",
        "platelets": "777-3",
        "hemoglobin": "718-7",
        "creatinine": "2160-0",
        "egfr": "98979-8",
        "crcl": "35591-7",
        "hcg": "2106-3",
        "aptt": "14979-9",
        "antixa": "3274-8",
    }


@pytest.mark.parametrize(
    "inr,limit,stops", [("1.5", None, False), ("1.6", None, True), ("1.6", 1.8, False), ("1.81", 1.8, True)]
)
def test_inr_against_the_site_limit(inr: str, limit: float | None, stops: bool) -> None:
    assert ("labs.inr_high" in codes(good(inr=Decimal(inr)), inr_max=limit)) is stops


def test_a_site_may_not_loosen_the_inr_beyond_the_guideline() -> None:
    for limit in (1.4, 1.9, 3.0):
        with pytest.raises(LabPolicyError):
            policy(inr_max=limit)


@pytest.mark.parametrize("platelets,stops", [("50", False), ("49", True), ("180", False)])
def test_platelets(platelets: str, stops: bool) -> None:
    assert ("labs.platelets_low" in codes(good(platelets=Decimal(platelets)))) is stops


def test_missing_required_labs_stop_and_hemoglobin_cautions() -> None:
    found = {f.code: f.severity for f in lab_findings(good(inr=None, hemoglobin=None), START, policy())}
    assert found == {"labs.missing.inr": Severity.STOP, "labs.missing.hemoglobin": Severity.CAUTION}


def test_stale_labs_stop() -> None:
    old = [LabValue("inr", Decimal("1.1"), START - timedelta(days=6)), *good(inr=None)]
    assert "labs.stale.inr" in codes(old)
    assert "labs.stale.inr" not in codes(old, freshness_days=7)


def test_the_latest_result_counts() -> None:
    results = [LabValue("inr", Decimal("2.4"), START - timedelta(days=1)), *good()]
    assert "labs.inr_high" not in codes(results)


def test_positive_hcg_stops_and_a_required_one_must_exist() -> None:
    assert "labs.hcg_positive" in codes([*good(), LabValue("hcg", None, MORNING, positive=True)])
    assert "labs.missing.hcg" in codes(good(), hcg_required=True)


def test_after_a_warfarin_hold_the_inr_is_taken_on_the_day() -> None:
    results = [LabValue("inr", Decimal("1.1"), START - timedelta(days=1)), *good(inr=None)]
    found = {f.code for f in lab_findings(results, START, policy(), inr_same_day=True)}
    assert "labs.inr_not_same_day" in found


def heparin(*results: LabValue) -> set[str]:
    return {f.code for f in lab_findings([*good(), *results], START, policy(), heparin_check=True)}


def test_after_a_heparin_hold_an_aptt_or_anti_xa_is_needed_sir_2019_check_aptt_or_anti_xa() -> None:
    """SIR 2019 drug table: unfractionated heparin IV — "stop 4–6 h before; check aPTT or anti-Xa"."""
    assert "labs.heparin_check_missing" in heparin()
    assert "labs.heparin_check_missing" in heparin(LabValue("aptt", Decimal("30"), START - timedelta(days=1)))
    assert heparin(LabValue("aptt", Decimal("30"), MORNING)) == set()
    assert heparin(LabValue("antixa", Decimal("0.05"), MORNING)) == set()
    assert codes(good()) == set()  # no heparin held: no check asked


def test_a_heparin_check_above_the_local_limit_stops_and_says_the_limit_is_local() -> None:
    found = lab_findings([*good(), LabValue("aptt", Decimal("52"), MORNING)], START, policy(), heparin_check=True)
    [high] = [f for f in found if f.code == "labs.aptt_high"]
    assert high.severity is Severity.STOP and high.confidence == "local" and high.verify
    assert "52" in str(high.message) and "40" in str(high.message)
    assert "labs.antixa_high" in heparin(LabValue("antixa", Decimal("0.3"), MORNING))


def test_which_held_medicines_ask_for_the_heparin_check() -> None:
    assert labs.heparin_checked({"heparin-iv"}) and labs.heparin_checked({"argatroban", "warfarin"})
    assert not labs.heparin_checked({"warfarin", "apixaban"})
