"""Reading a patient's CD before anything is stored: by its DICOMDIR when there is one, else file by file,
whatever the names; what cannot be read is listed with the reason; whose images they are is checked against the
case's patient (name in DICOM's FAMILY^GIVEN form, birth date, sex). The discs are built here from the DICOM files
that ship inside the pydicom wheel."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

from kyphos.interop.dicom import reader
from kyphos.rules import identity
from tests.discs import fileset_copy


def test_a_disc_with_a_dicomdir_is_previewed_from_its_records(tmp_path: Path) -> None:
    root = fileset_copy(tmp_path)
    started = time.perf_counter()
    disc = reader.read(root)
    assert time.perf_counter() - started < 1.0  # the preview a desk clerk waits for
    assert disc.from_dicomdir and not disc.skipped
    names = sorted(p.name for p in disc.patients.values())
    assert names == ["Doe^Archibald", "Doe^Peter"]  # two patients on one disc: this one goes to quarantine
    peter = next(p for p in disc.patients.values() if p.name == "Doe^Peter")
    carotids = next(s for s in peter.studies.values() if s.description == "Carotids")
    assert (carotids.date, carotids.image_count, {s.modality for s in carotids.series.values()}) == (
        "20030505",
        2,
        {"MR"},
    )
    on_disc = [f for f in root.rglob("*") if f.is_file() and f.name != "DICOMDIR"]
    assert len(list(disc.instances)) == len(on_disc)


def test_without_a_dicomdir_every_file_is_read_whatever_its_name_and_what_cannot_be_is_listed(
    tmp_path: Path,
) -> None:
    root = fileset_copy(tmp_path)
    expected = {i.sop_instance_uid for *_rest, i in reader.read(root).instances}
    (root / "DICOMDIR").unlink()
    files = sorted(f for f in root.rglob("*") if f.is_file())
    for n, path in enumerate(files):  # lower-case names, an extension on some, all in one folder
        path.rename(root / (f"img{n}.dcm" if n % 2 else f"img{n}".lower()))
    for folder in [d for d in root.iterdir() if d.is_dir()]:
        shutil.rmtree(folder)
    bare = root / "img0"
    bare.write_bytes(bare.read_bytes()[132:])  # no 128-byte preamble and no "DICM"
    (root / "README.TXT").write_text("Viewer for Windows. Insert the disc and wait.\n")
    cut = root / "img1.dcm"
    cut_uid = next(i.sop_instance_uid for *_rest, i in reader._by_scan(root).instances if i.path == cut)
    cut.write_bytes(cut.read_bytes()[:300])  # truncated inside its header
    disc = reader.read(root)
    assert not disc.from_dicomdir
    found = {i.sop_instance_uid for *_rest, i in disc.instances}
    assert found == expected - {cut_uid}  # the file without a preamble is read too
    reasons = {s.path: s.reason for s in disc.skipped}
    assert reasons["README.TXT"] == "not-dicom" and reasons["img1.dcm"] in {"truncated", "unreadable", "incomplete"}
    assert len(reasons) == 2


def test_a_link_out_of_the_disc_is_not_followed(tmp_path: Path) -> None:
    root = fileset_copy(tmp_path)
    (root / "DICOMDIR").unlink()
    outside = tmp_path / "elsewhere.dcm"
    shutil.copy(next(f for f in root.rglob("*") if f.is_file()), outside)
    (root / "LINK").symlink_to(outside)
    disc = reader.read(root)
    assert [(s.path, s.reason) for s in disc.skipped] == [("LINK", "outside")]


def test_whose_images_names_in_dicom_form_birth_date_and_sex() -> None:
    ours = identity.Person("Muñoz", "Ana María", date(1948, 3, 9), "F")
    same = identity.from_dicom("MUNOZ^ANA MARIA^^SRA", "19480309", "F")
    assert identity.compare(same, ours) == []
    assert identity.compare(identity.from_dicom("Muñoz^Ana", "19480309", ""), ours) == []  # sex unknown there
    assert [m.field for m in identity.compare(identity.from_dicom("MUNOZ^ANA", "19480310", "F"), ours)] == [
        "birth_date"
    ]
    assert [m.field for m in identity.compare(identity.from_dicom("MUNOZ^PEDRO", "19480309", "M"), ours)] == [
        "name",
        "sex",
    ]
    missing = identity.compare(identity.from_dicom("MUNOZ^ANA", "", "F"), ours)
    assert [(m.field, m.reason) for m in missing] == [("birth_date", "missing")]
    assert identity.from_dicom("Yamada^Tarou=山田^太郎", "19480309", "M").family == "Yamada"


def test_a_broken_dicomdir_is_listed_and_the_files_are_read_instead(tmp_path: Path) -> None:
    root = fileset_copy(tmp_path)
    with_records = {i.sop_instance_uid for *_rest, i in reader.read(root).instances}
    (root / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 40)
    disc = reader.read(root)
    assert not disc.from_dicomdir and [(s.path, s.reason) for s in disc.skipped] == [("DICOMDIR", "unreadable")]
    assert {i.sop_instance_uid for *_rest, i in disc.instances} == with_records


def test_the_dicomdir_read_through_pydicoms_public_file_set_gives_the_same_disc(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fast walk of the directory records (pydicom 3.0's record nodes) and the public, slower ``FileInstance``
    way, used should another pydicom not keep its records there, read the same patients, studies and images."""
    root = fileset_copy(tmp_path)
    fast = reader.read(root)

    def shape(disc: reader.Disc) -> dict[str, object]:
        return {
            key: {
                (p.birth_date, p.sex),
                *((s.uid, s.date, s.description, s.image_count) for s in p.studies.values()),
                *((i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.path) for *_r, i in disc.instances),
            }
            for key, p in disc.patients.items()
        }

    monkeypatch.setattr(reader, "_record", lambda node: None)
    slow = reader.read(root)
    assert fast.from_dicomdir and slow.from_dicomdir
    assert shape(fast) == shape(slow) and len(list(fast.instances)) == len(list(slow.instances)) > 0
