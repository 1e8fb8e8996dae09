"""Read a patient's CD (or a copy of it in a folder): what is on it, before anything is stored.

With a DICOMDIR (DICOM PS3.10 2024, section 8, "DICOM File Service"; PS3.3 annex F, "Basic Directory Information
Object Definition") the preview comes from its records alone, read with pydicom's ``FileSet``, and one file per
patient is opened for the birth date and sex the records may leave out. Without one, every file is read up to its
pixel data, whatever its name, case or extension, with or without the 128-byte preamble and "DICM" prefix.
A file that is not DICOM, is truncated or cannot be read is listed with the reason and the rest are read on.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_file_meta_info, read_partial
from pydicom.fileset import FileSet
from pydicom.tag import BaseTag, Tag

log = logging.getLogger("kyphos.dicom")
# The attributes an instance must have to be stored and attached (PS3.3 C.12.1 SOP Common, C.7.2.1, C.7.3.1).
REQUIRED = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID")


@dataclass
class Instance:
    path: Path
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str


@dataclass
class Series:
    uid: str
    modality: str = ""
    number: str = ""
    description: str = ""
    body_part: str = ""
    instances: list[Instance] = field(default_factory=list)


@dataclass
class Study:
    uid: str
    date: str = ""  # YYYYMMDD as DICOM writes it
    description: str = ""
    accession: str = ""
    institution: str = ""
    series: dict[str, Series] = field(default_factory=dict)

    @property
    def image_count(self) -> int:
        return sum(len(s.instances) for s in self.series.values())


@dataclass
class OutsidePatient:
    """One patient as the images name them: the outside hospital's ID and issuer, never trusted as ours."""

    patient_id: str
    issuer: str = ""
    name: str = ""  # DICOM PN, FAMILY^GIVEN…
    birth_date: str = ""
    sex: str = ""
    studies: dict[str, Study] = field(default_factory=dict)


@dataclass
class Skipped:
    path: str  # relative to the disc's root
    reason: str  # not-dicom, truncated, unreadable, incomplete, missing, outside


@dataclass
class Disc:
    root: Path
    from_dicomdir: bool
    patients: dict[tuple[str, str, str], OutsidePatient] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def instances(self) -> Iterator[tuple[OutsidePatient, Study, Series, Instance]]:
        for patient in self.patients.values():
            for study in patient.studies.values():
                for series in study.series.values():
                    for instance in series.instances:
                        yield patient, study, series, instance


def _text(data: Any, keyword: str) -> str:
    value = getattr(data, keyword, "") if keyword in data else ""
    return str(value or "").strip()


UIDS = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"}


class Texts:
    """A file's attributes as text, fast: a UID straight from its bytes (PS3.5 9.1: digits and dots), any other
    value decoded by pydicom (with the file's character set) once per distinct value on the disc: the patient's
    name and the study's description repeat on every image."""

    def __init__(self) -> None:
        self.decoded: dict[tuple[str, bytes, bytes], str] = {}

    def of(self, data: Dataset) -> Callable[[str, str], str]:
        def get(keyword: str, _default: str = "") -> str:
            element = data.get_item(keyword)
            if element is None:
                return ""
            value = element.value
            if not isinstance(value, bytes):
                return str(value or "").strip()
            if keyword in UIDS:
                return value.decode("ascii", "replace").strip(" \x00")
            charset = data.get_item("SpecificCharacterSet")
            key = (keyword, value, charset.value if charset is not None and isinstance(charset.value, bytes) else b"")
            text = self.decoded.get(key)
            if text is None:
                text = self.decoded[key] = _text(data, keyword)
            return text

        return get


