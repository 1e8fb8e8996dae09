"""The registry export: one row per case treated in the period and one per treated level; identified for the
hospital's own registry, or de-identified (no identifiers or free text, stable pseudonyms, each patient's dates
moved by their own kept offset so intervals stay true, ages over 89 grouped); every patient exported audited; bad
input one line and status 2."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from kyphos.aftercare import diary
from kyphos.audit.models import AuditEntry
from kyphos.patients.models import Patient
from tests.conftest import diary_entry, patient_actor

ARGS = ["--site", "RIV", "--from", "2026-01-01", "--to", "2030-12-31"]


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def export(tmp_path: Path, name: str, *extra: str, site: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    target = tmp_path / f"{name}.csv"
    call_command("export", "registry", str(target), *[site if a == "RIV" else a for a in ARGS], *extra)
    return read(target), read(tmp_path / f"{name}-levels.csv")


def test_identified_and_deidentified_exports(
    department: dict[str, Any], tmp_path: Path, settings: Any, capsys: Any
) -> None:
    settings.VAR_DIR = tmp_path / "var"  # the registry key is made here, once
    site = department["site"].code
    closed, discharged = department["closed"], department["discharged"]
    Patient.objects.filter(pk=discharged.patient_id).update(date_of_birth=date(1935, 2, 1))  # 94 in 2030
    # The discharged patient, not seen yet, says in the diary they were admitted to a hospital since.
    diary.record_entry(patient_actor(), discharged, replace(diary_entry(), admitted="yes"))
    cases, levels = export(tmp_path, "named", site=site)
    assert "2 case(s) written" in capsys.readouterr().out
    assert [c["patient"] for c in cases] == [
        f"{closed.patient.assigning_authority}:{closed.patient.mrn}",
        f"{discharged.patient.assigning_authority}:{discharged.patient.mrn}",
    ]
    assert [c["levels"] for c in cases] == ["T12;L1", "T12;L1"] and len(levels) == 4
    assert {row["leakage"] for row in levels} == {"none", "asymptomatic"}
    assert cases[0]["pain_follow_up"] == "2" and cases[0]["follow_up_date"] and cases[1]["follow_up_date"] == ""
    assert (cases[0]["readmitted"], cases[1]["readmitted"]) == ("no", "yes")
    assert cases[1]["age_at_procedure"] == "94"

    masked, masked_levels = export(tmp_path, "masked", "--deidentified", site=site)
    text = (tmp_path / "masked.csv").read_text() + (tmp_path / "masked-levels.csv").read_text()
    for patient in (closed.patient, discharged.patient):
        assert patient.mrn not in text and patient.family_name not in text and str(patient.uuid) not in text
    assert str(closed.uuid) not in text
    assert masked[1]["age_at_procedure"] == "90+" and masked[0]["age_at_procedure"] == cases[0]["age_at_procedure"]
    for named, hidden in zip(cases, masked, strict=True):
        assert hidden["procedure_date"] != named["procedure_date"]  # moved …
        real = date.fromisoformat(named["procedure_date"]) - date.fromisoformat(named["referral_date"])
        moved = date.fromisoformat(hidden["procedure_date"]) - date.fromisoformat(hidden["referral_date"])
        assert moved == real  # … by the patient's own offset: the interval stays true
    assert {row["case"] for row in masked_levels} == {row["case"] for row in masked}
    again, _levels = export(tmp_path, "again", "--deidentified", site=site)
    assert [row["case"] for row in again] == [row["case"] for row in masked]  # stable pseudonyms
    assert [row["procedure_date"] for row in again] == [row["procedure_date"] for row in masked]
    exported = AuditEntry.objects.filter(object_type="registry_export", username="kyphos export registry")
    assert exported.filter(patient_uuid=closed.patient.uuid).count() == 3


@pytest.mark.parametrize(
    "args,message",
    [
        (["--from", "2026-05-01", "--to", "2026-04-01"], "--from is after --to"),
        (["--from", "1 May", "--to", "2026-04-01"], "--from must be a date"),
        (["--site", "NOWHERE", "--from", "2026-01-01", "--to", "2026-04-01"], "No site NOWHERE"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    db: Any, tmp_path: Path, capsys: Any, args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("export", "registry", str(tmp_path / "out.csv"), *args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out.csv").exists()


def test_an_existing_file_is_not_overwritten(db: Any, tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "out.csv").write_text("keep me")
    with pytest.raises(SystemExit) as exit_info:
        call_command("export", "registry", str(tmp_path / "out.csv"), "--from", "2026-01-01", "--to", "2026-02-01")
    assert exit_info.value.code == 2 and "already exists" in capsys.readouterr().err
    assert (tmp_path / "out.csv").read_text() == "keep me"


def test_the_manager_downloads_the_registry_export_from_the_dashboard(
    department: dict[str, Any], people: dict[str, Any], tmp_path: Path, settings: Any
) -> None:
    import io
    import zipfile

    import time_machine
    from django.test import Client

    from tests.accounts import sign_in

    settings.VAR_DIR = tmp_path / "var"
    query = {"site": department["site"].pk, "start": "2029-01-01", "end": "2030-02-28"}
    with time_machine.travel(date(2030, 3, 1)):
        manager = sign_in(Client(), people["manager"])
        page = manager.get("/dashboard/", query).content.decode()
        answer = manager.get("/dashboard/registry.zip", {**query, "deidentified": "1"})
        radiologist = sign_in(Client(), people["radiologist"])
        refused = radiologist.get("/dashboard/registry.zip", query)
        no_link = radiologist.get("/dashboard/", query).content.decode()
    assert "Registry export of the patients treated in the period" in page
    assert "Registry export" not in no_link and refused.status_code == 403
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    assert "kyphos-registry-deidentified-2029-01-01-2030-02-28.zip" in answer["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert sorted(archive.namelist()) == ["cases.csv", "levels.csv"]
    cases = list(csv.DictReader(io.StringIO(archive.read("cases.csv").decode())))
    assert len(cases) == 2 and len(archive.read("levels.csv").decode().splitlines()) == 5
    text = archive.read("cases.csv").decode()
    for case in (department["closed"], department["discharged"]):
        assert case.patient.mrn not in text and case.patient.family_name not in text
        assert AuditEntry.objects.filter(
            object_type="registry_export", patient_uuid=case.patient.uuid, username=people["manager"].username
        ).exists()
