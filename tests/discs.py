"""Patient CDs for the tests, built from the DICOM files that ship inside the pydicom wheel (no download)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_testdata_file


def fileset_copy(tmp_path: Path) -> Path:
    """A CD as the pydicom wheel ships it: a DICOMDIR and the three folders of images it lists."""
    source = Path(str(get_testdata_file("DICOMDIR"))).parent
    target = tmp_path / "cd"
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(source / folder, target / folder)
    shutil.copy(source / "DICOMDIR", target / "DICOMDIR")
    return target


def one_patient_cd(tmp_path: Path, name: str, birth_date: str, sex: str) -> Path:
    """A CD without a DICOMDIR holding one patient's two CT and MR studies, their files rewritten to name
    ``name`` (DICOM PN), born ``birth_date`` (YYYYMMDD), of ``sex``."""
    source = fileset_copy(tmp_path / "source")
    target = tmp_path / "one"
    for folder in ("98892001", "98892003"):  # Doe^Peter's studies in the wheel's file-set
        shutil.copytree(source / folder, target / folder)
    for path in [p for p in target.rglob("*") if p.is_file()]:
        data = dcmread(path)
        data.PatientName, data.PatientBirthDate, data.PatientSex = name, birth_date, sex
        data.save_as(path)
    return target