def _add(disc: Disc, data: Any, path: Path, syntax: str, texts: Texts | None = None) -> None:
    """File one instance under its patient, study and series (``data`` a dataset, or the texts of a DICOMDIR's
    records for it, by keyword)."""
    get: Callable[[str, str], str]
    if isinstance(data, dict):
        get = data.get
    elif texts is not None:
        get = texts.of(data)
    else:
        get = lambda keyword, _d: _text(data, keyword)  # noqa: E731 - the simplest of the three

    key = (get("PatientID", ""), get("IssuerOfPatientID", ""), get("PatientName", ""))
    patient = disc.patients.setdefault(key, OutsidePatient(key[0], key[1], key[2]))
    for keyword, attribute in (("PatientBirthDate", "birth_date"), ("PatientSex", "sex")):
        if not getattr(patient, attribute):
            setattr(patient, attribute, get(keyword, ""))
    study_uid = get("StudyInstanceUID", "")
    study = patient.studies.setdefault(study_uid, Study(study_uid))
    for keyword, attribute in (
        ("StudyDate", "date"),
        ("StudyDescription", "description"),
        ("AccessionNumber", "accession"),
        ("InstitutionName", "institution"),
    ):
        if not getattr(study, attribute):
            setattr(study, attribute, get(keyword, ""))
    series_uid = get("SeriesInstanceUID", "")
    series = study.series.setdefault(series_uid, Series(series_uid))
    for keyword, attribute in (
        ("Modality", "modality"),
        ("SeriesNumber", "number"),
        ("SeriesDescription", "description"),
        ("BodyPartExamined", "body_part"),
    ):
        if not getattr(series, attribute):
            setattr(series, attribute, get(keyword, ""))
    series.instances.append(Instance(path, get("SOPInstanceUID", ""), get("SOPClassUID", ""), syntax))


# The attributes the preview and the import use: only these are parsed from each file (about twice as fast as
# reading the whole header, and faster than pydicom reading the whole file).
WANTED = [
    "PatientID",
    "IssuerOfPatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "InstitutionName",
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "BodyPartExamined",
    "SOPInstanceUID",
    "SOPClassUID",
]


TAGS: list[BaseTag | int] = [Tag(keyword) for keyword in [*WANTED, "SpecificCharacterSet"]]
LAST_GROUP = max(Tag(tag).group for tag in TAGS)  # 0x0020: nothing after it is needed (pixel data, private groups…)


def _past_wanted(tag: Any, _vr: Any, _length: Any) -> bool:
    return bool(tag.group > LAST_GROUP)


def _read_wanted(path: Path, *, force: bool) -> Dataset:
    """Parse a file up to the end of group 0x0020, keeping only ``WANTED``: about two thirds of the time pydicom
    takes to read the whole file, whose later groups (image description, private tags, pixels) are not needed."""
    with open(path, "rb") as stream:
        return read_partial(stream, stop_when=_past_wanted, force=force, specific_tags=TAGS)


def read_file(path: Path) -> tuple[Dataset | None, str]:
    """The file's identifying attributes (``WANTED``), or None and the reason it cannot be used."""
    try:
        data = _read_wanted(path, force=False)
    except InvalidDicomError:
        try:  # no preamble and "DICM" prefix: read as a bare data set, which must hold an instance's UIDs
            data = _read_wanted(path, force=True)
        except Exception:  # noqa: BLE001 - any file at all may be on a CD: the reason is listed, the rest go on
            return None, "not-dicom"
        if not all(keyword in data for keyword in REQUIRED):
            return None, "not-dicom"
    except (EOFError, OSError):
        return None, "truncated"
    except Exception:  # noqa: BLE001 - as above
        return None, "unreadable"
    if not all(keyword in data for keyword in REQUIRED):
        return None, "incomplete"
    return data, ""


