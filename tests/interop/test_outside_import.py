"""A patient's CD becomes the case's outside imaging: stored in the site's PACS (a real Orthanc on loopback, checked
through its REST API) or in Kyphos's own storage; the hospital's MRN set on the way when the site asks for it;
an interrupted import resumes without sending an image twice; a disc that is not the patient's waits in quarantine
until the radiologist accepts (then the worker stores it) or rejects it (then its copy is gone)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pydicom import dcmread

from kyphos.errors import InvalidInput
from kyphos.interop.dicom import importing
from kyphos.interop.models import SiteInterface
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import Event
from kyphos.precall import imaging
from kyphos.precall import services as precall
from kyphos.precall.models import ImportStatus, OutsideImport, OutsideStudy, StoredImage
from tests import orthanc
from tests.conftest import require_part
from tests.discs import dose_report, fileset_copy, one_patient_cd

ADA = ("TESTWOMAN^ADA", "19480314", "F")  # make_case's patient: Testwoman, Ada, born 1948-03-14, female


@pytest.fixture(autouse=True)
def _storage_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.KYPHOS_OUTSIDE_DIR = tmp_path / "var" / "outside"
    settings.KYPHOS_IMAGE_DIR = tmp_path / "var" / "images"
    settings.KYPHOS_DOCUMENT_DIR = tmp_path / "var" / "documents"


@pytest.fixture(scope="module")
def pacs() -> Iterator[orthanc.Pacs]:
    require_part(orthanc.available(), f"Orthanc is not installed ({orthanc.BINARY}): apt-get install orthanc")
    with orthanc.running() as running:
        yield running


def _uses_pacs(site: Any, pacs: orthanc.Pacs, *, port: int | None = None, coerce: bool = False) -> SiteInterface:
    interface, _created = SiteInterface.objects.get_or_create(site=site)
    interface.pacs_ae_title, interface.pacs_host = pacs.ae_title, pacs.host
    interface.pacs_port, interface.coerce_patient_ids = port or pacs.dicom_port, coerce
    interface.full_clean()
    interface.save()
    return interface


def _import(root: Path, case: Any, capsys: Any) -> dict[str, Any]:
    call_command("import-cd", str(root), "--case", str(case.uuid), "--json")
    return json.loads(capsys.readouterr().out)


def test_without_a_pacs_the_images_are_kept_by_kyphos_and_the_call_shows_them_received(
    make_case: Any, actors: dict[str, Any], tmp_path: Path, settings: Any, capsys: Any
) -> None:
    case = make_case("scheduled")
    root = one_patient_cd(tmp_path, *ADA)
    found = _import(root, case, capsys)
    files = [p for p in root.rglob("*") if p.is_file()]
    assert (found["status"], found["destination"], found["stored"], found["failed"]) == (
        "stored",
        "kyphos",
        len(files),
        0,
    )
    kept = list(Path(settings.KYPHOS_IMAGE_DIR).rglob("*.dcm"))
    assert len(kept) == len(files)
    assert {dcmread(p).SOPInstanceUID for p in kept} == {dcmread(p).SOPInstanceUID for p in files}
    studies = list(imaging.outside_imaging(case))
    assert {s.modalities for s in studies} == {"CT", "MR"} and all(s.stored_count == s.image_count for s in studies)
    assert Event.objects.filter(case=case, summary__startswith="Outside imaging stored in Kyphos").exists()
    # The nurse's call, opened afterwards, already has the outside imaging as received, CD, MRI and CT ticked.
    call = precall.open_call(actors["nurse"], case)
    assert (call.imaging_status, call.imaging_cd, call.imaging_mri, call.imaging_ct) == ("received", True, True, True)
    # The same disc again: nothing is stored twice.
    again = _import(root, case, capsys)
    assert again["status"] == "stored" and len(list(Path(settings.KYPHOS_IMAGE_DIR).rglob("*.dcm"))) == len(files)
    assert StoredImage.objects.filter(case=case).count() == len(files)


def test_to_the_pacs_with_the_hospitals_mrn_and_the_outside_id_kept(
    make_case: Any, site: Any, pacs: orthanc.Pacs, tmp_path: Path, capsys: Any
) -> None:
    pacs.clear()
    _uses_pacs(site, pacs, coerce=True)
    case = make_case("scheduled")
    root = one_patient_cd(tmp_path, *ADA)
    found = _import(root, case, capsys)
    assert (found["status"], found["destination"], found["coerced"]) == ("stored", "pacs", True)
    sent = {dcmread(p).SOPInstanceUID for p in root.rglob("*") if p.is_file()}
    assert pacs.instances() == sent
    (patient_id,) = pacs.rest("/patients")
    tags = pacs.rest(f"/patients/{patient_id}")["MainDicomTags"]
    assert tags["PatientID"] == case.patient.mrn
    instance = pacs.rest("/instances")[0]
    other = pacs.rest(f"/instances/{instance}/tags?simplify")["OtherPatientIDsSequence"]
    assert {"PatientID": "98890234", "TypeOfPatientID": "TEXT"}.items() <= other[0].items()
    # The files on the disc are as they were: only what was sent carries the hospital's MRN.
    assert {dcmread(p).PatientID for p in root.rglob("*") if p.is_file()} == {"98890234"}


def test_an_unreachable_pacs_fails_with_status_1_and_the_next_run_resumes(
    make_case: Any, site: Any, pacs: orthanc.Pacs, tmp_path: Path, capsys: Any, settings: Any
) -> None:
    pacs.clear()
    case = make_case("scheduled")
    root = one_patient_cd(tmp_path, *ADA)
    interface = _uses_pacs(site, pacs, port=1)  # nothing listens there
    settings.KYPHOS_DICOM_RETRY_PAUSE = 0
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-cd", str(root), "--case", str(case.uuid))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "not stored (unreachable); run the command again" in err
    failed = OutsideImport.objects.get(case=case)
    assert (failed.status, failed.stored_count) == (ImportStatus.FAILED, 0)
    assert pacs.instances() == set()
    # Part of it reaches the PACS (one study, as if the link dropped after it) ...
    first = OutsideStudy.objects.filter(outside_import=failed).order_by("study_uid").first()
    assert first is not None
    interface.pacs_port = pacs.dicom_port
    interface.save()
    disc = importing.reader.read(root)
    part = [(s.uid, i) for _p, s, _se, i in disc.instances if s.uid == first.study_uid]
    sent = importing.store.send(importing.pacs_of(case)[1], part, set())  # type: ignore[arg-type]
    imaging.record_stored(failed, "pacs", [(first.study_uid, uid) for uid in sent.stored])
    assert pacs.instances() == set(sent.stored) != set()
    pacs.clear()  # had they been sent again, they would be back in the PACS
    # ... and the same command again carries on with the same import, sending only the rest.
    found = _import(root, case, capsys)
    assert (found["import"], found["status"], found["stored"]) == (str(failed.uuid), "stored", found["images"])
    rest = {i.sop_instance_uid for _p, s, _se, i in disc.instances if s.uid != first.study_uid}
    assert pacs.instances() == rest
    assert OutsideImport.objects.filter(case=case, status=ImportStatus.STORED).count() == 1


def test_a_disc_of_two_patients_waits_in_quarantine_until_the_radiologist_decides(
    make_case: Any, site: Any, actors: dict[str, Any], pacs: orthanc.Pacs, tmp_path: Path, capsys: Any, settings: Any
) -> None:
    pacs.clear()
    _uses_pacs(site, pacs)
    case = make_case("scheduled")
    found = _import(fileset_copy(tmp_path), case, capsys)
    assert (found["status"], found["reasons"], found["stored"]) == ("quarantined", ["patients:2"], 0)
    outside = OutsideImport.objects.get(uuid=found["import"])
    staged = Path(settings.KYPHOS_OUTSIDE_DIR) / outside.staged
    assert outside.staged and any(staged.rglob("*"))  # kept by Kyphos: the CD goes home with the patient
    assert list(imaging.outside_imaging(case)) == [] and pacs.instances() == set()
    # Only the radiologist decides, and only with a reason.
    with pytest.raises(NotPermitted):
        imaging.resolve_import(actors["scheduler"], outside, accept=True, reason="same person", version=None)
    with pytest.raises(InvalidInput):
        imaging.resolve_import(actors["radiologist"], outside, accept=True, reason="  ", version=None)
    accepted = imaging.resolve_import(
        actors["radiologist"], outside, accept=True, reason="Both names are the patient's (maiden name)", version=None
    )
    assert accepted.status == ImportStatus.ACCEPTED
    assert importing.work("test-worker") is True  # the worker stores it from Kyphos's copy
    outside.refresh_from_db()
    assert outside.status == ImportStatus.STORED and outside.stored_count == outside.image_count
    assert len(pacs.instances()) == outside.image_count and not staged.exists()
    assert importing.work("test-worker") is False
    event = Event.objects.get(case=case, summary__startswith="Outside imaging in quarantine accepted")
    assert event.reason == "Both names are the patient's (maiden name)"


def test_a_rejected_disc_is_not_attached_and_its_copy_is_removed(
    make_case: Any, actors: dict[str, Any], tmp_path: Path, capsys: Any, settings: Any
) -> None:
    case = make_case("scheduled")
    found = _import(one_patient_cd(tmp_path, "OTHERMAN^BOB", "19480314", "M"), case, capsys)
    assert found["status"] == "quarantined" and set(found["reasons"]) == {"name:differs", "sex:differs"}
    outside = OutsideImport.objects.get(uuid=found["import"])
    rejected = imaging.resolve_import(
        actors["radiologist"], outside, accept=False, reason="Another patient's CD", version=outside.version
    )
    importing.discard_staged(rejected)
    assert rejected.status == ImportStatus.REJECTED
    # Someone else's name, birth date and ID are not kept; what the disc held and the decision are.
    kept = OutsideImport.objects.get(pk=outside.pk)
    assert "OTHERMAN" not in json.dumps(kept.contents) and "98890234" not in json.dumps(kept.contents)
    assert kept.contents["patients"][0]["studies"] and kept.resolution_reason == "Another patient's CD"
    assert not kept.studies.exclude(outside_patient_id="").exists()
    assert not (Path(settings.KYPHOS_OUTSIDE_DIR) / outside.staged).exists()
    assert list(imaging.outside_imaging(case)) == [] and not list(Path(settings.KYPHOS_IMAGE_DIR).rglob("*.dcm"))
    with pytest.raises(InvalidInput):  # decided once
        imaging.resolve_import(actors["radiologist"], outside, accept=True, reason="changed my mind", version=None)


def _zip(names: dict[str, bytes]) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    data.seek(0)
    return data


@pytest.mark.parametrize("name", ["../evil.dcm", "cd/../../evil.dcm", "/etc/evil.dcm", "C:/evil.dcm", "..\\evil.dcm"])
def test_a_zip_naming_a_file_outside_its_folder_is_refused_and_writes_nothing(
    settings: Any, tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidInput, match="outside its own folder"):
        importing.unpack_zip(_zip({"cd/IMG0001": b"x" * 200, name: b"y"}))
    outside = Path(settings.KYPHOS_OUTSIDE_DIR)
    assert not outside.exists() or not any(outside.iterdir())
    assert not (tmp_path / "evil.dcm").exists()


def test_a_zip_of_a_cd_unpacks_into_a_folder_the_reader_reads(db: Any, tmp_path: Path) -> None:
    root = fileset_copy(tmp_path)
    names = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    folder = importing.unpack_zip(_zip(names))
    disc = importing.reader.read(folder)
    assert disc.from_dicomdir and len(list(disc.instances)) == len(names) - 1  # every file but the DICOMDIR
    with pytest.raises(InvalidInput, match="not a ZIP"):
        importing.unpack_zip(io.BytesIO(b"not a zip at all"))


def test_the_administrator_checks_the_pacs_from_the_admin(
    people: dict[str, Any], site: Any, pacs: orthanc.Pacs
) -> None:
    from django.test import Client as WebClient

    from tests.accounts import sign_in

    interface = _uses_pacs(site, pacs)
    people["admin"].is_staff = people["admin"].is_superuser = True  # as the demo's administrator
    people["admin"].save()
    admin = WebClient()
    sign_in(admin, people["admin"])

    def check() -> str:
        page = admin.post(
            "/admin/interop/siteinterface/",
            {"action": "check_pacs", "_selected_action": [interface.pk]},
            follow=True,
        )
        assert page.status_code == 200
        return page.content.decode()

    assert f"The PACS of {site.code} answers." in check()
    interface.pacs_ae_title = "NOTTHEPACS"
    interface.save()
    assert "refused the association" in check()
    interface.pacs_host = interface.pacs_ae_title = ""
    interface.pacs_port = None
    interface.save()
    assert "has no PACS" in check()


def test_the_procedures_dose_report_fills_the_procedure_record(
    make_case: Any, actors: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    from decimal import Decimal

    from kyphos import when
    from kyphos.procedure.models import ProcedureRecord
    from tests.conftest import case_at

    case = case_at(make_case, actors, "in_procedure")
    record = ProcedureRecord.objects.get(case=case)
    assert record.fluoro_seconds is None
    day = when.local_day(record.started_at, case.site)
    # A report of another day (an outside hospital's) is stored as an image of the case and changes nothing.
    other = _import(dose_report(tmp_path / "old", *ADA, "20200101"), case, capsys)
    assert other["status"] == "stored"
    record.refresh_from_db()
    assert record.fluoro_seconds is None
    # The procedure's own, from a biplane unit: both planes added, units converted (Gy → mGy, Gy·m² → Gy·cm²).
    _import(dose_report(tmp_path / "today", *ADA, f"{day:%Y%m%d}", planes=2), case, capsys)
    record.refresh_from_db()
    assert (record.fluoro_seconds, record.air_kerma_mgy, record.dap_gycm2) == (
        624,
        Decimal("246.8"),
        Decimal("43.00"),
    )
    assert Event.objects.filter(case=case, summary__startswith="Dose report read: fluoroscopy time").exists()
    # Typed values stay: a later report that disagrees is noted for the radiologist, not written over them.
    _import(dose_report(tmp_path / "again", *ADA, f"{day:%Y%m%d}", fluoro="100"), case, capsys)
    record.refresh_from_db()
    assert record.fluoro_seconds == 624
    assert Event.objects.filter(case=case, summary__contains="differs from the record: fluoroscopy time").exists()
