import json
import subprocess
import sys

import pytest

from kyphos.rules.coding import ETIOLOGIES, CodingError, code_procedure


@pytest.mark.parametrize(
    "levels,cpt",
    [
        (["T12"], ["22513"]),
        (["L2"], ["22514"]),
        (["T12", "L1"], ["22513", "22515"]),
        (["L1", "T12"], ["22514", "22515"]),  # the primary code follows the first level treated
        (["T10", "T11", "T12", "L1", "L2"], ["22513", "22515", "22515", "22515", "22515"]),
    ],
)
def test_cpt_follows_the_first_level_treated(levels: list[str], cpt: list[str]) -> None:
    assert list(code_procedure(levels, "osteoporosis").cpt) == cpt


@pytest.mark.parametrize(
    "etiology,codes",
    [
        ("osteoporosis", ["M80.08XA"]),
        ("steroid-induced", ["M80.88XA", "T38.0X5A"]),
        ("myeloma", ["M84.58XA", "C90.00"]),
        ("metastasis", ["M84.58XA", "C79.51"]),
        ("other", []),
    ],
)
def test_icd10cm_by_etiology(etiology: str, codes: list[str]) -> None:
    coding = code_procedure(["L1"], etiology)
    assert list(coding.icd10cm) == codes
    assert coding.sources


def test_every_etiology_has_a_row() -> None:
    for etiology in ETIOLOGIES:
        code_procedure(["T8"], etiology)


def test_steroid_codes_are_flagged_for_verification() -> None:
    assert code_procedure(["L1"], "steroid-induced").verify
    assert not code_procedure(["L1"], "osteoporosis").verify


@pytest.mark.parametrize(
    "levels,etiology",
    [(["L6"], "osteoporosis"), (["T12", "T12"], "osteoporosis"), ([], "osteoporosis"), (["T12"], "trauma")],
)
def test_refusals(levels: list[str], etiology: str) -> None:
    with pytest.raises(CodingError):
        code_procedure(levels, etiology)


def test_the_command_line_contract() -> None:
    env = {"KYPHOS_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kyphos",
            "code-procedure",
            "--levels",
            "T12,L1",
            "--etiology",
            "osteoporosis",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["cpt"] == ["22513", "22515"] and result["icd10cm"] == ["M80.08XA"]
    bad = subprocess.run(
        [sys.executable, "-m", "kyphos", "code-procedure", "--levels", "T13", "--etiology", "osteoporosis"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "T13" in bad.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "kyphos", "code-procedure", "--levels", "T12", "--etiology", "bad-luck"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "Unknown etiology" in bad.stderr


@pytest.mark.parametrize(
    "levels,etiology",
    [(["L6"], "osteoporosis"), (["T12x"], "osteoporosis"), (["T12"], "trauma"), ([], "osteoporosis")],
)
def test_a_refusal_reads_cleanly_without_a_stray_quotation_mark(levels: list[str], etiology: str) -> None:
    with pytest.raises(CodingError) as caught:
        code_procedure(levels, etiology)
    message = caught.value.message
    assert message.count("“") == message.count("”") and '"' not in message and "'" not in message
    assert message.endswith(".")


def test_the_metastasis_note_adds_c79_52_in_addition_to_c79_51() -> None:
    """ICD-10-CM: C79.52 (secondary neoplasm of bone marrow) is coded in addition to C79.51 (bone), not instead."""
    coding = code_procedure(["L1"], "metastasis")
    assert "C79.51" in coding.icd10cm and any("in addition to C79.51" in note for note in coding.notes)
