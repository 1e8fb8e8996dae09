"""Patient CDs for the tests, built from the DICOM files that ship inside the pydicom wheel (no download)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

RDSR = "1.2.840.10008.5.1.4.1.1.88.67"  # X-Ray Radiation Dose SR Storage


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


def _code(value: str, scheme: str, meaning: str) -> Any:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def _number(code: str, meaning: str, value: str, unit: str) -> Any:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "NUM"
    item.ConceptNameCodeSequence = [_code(code, "DCM", meaning)]
    measured = Dataset()
    measured.NumericValue = value
    measured.MeasurementUnitsCodeSequence = [_code(unit, "UCUM", unit)]
    item.MeasuredValueSequence = [measured]
    return item


def dose_report(
    folder: Path,
    name: str,
    birth_date: str,
    sex: str,
    day: str,
    *,
    fluoro: str = "312",
    kerma_gy: str = "0.1234",
    dap_gym2: str = "0.00215",
    planes: int = 1,
) -> Path:
    """A fluoroscopy unit's X-Ray Radiation Dose SR (PS3.16 TID 10001, accumulated totals as in TID 10002) for
    the study of ``day`` (YYYYMMDD), written into ``folder`` as a CD of one file."""
    folder.mkdir(parents=True, exist_ok=True)
    data = Dataset()
    data.SOPClassUID, data.SOPInstanceUID = RDSR, generate_uid()
    data.StudyInstanceUID, data.SeriesInstanceUID = generate_uid(), generate_uid()
    data.PatientName, data.PatientBirthDate, data.PatientSex, data.PatientID = name, birth_date, sex, "FLUORO1"
    data.StudyDate, data.Modality, data.SeriesDescription = day, "SR", "Radiation dose report"
    data.ValueType = "CONTAINER"
    data.ConceptNameCodeSequence = [_code("113701", "DCM", "X-Ray Radiation Dose Report")]
    accumulated = []
    for _plane in range(planes):
        plane = Dataset()
        plane.RelationshipType, plane.ValueType = "CONTAINS", "CONTAINER"
        plane.ConceptNameCodeSequence = [_code("113702", "DCM", "Accumulated X-Ray Dose Data")]
        plane.ContentSequence = [
            _number("113730", "Total Fluoro Time", fluoro, "s"),
            _number("113725", "Dose (RP) Total", kerma_gy, "Gy"),
            _number("113722", "Dose Area Product Total", dap_gym2, "Gy.m2"),
        ]
        accumulated.append(plane)
    data.ContentSequence = accumulated
    data.file_meta = FileMetaDataset()
    data.file_meta.MediaStorageSOPClassUID, data.file_meta.MediaStorageSOPInstanceUID = RDSR, data.SOPInstanceUID
    data.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = folder / "RDSR0001"
    data.save_as(path, enforce_file_format=True)
    return folder
