"""A test per row of rules/data/antithrombotics.toml. Expected times are worked out by hand from SIR 2019
Part II (Patel IJ et al., JVIR 2019;30:1168-1184) and ASRA 2018 (Narouze S et al., RAPM 2018;43:225-262) for a
procedure on Monday 07-Dec-2026 08:00–09:00 in New York."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kyphos.rules import antithrombotics as at
from kyphos.rules.medicines import UnknownDrug

NY = ZoneInfo("America/New_York")
START = datetime(2026, 12, 7, 8, 0, tzinfo=NY)
END = datetime(2026, 12, 7, 9, 0, tzinfo=NY)


def t(day: int, hour: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=NY)


NSAIDS = ["ibuprofen", "naproxen", "diclofenac", "meloxicam", "ketorolac", "indomethacin"]
# guideline, drug, intent, crcl, frequency, expected last dose, expected restart; None = not held / no value
ROWS: list[tuple[str, str, str, int | None, str, object, object]] = [
    ("sir2019", "warfarin", "", None, "", t(2, 8), t(8, 9)),
    ("sir2019", "heparin-iv", "", None, "", t(7, 2), t(7, 15)),
    ("sir2019", "heparin-sc", "", None, "", t(7, 2), t(7, 15)),
    ("sir2019", "enoxaparin", "prophylactic", None, "once-daily", t(6, 8), t(7, 21)),
    ("sir2019", "enoxaparin", "therapeutic", None, "twice-daily", t(6, 8), t(7, 21)),
    ("sir2019", "dalteparin", "", None, "once-daily", t(6, 8), t(7, 21)),
    ("sir2019", "fondaparinux", "", 60, "", t(4, 8), t(8, 9)),
    ("sir2019", "fondaparinux", "", 40, "", t(2, 8), t(8, 9)),
    ("sir2019", "apixaban", "", 60, "twice-daily", t(5, 8), t(8, 9)),
    ("sir2019", "apixaban", "", 45, "twice-daily", t(4, 8), t(8, 9)),
    ("sir2019", "rivaroxaban", "", 60, "once-daily", t(5, 8), t(8, 9)),
    ("sir2019", "rivaroxaban", "", 20, "once-daily", t(4, 8), t(8, 9)),
    ("sir2019", "edoxaban", "", None, "once-daily", t(5, 8), t(8, 9)),
    ("sir2019", "betrixaban", "", None, "once-daily", t(4, 8), t(8, 9)),
    ("sir2019", "dabigatran", "", 60, "twice-daily", t(5, 8), t(8, 9)),
    ("sir2019", "dabigatran", "", 40, "twice-daily", t(3, 8), t(8, 9)),
    ("sir2019", "argatroban", "", None, "", t(7, 4), t(7, 15)),
    ("sir2019", "bivalirudin", "", None, "", t(7, 4), t(7, 15)),
    ("sir2019", "aspirin", "", None, "", t(2, 8), t(8, 9)),
    ("sir2019", "aspirin-dipyridamole", "", None, "", t(2, 8), t(8, 9)),
    ("sir2019", "dipyridamole", "", None, "", "decide", None),
    ("sir2019", "clopidogrel", "", None, "", t(2, 8), t(7, 15)),
    ("sir2019", "prasugrel", "", None, "", t(30, 8, month=11), t(8, 9)),
    ("sir2019", "ticagrelor", "", None, "", t(2, 8), t(8, 9)),
    ("sir2019", "cangrelor", "", None, "", t(7, 7), None),
    ("sir2019", "abciximab", "", None, "", t(6, 8), None),
    ("sir2019", "eptifibatide", "", None, "", t(7, 0), None),
    ("sir2019", "tirofiban", "", None, "", t(7, 0), None),
    ("sir2019", "cilostazol", "", None, "", "continue", None),
    *[("sir2019", nsaid, "", None, "", "decide", None) for nsaid in NSAIDS],
    ("sir2019", "celecoxib", "", None, "", "continue", None),
    ("asra2018", "aspirin", "prophylactic", None, "", t(1, 8), t(8, 9)),
    ("asra2018", "aspirin", "therapeutic", None, "", "decide", None),
    *[("asra2018", nsaid, "", None, "", "decide", None) for nsaid in NSAIDS],
    ("asra2018", "celecoxib", "", None, "", "decide", None),
    ("asra2018", "clopidogrel", "", None, "", t(30, 8, month=11), t(8, 9)),
    ("asra2018", "prasugrel", "", None, "", t(27, 8, month=11), t(8, 9)),
    ("asra2018", "ticagrelor", "", None, "", t(2, 8), t(8, 9)),
    ("asra2018", "cilostazol", "", None, "", t(5, 8), t(8, 9)),
    ("asra2018", "cangrelor", "", None, "", t(7, 5), t(8, 9)),
    ("asra2018", "warfarin", "", None, "", t(2, 8), t(7, 15)),
    ("asra2018", "apixaban", "", None, "", t(4, 8), t(8, 9)),
    ("asra2018", "rivaroxaban", "", None, "", t(4, 8), t(8, 9)),
    ("asra2018", "edoxaban", "", None, "", t(4, 8), t(8, 9)),
    ("asra2018", "dabigatran", "", 60, "", t(3, 8), t(8, 9)),
    ("asra2018", "dabigatran", "", 40, "", t(1, 8), t(8, 9)),
    ("asra2018", "heparin-iv", "", None, "", t(7, 2), t(7, 11)),
    ("asra2018", "heparin-sc", "", None, "", t(6, 8), t(7, 17)),
    ("asra2018", "enoxaparin", "prophylactic", None, "", t(6, 20), t(8, 9)),
    ("asra2018", "enoxaparin", "therapeutic", None, "", t(6, 8), t(8, 9)),
    ("asra2018", "dalteparin", "prophylactic", None, "", t(6, 20), t(8, 9)),
    ("asra2018", "dalteparin", "therapeutic", None, "", t(6, 8), t(8, 9)),
    ("asra2018", "fondaparinux", "", None, "", t(3, 8), t(8, 9)),
    ("asra2018", "dipyridamole", "", None, "", "decide", None),
]


def plan(guideline: str, drug: str, intent: str = "", crcl: int | None = None, frequency: str = "") -> at.DrugPlan:
    return at.plan_drug(
        drug,
        START,
        procedure_end=END,
        zone=NY,
        guideline=guideline,
        intent=intent or None,
        crcl=crcl,
        frequency=frequency or None,
    )


def test_every_row_of_the_table_is_tested_here() -> None:
    assert len(ROWS) == len(at.rules())
    for rule in at.rules():
        matches = [
            r
            for r in ROWS
            if r[0] == rule.guideline
            and r[1] == rule.drug
            and r[2] in ("", rule.intent)
            and (r[3] is None or rule.covers(r[3]))
        ]
        assert matches, f"no test row for {rule.guideline} {rule.drug} {rule.intent} {rule.crcl_min}-{rule.crcl_max}"


@pytest.mark.parametrize(
    "guideline,drug,intent,crcl,frequency,last_dose,restart",
    ROWS,
    ids=[f"{r[0]}-{r[1]}-{r[2] or 'usual'}-{r[3] or 'nocrcl'}" for r in ROWS],
)
def test_each_row(
    guideline: str,
    drug: str,
    intent: str,
    crcl: int | None,
    frequency: str,
    last_dose: object,
    restart: object,
) -> None:
    result = plan(guideline, drug, intent, crcl, frequency)
    if last_dose == "continue":
        assert result.hold is False and result.last_dose is None
    elif last_dose == "decide":
        assert result.hold is None and result.last_dose is None and result.notes
    else:
        assert result.hold is True
        assert result.last_dose == last_dose
        assert result.restart_after == restart
    assert result.source and result.confidence


def test_doac_rows_are_marked_unverified_as_clinical_md_says() -> None:
    for drug in ("apixaban", "rivaroxaban", "edoxaban", "dabigatran"):
        assert plan("sir2019", drug, crcl=60).verify
    assert not plan("sir2019", "warfarin").verify
    assert plan("sir2019", "warfarin").restart_verify  # SIR restart times: one transcription


def test_unknown_kidney_function_uses_the_longest_hold_and_says_so() -> None:
    result = plan("sir2019", "apixaban")
    assert result.last_dose == t(4, 8)  # the CrCl < 50 band: 6 doses
    assert any("CrCl" in note for note in result.notes)


def test_a_clearance_below_the_table_gives_no_value() -> None:
    result = plan("sir2019", "rivaroxaban", crcl=10)
    assert result.hold is None and "outside" in result.notes[0]


def test_band_edges() -> None:
    assert plan("sir2019", "apixaban", crcl=50).last_dose == t(5, 8)
    assert plan("sir2019", "apixaban", crcl=49).last_dose == t(4, 8)
    assert plan("sir2019", "rivaroxaban", crcl=30).last_dose == t(5, 8)
    assert plan("sir2019", "rivaroxaban", crcl=29).last_dose == t(4, 8)
    assert plan("sir2019", "rivaroxaban", crcl=15).last_dose == t(4, 8)


@pytest.mark.parametrize(
    "drug,intent,last_dose,restart,hold_from",
    [
        (
            "clopidogrel",
            "",
            t(30, 8, month=11),
            t(8, 9),
            "asra2018",
        ),  # SIR 5 d vs ASRA 7 d; restart 6 h vs 24 h
        ("warfarin", "", t(2, 8), t(8, 9), "sir2019"),  # both 5 d; SIR restarts later (24 h vs 6 h)
        ("aspirin", "prophylactic", t(1, 8), t(8, 9), "asra2018"),  # 5 d vs 6 d
        ("cilostazol", "", t(5, 8), t(8, 9), "asra2018"),  # SIR continues, ASRA holds 2 d
        ("aspirin", "therapeutic", t(2, 8), t(8, 9), "sir2019"),  # ASRA has no value: SIR's hold stands
        ("heparin-sc", "", t(6, 8), t(7, 17), "asra2018"),  # 6 h vs 24 h
    ],
)
def test_strictest_takes_the_earlier_stop_and_the_later_restart(
    drug: str, intent: str, last_dose: datetime, restart: datetime, hold_from: str
) -> None:
    result = plan("strictest", drug, intent)
    assert result.hold is True and result.last_dose == last_dose and result.restart_after == restart
    assert result.guideline.startswith(f"strictest ({hold_from} hold")
    assert len(result.considered) == 2
    assert "SIR 2019" in result.source and "ASRA" in result.source


def test_strictest_with_no_value_in_either_guideline() -> None:
    result = plan("strictest", "ibuprofen")
    assert result.hold is None


def test_daylight_saving_does_not_move_the_time_of_day() -> None:
    # DST ends Sunday 01-Nov-2026. Four twice-daily doses = 2 wall-clock days before Monday 08:00.
    monday = datetime(2026, 11, 2, 8, tzinfo=NY)
    result = at.plan_drug("apixaban", monday, zone=NY, crcl=80)
    assert result.last_dose == datetime(2026, 10, 31, 8, tzinfo=NY)
    assert result.last_dose.utcoffset().total_seconds() == -4 * 3600  # still summer time on Saturday
    # An hour-based hold is absolute: 24 h before Monday 08:00 EST is Sunday 08:00 EST.
    assert at.plan_drug("abciximab", monday, zone=NY).last_dose == datetime(2026, 11, 1, 8, tzinfo=NY)


def test_weekend_days_count_like_any_other() -> None:
    # The patient stops over the weekend: a Tuesday procedure with a 5-day hold → last dose Thursday.
    tuesday = datetime(2026, 12, 8, 10, tzinfo=NY)
    assert at.plan_drug("warfarin", tuesday, zone=NY).last_dose == datetime(2026, 12, 3, 10, tzinfo=NY)


@pytest.mark.parametrize("crcl", [0, -3, 251, 900])
def test_impossible_clearance_is_refused(crcl: int) -> None:
    with pytest.raises(at.PlanError, match="not possible"):
        plan("sir2019", "apixaban", crcl=crcl)


def test_brand_names_and_unknown_drugs() -> None:
    assert at.plan_drug("Eliquis", START, zone=NY, crcl=60).drug.id == "apixaban"
    with pytest.raises(UnknownDrug):
        at.plan_drug("unobtainium", START, zone=NY)


def test_naive_time_is_refused() -> None:
    with pytest.raises(at.PlanError):
        at.plan_drug("warfarin", datetime(2026, 12, 7, 8), zone=NY)  # noqa: DTZ001


def test_a_dose_count_needs_a_dosing_interval() -> None:
    with pytest.raises(at.PlanError, match="frequency"):
        plan("sir2019", "apixaban", crcl=60, frequency="as-needed")