def _syntax(data: Dataset) -> str:
    meta = getattr(data, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return str(meta.TransferSyntaxUID)
    return "1.2.840.10008.1.2"  # Implicit VR Little Endian, DICOM's default without file meta (PS3.5 A.1)


def _meta_syntax(path: Path) -> str:
    """The transfer syntax in a file's meta information (its first few hundred bytes), when a record lacks it."""
    try:
        return str(read_file_meta_info(path).TransferSyntaxUID)
    except Exception:  # noqa: BLE001 - reported when the file itself is sent
        return ""


def _dicomdir_of(root: Path) -> Path | None:
    found = [entry for entry in root.iterdir() if entry.is_file() and entry.name.upper() == "DICOMDIR"]
    return found[0] if found else None


def read(root: Path) -> Disc:
    """Everything on the disc at ``root``: by its DICOMDIR when it has one, else by reading every file."""
    root = Path(root)
    dicomdir = _dicomdir_of(root)
    if dicomdir is not None:
        try:
            return _by_dicomdir(root, dicomdir)
        except Exception:  # noqa: BLE001 - a broken DICOMDIR: the files themselves are read instead
            log.warning("A DICOMDIR could not be read; every file on the disc is read instead.")
            disc = _by_scan(root)
            disc.skipped.insert(0, Skipped(dicomdir.name, "unreadable"))
            return disc
    return _by_scan(root)


def _record(node: Any) -> Any:
    """The directory record a node of pydicom's file-set tree holds (pydicom 3.0 keeps it as ``_record``; its
    ``FileInstance`` looks each attribute up the tree again on every access, about half the preview's time)."""
    return getattr(node, "_record", None)


def _texts(node: Any, cache: dict[int, dict[str, str]]) -> dict[str, str]:
    """The attributes of an IMAGE record and the PATIENT, STUDY and SERIES records above it, each record's read
    once."""
    found: dict[str, str] = {}
    for ancestor in node.ancestors:
        texts = cache.get(id(ancestor))
        if texts is None:
            record = _record(ancestor)
            texts = cache[id(ancestor)] = {k: _text(record, k) for k in WANTED if k in record} if record else {}
        for keyword, value in texts.items():
            found.setdefault(keyword, value)
    record = _record(node)
    found["SOPInstanceUID"] = _text(record, "ReferencedSOPInstanceUIDInFile")
    found["SOPClassUID"] = _text(record, "ReferencedSOPClassUIDInFile")
    return found


def _by_instances(root: Path, fileset: FileSet) -> Disc:
    disc = Disc(root, from_dicomdir=True)
    first_file: dict[tuple[str, str, str], Path] = {}
    for instance in fileset:
        path = Path(instance.path)
        if os.path.isfile(path) and os.path.realpath(path).startswith(os.path.realpath(root) + os.sep):
            _add(disc, instance, path, _text(instance, "ReferencedTransferSyntaxUIDInFile") or _meta_syntax(path))
            key = (_text(instance, "PatientID"), _text(instance, "IssuerOfPatientID"), _text(instance, "PatientName"))
            first_file.setdefault(key, path)
        else:
            disc.skipped.append(Skipped(os.path.relpath(path, root), "missing"))
    return _complete(disc, first_file)


def _complete(disc: Disc, first_file: dict[tuple[str, str, str], Path]) -> Disc:
    """The directory's patient records need not hold the birth date or sex: one file per patient gives them."""
    if not disc.patients and not disc.skipped:
        raise ValueError("the DICOMDIR lists nothing")  # read the files instead: a CD is not burnt empty
    for key, path in first_file.items():
        patient = disc.patients[key]
        if patient.birth_date and patient.sex:
            continue
        data, _reason = read_file(path)
        if data is not None:
            patient.birth_date = patient.birth_date or _text(data, "PatientBirthDate")
            patient.sex = patient.sex or _text(data, "PatientSex")
    return disc


def _by_dicomdir(root: Path, dicomdir: Path) -> Disc:
    disc = Disc(root, from_dicomdir=True)
    with warnings.catch_warnings():  # a damaged DICOMDIR is reported in the preview, not as a Python warning
        warnings.simplefilter("ignore")
        fileset = FileSet(dcmread(dicomdir))
    first_file: dict[tuple[str, str, str], Path] = {}
    cache: dict[int, dict[str, str]] = {}
    top = os.path.realpath(root)
    for instance in fileset:
        record = _record(instance.node)
        if record is None:  # another pydicom than the pinned one: the slower, public way
            return _by_instances(root, fileset)
        parts = record.ReferencedFileID
        path = Path(root, *([parts] if isinstance(parts, str) else list(parts)))
        relative = os.path.relpath(path, root)
        real = os.path.realpath(path)
        if not real.startswith(top + os.sep):
            disc.skipped.append(Skipped(relative, "outside"))
            continue
        if not os.path.isfile(real):
            disc.skipped.append(Skipped(relative, "missing"))
            continue
        texts = _texts(instance.node, cache)
        syntax = _text(record, "ReferencedTransferSyntaxUIDInFile") or _meta_syntax(path)
        _add(disc, texts, path, syntax)
        key = (texts.get("PatientID", ""), texts.get("IssuerOfPatientID", ""), texts.get("PatientName", ""))
        first_file.setdefault(key, path)
    return _complete(disc, first_file)


def _by_scan(root: Path) -> Disc:
    disc = Disc(root, from_dicomdir=False)
    texts = Texts()
    top = os.path.realpath(root)
    for folder, _dirs, names in sorted(os.walk(root)):
        for name in sorted(names):
            path = Path(folder) / name
            relative = os.path.relpath(path, root)
            if name.upper() == "DICOMDIR" or not path.is_file():
                continue
            if not os.path.realpath(path).startswith(top + os.sep):  # a link to somewhere else is not on the disc
                disc.skipped.append(Skipped(relative, "outside"))
                continue
            data, reason = read_file(path)
            if data is None:
                disc.skipped.append(Skipped(relative, reason))
                continue
            _add(disc, data, path, _syntax(data), texts)
    return disc
