"""A test per row of rules/data/antithrombotics.toml. Expected times are worked out by hand from SIR 2019
Part II (Patel IJ et al., JVIR 2019;30:1168-1184), ASRA 2018 (Narouze S et al., RAPM 2018;43:225-262) and the ACC
2017 decision pathway (Doherty JU et al., JACC 2017;69:871-898) for a procedure on Monday 07-Dec-2026 08:00–09:00 in
New York."""

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
    # "Restart 6–8 h": the later end.
    ("sir2019", "heparin-iv", "", None, "", t(7, 2), t(7, 17)),
    ("sir2019", "heparin-sc", "", None, "", t(7, 2), t(7, 17)),
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
    # ACC 2017, high bleeding risk: dabigatran ≥ 48 / 72 / 96 / 120 h by CrCl; the Xa inhibitors ≥ 48 h from CrCl 15.
    ("acc2017", "dabigatran", "", 90, "", t(5, 8), None),
    ("acc2017", "dabigatran", "", 60, "", t(4, 8), None),
    ("acc2017", "dabigatran", "", 40, "", t(3, 8), None),
    ("acc2017", "dabigatran", "", 20, "", t(2, 8), None),
    ("acc2017", "apixaban", "", 60, "", t(5, 8), None),
    ("acc2017", "apixaban", "", 20, "", t(5, 8), None),
    ("acc2017", "rivaroxaban", "", 60, "", t(5, 8), None),
    ("acc2017", "rivaroxaban", "", 20, "", t(5, 8), None),
    ("acc2017", "edoxaban", "", 60, "", t(5, 8), None),
    ("acc2017", "edoxaban", "", 20, "", t(5, 8), None),
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
    assert plan("sir2019", "warfarin").restart_verify  # SIR restart times: one transcription


@pytest.mark.parametrize("drug", ["warfarin", "aspirin", "clopidogrel", "prasugrel", "ticagrelor", "heparin-sc"])
def test_a_value_from_a_single_transcription_is_marked_verify(drug: str) -> None:
    """SIR 2019 rows "as transcribed" that no second copy of the table confirms are shown as unverified."""
    assert plan("sir2019", drug).verify


@pytest.mark.parametrize("drug,intent", [("heparin-iv", ""), ("enoxaparin", "prophylactic"), ("fondaparinux", "")])
def test_a_value_a_second_summary_confirms_is_not_marked_verify(drug: str, intent: str) -> None:
    assert not plan("sir2019", drug, intent, crcl=60).verify


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


# --- no number outside the evidence (kidney function below what a source studied) ----------------------------


@pytest.mark.parametrize("crcl", [29, 25, 10])
def test_dabigatran_below_crcl_30_has_no_sir_hold_re_ly_excluded_crcl_below_30(crcl: int) -> None:
    """SIR 2019's dabigatran band "CrCl < 50" has no lower limit; RE-LY excluded CrCl < 30: no last dose, the
    prescriber decides (a 4-day hold was given here before)."""
    for guideline in ("sir2019", "asra2018"):
        result = plan(guideline, "dabigatran", crcl=crcl)
        assert result.hold is None and result.last_dose is None
        assert "RE-LY" in result.source and "outside" in result.notes[0]


def test_apixaban_at_crcl_10_has_no_hold_pause_excluded_crcl_below_25() -> None:
    """PAUSE excluded apixaban patients with CrCl < 25: below it no hold is computed (3 days were given before)."""
    for guideline in ("sir2019", "asra2018", "strictest"):
        result = plan(guideline, "apixaban", crcl=10)
        assert result.hold is None and result.last_dose is None and result.notes
    assert plan("sir2019", "apixaban", crcl=25).last_dose == t(4, 8)  # the band's floor itself is studied


def test_dabigatran_crcl_15_to_29_takes_acc_2017_at_least_120_h_in_the_strictest_mode() -> None:
    """ACC 2017, high bleeding risk: dabigatran at CrCl 15–29 → interrupt ≥ 120 h; the plan says ACC set it."""
    result = plan("strictest", "dabigatran", crcl=25)
    assert result.hold is True and result.last_dose == t(2, 8)  # 120 h before Monday 08:00
    assert result.guideline.startswith("strictest (acc2017 hold")
    assert "Doherty" in result.source and len(result.considered) == 3
    assert any(note.startswith("SIR 2019:") and "outside" in note for note in result.notes)


def test_dabigatran_below_crcl_15_has_no_data_in_any_source() -> None:
    """ACC 2017: CrCl < 15 → no data. Every source is silent: no last dose, the prescriber decides."""
    result = plan("strictest", "dabigatran", crcl=10)
    assert result.hold is None and result.last_dose is None


def test_the_strictest_mode_consults_acc_2017_only_for_the_direct_oral_anticoagulants() -> None:
    assert len(plan("strictest", "apixaban", crcl=60).considered) == 3
    assert len(plan("strictest", "clopidogrel").considered) == 2
    # Dabigatran at CrCl 60: SIR 4 doses (2 d), ASRA 4 d, ACC ≥ 72 h → ASRA's 4 days is the earliest stop.
    assert plan("strictest", "dabigatran", crcl=60).last_dose == t(3, 8)


# --- restarts lean late after a spinal procedure --------------------------------------------------------------


def test_heparin_restart_6_to_8_h_takes_the_longer_end() -> None:
    """SIR 2019: unfractionated heparin restarts "6–8 h" after; waiting is safer, so 8 h."""
    result = plan("sir2019", "heparin-iv")
    assert result.restart_after == END + (t(7, 17) - t(7, 9)) and result.restart_hours == 8
    assert any("6–8 h" in note for note in result.notes)


def test_a_doac_restart_is_shown_beside_pause_48_to_72_h_and_marked_verify() -> None:
    """SIR 2019 restarts the DOACs at 24 h; PAUSE resumes them 48–72 h after a high-bleeding-risk procedure."""
    result = plan("sir2019", "apixaban", crcl=60)
    assert result.restart_hours == 24 and result.restart_verify
    assert result.later_restart_hours == 72 and "PAUSE" in result.later_restart_source
    assert any("48–72 h" in note and "PAUSE" in note for note in result.notes)


def test_a_site_may_choose_the_later_restart_as_its_policy() -> None:
    later = at.plan_drug("apixaban", START, procedure_end=END, zone=NY, crcl=60, restart_policy="later")
    assert later.restart_after == datetime(2026, 12, 10, 9, tzinfo=NY) and later.restart_policy == "later"
    enox = at.plan_drug(
        "enoxaparin", START, procedure_end=END, zone=NY, intent="therapeutic", frequency="twice-daily",
        restart_policy="later",
    )  # fmt: skip
    assert enox.restart_hours == 24  # SIR 12 h; ASRA's 24 h as the site's policy
    assert plan("sir2019", "enoxaparin", "therapeutic", frequency="twice-daily").restart_hours == 12


def test_aspirin_for_secondary_prevention_keeps_asras_shared_decision_beside_sirs_3_to_5_days() -> None:
    """ASRA 2018, aspirin for secondary prevention: "not routinely stopped; shared decision" — shown beside SIR's
    hold in the strictest mode, not "no value"."""
    result = plan("strictest", "aspirin", "therapeutic")
    assert result.hold is True and result.last_dose == t(2, 8)
    assert any(n.startswith("ASRA 2018:") and "shared decision" in n for n in result.notes)
    assert not any("no value" in n for n in result.notes)
