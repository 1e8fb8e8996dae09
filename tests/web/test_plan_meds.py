import json
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def plan_meds(capsys: Any, *args: str) -> dict[str, Any]:
    call_command("plan-meds", *args, "--json")
    return json.loads(capsys.readouterr().out)


def test_apixaban_with_reduced_kidney_function(site: Any, capsys: Any) -> None:
    result = plan_meds(
        capsys,
        "--site",
        "HOSP",
        "--procedure-start",
        "2026-12-07T08:00",
        "--drug",
        "apixaban",
        "--dose",
        "5 mg",
        "--crcl",
        "45",
    )
    assert result["procedure_start"] == "2026-12-07T08:00:00-05:00"
    [drug] = result["drugs"]
    assert drug["drug"] == "apixaban" and drug["hold"] is True
    assert drug["last_dose"] == "2026-12-04T08:00:00-05:00"  # 6 doses at twice daily (SIR 2019, CrCl < 50)
    assert drug["restart_after"] == "2026-12-08T09:00:00-05:00"  # 24 h after the planned 60-minute procedure
    assert drug["verify"] is True and drug["confidence"] == "T" and "SIR 2019" in drug["source"]
    assert drug["labs"]


def test_a_continued_drug_has_no_last_dose(site: Any, capsys: Any) -> None:
    [drug] = plan_meds(capsys, "--site", "HOSP", "--procedure-start", "2026-12-07T08:00", "--drug", "Pletal")["drugs"]
    assert drug["hold"] is False and drug["last_dose"] is None


def test_guideline_choice_and_site_zone(other_site: Any, capsys: Any) -> None:
    [drug] = plan_meds(
        capsys,
        "--site",
        "ASC",
        "--procedure-start",
        "2026-12-07T08:00",
        "--drug",
        "clopidogrel",
        "--guideline",
        "strictest",
    )["drugs"]
    assert drug["last_dose"] == "2026-11-30T08:00:00-06:00"  # ASRA's 7 days beats SIR's 5


@pytest.mark.parametrize(
    "args,message",
    [
        (["--drug", "unobtainium"], "not in the medicine catalogue"),
        (["--drug", "apixaban", "--crcl", "-3"], "not possible"),
        (["--drug", "apixaban", "--crcl", "900"], "not possible"),
        (["--drug", "apixaban", "--dose", "0 mg"], "more than zero"),
        (["--drug", "apixaban", "--procedure-start", "7 Dec 8am"], "malformed procedure start"),
        # A negative planned duration once printed a plan that ended before it began.
        (["--drug", "apixaban", "--duration", "-600"], "--duration must be from 1 to 1440"),
        # A huge one overflowed the date arithmetic (OverflowError traceback).
        (["--drug", "apixaban", "--duration", "99999999999999"], "--duration must be from 1 to 1440"),
        (["--drug", "apixaban", "--duration", "an hour"], "--duration must be a whole number"),
        (["--drug", "apixaban", "--procedure-start", "0001-01-01T08:00"], "from 1900 to 2999"),
        (["--drug", "apixaban", "--procedure-start", "9999-12-31T08:00"], "from 1900 to 2999"),
        (["--drug", "apixaban", "--guideline", "whim"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(site: Any, capsys: Any, args: list[str], message: str) -> None:
    base = ["--site", "HOSP", "--procedure-start", "2026-12-07T08:00"]
    if "--procedure-start" in args:
        base = ["--site", "HOSP"]
    with pytest.raises(SystemExit) as exit_info:
        call_command("plan-meds", *base, *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


BASE = ["--site", "HOSP", "--procedure-start", "2026-12-07T08:00"]


def test_the_text_output_flags_an_unverified_restart(site: Any, capsys: Any) -> None:
    """The SIR 2019 restart times come from one transcription: the text says so, as the JSON and the call do."""
    call_command("plan-meds", *BASE, "--drug", "apixaban", "--crcl", "60")
    out = capsys.readouterr().out
    assert "restart from 2026-12-08T09:00:00-05:00 (restart time unverified)" in out
    assert "PAUSE" in out  # the later restart beside the guideline's


@pytest.mark.parametrize(
    "indication,held",
    [("primary-prevention", "2026-12-01T08:00:00-05:00"), ("secondary-prevention", None)],
)
def test_the_indication_sets_aspirins_plan_asra_primary_6_days_secondary_not_routinely_stopped(
    site: Any, capsys: Any, indication: str, held: str | None
) -> None:
    [drug] = plan_meds(capsys, *BASE, "--drug", "aspirin", "--guideline", "asra2018", "--indication", indication)[
        "drugs"
    ]
    assert drug["last_dose"] == held
    assert drug["hold"] is (True if held else None)


def test_the_sites_later_restart_policy(site: Any, capsys: Any) -> None:
    site.restart_policy = "later"
    site.save()
    [drug] = plan_meds(capsys, *BASE, "--drug", "apixaban", "--crcl", "60")["drugs"]
    assert drug["restart_after"] == "2026-12-10T09:00:00-05:00" and drug["restart_policy"] == "later"
    [drug] = plan_meds(capsys, *BASE, "--drug", "apixaban", "--crcl", "60", "--restart-policy", "guideline")["drugs"]
    assert drug["restart_after"] == "2026-12-08T09:00:00-05:00"
