"""`kyphos import-cd PATH --case UUID --preview`: what a patient's CD holds and whether it is the case's patient's,
before anything is stored; the read is audited; bad input is one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.discs import fileset_copy, one_patient_cd


def test_a_cd_of_the_cases_patient_matches_and_the_preview_is_audited(
    make_case: Any, tmp_path: Path, capsys: Any
) -> None:
    from kyphos.audit.models import AuditEntry

    case = make_case("scheduled")  # Testwoman, Ada, born 1948-03-14, female
    root = one_patient_cd(tmp_path, "TESTWOMAN^ADA", "19480314", "F")
    call_command("import-cd", str(root), "--case", str(case.uuid), "--preview", "--json")
    found = json.loads(capsys.readouterr().out)
    assert found["identity"] == {"quarantine": False, "reasons": []} and not found["from_dicomdir"]
    (patient,) = found["patients"]
    assert (patient["outside_id"], patient["birth_date"], patient["sex"]) == ("98890234", "19480314", "F")
    images = sum(s["images"] for s in patient["studies"])
    assert images == len([p for p in root.rglob("*") if p.is_file()])
    assert {se["modality"] for s in patient["studies"] for se in s["series"]} == {"CT", "MR"}
    assert AuditEntry.objects.filter(
        patient_uuid=case.patient.uuid, object_type="outside_imaging", username="kyphos import-cd"
    ).exists()


def test_a_different_birth_date_or_two_patients_would_go_to_quarantine(
    make_case: Any, tmp_path: Path, capsys: Any
) -> None:
    case = make_case("scheduled")
    other = one_patient_cd(tmp_path / "a", "Testwoman^Ada", "19480315", "F")
    call_command("import-cd", str(other), "--case", str(case.uuid), "--preview")
    assert "Would go to quarantine: the birth date differs." in capsys.readouterr().out
    call_command("import-cd", str(fileset_copy(tmp_path / "b")), "--case", str(case.uuid), "--preview")
    out = capsys.readouterr().out
    assert "Read by its DICOMDIR." in out and "Would go to quarantine: 2 patients on one disc." in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["--preview"], "--case"),
        (["--case", "not-a-uuid", "--preview"], "UUID"),
        (["--case", "00000000-0000-4000-8000-000000000000", "--preview"], "No case"),
        (["--case", "CASE"], "No DICOM images were found there"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    make_case: Any, tmp_path: Path, capsys: Any, args: list[str], message: str
) -> None:
    case = make_case("referred")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-cd", str(tmp_path), *[str(case.uuid) if a == "CASE" else a for a in args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_path_that_is_not_a_folder_is_refused(make_case: Any, tmp_path: Path, capsys: Any) -> None:
    case = make_case("referred")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-cd", str(tmp_path / "nope"), "--case", str(case.uuid), "--preview")
    assert exit_info.value.code == 2 and "is not a folder" in capsys.readouterr().err


def test_a_disc_full_of_other_files_lists_the_first_500_and_counts_them_all(
    make_case: Any, tmp_path: Path, capsys: Any
) -> None:
    case = make_case("scheduled")
    root = one_patient_cd(tmp_path, "TESTWOMAN^ADA", "19480314", "F")
    viewer = root / "VIEWER"
    viewer.mkdir()
    for n in range(600):  # a DICOM viewer program burnt on the disc beside the images
        (viewer / f"part{n:03d}.dll").write_bytes(b"MZ" + bytes(n % 250) * 3)
    call_command("import-cd", str(root), "--case", str(case.uuid), "--preview", "--json")
    found = json.loads(capsys.readouterr().out)
    assert found["skipped_count"] == 600 and len(found["skipped"]) == 500
    assert {s["reason"] for s in found["skipped"]} == {"not-dicom"} and found["identity"]["quarantine"] is False
