"""The outside-imaging pages: a CD uploaded as a ZIP or as its folder, previewed, stored by the worker; a disc in
quarantine decided only by the radiologist with a reason; a ZIP naming files outside its folder refused with the
reason beside the field; reports and films recorded on the case; every read audited."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kyphos.audit.models import AuditEntry
from kyphos.interop.dicom import importing
from kyphos.precall import imaging
from kyphos.precall import services as precall
from kyphos.precall.models import ImportStatus, OutsideDocument, OutsideImport
from tests.accounts import sign_in
from tests.discs import fileset_copy, one_patient_cd

ADA = ("TESTWOMAN^ADA", "19480314", "F")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _storage_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.KYPHOS_OUTSIDE_DIR = tmp_path / "var" / "outside"
    settings.KYPHOS_IMAGE_DIR = tmp_path / "var" / "images"
    settings.KYPHOS_DOCUMENT_DIR = tmp_path / "var" / "documents"


def client_for(user: Any) -> Client:
    return sign_in(Client(), user)


def zipped(root: Path, top: str = "CD") -> SimpleUploadedFile:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, f"{top}/{path.relative_to(root)}")
    return SimpleUploadedFile("cd.zip", data.getvalue(), content_type="application/zip")


def test_a_matching_cd_uploaded_as_a_zip_is_previewed_then_stored(
    people: dict[str, Any], make_case: Any, tmp_path: Path
) -> None:
    case = make_case("scheduled")
    desk = client_for(people["scheduler"])
    page = desk.get(f"/cases/{case.uuid}/imaging/")
    assert page.status_code == 200 and "No outside images stored for this case yet." in page.content.decode()
    root = one_patient_cd(tmp_path, *ADA)
    sent = desk.post(f"/cases/{case.uuid}/imaging/upload/", {"disc": zipped(root)})
    outside = OutsideImport.objects.get(case=case)
    assert sent.status_code == 302 and sent["Location"] == f"/cases/{case.uuid}/imaging/{outside.uuid}/"
    preview = desk.get(sent["Location"]).content.decode()
    assert "Read: matches the patient, not stored yet" in preview and "98890234" in preview
    assert "Store the images" in preview and "Quarantine" not in preview
    desk.post(sent["Location"], {"action": "store", "version": outside.version})
    outside.refresh_from_db()
    assert outside.status == ImportStatus.ACCEPTED
    assert importing.work("test-worker")  # the worker stores it (this site has no PACS: Kyphos keeps it)
    outside.refresh_from_db()
    assert (outside.status, outside.stored_count) == (ImportStatus.STORED, outside.image_count)
    case_page = desk.get(f"/cases/{case.uuid}/").content.decode()
    assert "CT" in case_page and "MR" in case_page and "No outside images received yet." not in case_page
    assert AuditEntry.objects.filter(patient_uuid=case.patient.uuid, object_type="outside_import").count() >= 3


def test_a_folder_upload_keeps_the_paths_and_reads_the_dicomdir(
    people: dict[str, Any], make_case: Any, tmp_path: Path
) -> None:
    case = make_case("scheduled")
    root = fileset_copy(tmp_path)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    uploads = [SimpleUploadedFile(p.name, p.read_bytes()) for p in files]
    paths = [f"CD/{p.relative_to(root)}" for p in files]  # a folder chosen whole: its name in front
    answer = client_for(people["nurse"]).post(
        f"/cases/{case.uuid}/imaging/upload/",
        {"folder": uploads, "paths": json.dumps(paths)},
        HTTP_ACCEPT="application/json",
    )
    outside = OutsideImport.objects.get(case=case)
    assert answer.json() == {"next": f"/cases/{case.uuid}/imaging/{outside.uuid}/"}
    assert outside.from_dicomdir and outside.status == ImportStatus.QUARANTINED  # two patients on the wheel's CD
    assert outside.image_count == len(files) - 1


def test_a_zip_with_a_path_outside_its_folder_is_refused_beside_the_field(
    people: dict[str, Any], make_case: Any, settings: Any
) -> None:
    case = make_case("scheduled")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("CD/IMG001", b"x")
        archive.writestr("../../evil", b"y")
    desk = client_for(people["scheduler"])
    upload = SimpleUploadedFile("cd.zip", data.getvalue(), content_type="application/zip")
    page = desk.post(f"/cases/{case.uuid}/imaging/upload/", {"disc": upload})
    assert page.status_code == 400
    assert "The upload was refused: it names a file outside its own folder" in page.content.decode()
    upload = SimpleUploadedFile("cd.zip", data.getvalue(), content_type="application/zip")
    answer = desk.post(f"/cases/{case.uuid}/imaging/upload/", {"disc": upload}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "outside its own folder" in answer.json()["error"]
    assert not OutsideImport.objects.exists()
    staging = Path(settings.KYPHOS_OUTSIDE_DIR)
    assert not staging.exists() or not any(staging.iterdir())
    nothing = desk.post(f"/cases/{case.uuid}/imaging/upload/", {})
    assert nothing.status_code == 400 and "Choose a ZIP of the CD" in nothing.content.decode()


def test_a_quarantined_disc_is_decided_only_by_the_radiologist_with_a_reason(
    people: dict[str, Any], make_case: Any, tmp_path: Path
) -> None:
    case = make_case("scheduled")
    desk = client_for(people["scheduler"])
    desk.post(f"/cases/{case.uuid}/imaging/upload/", {"disc": zipped(one_patient_cd(tmp_path, "DOE^JANE", *ADA[1:]))})
    outside = OutsideImport.objects.get(case=case)
    url = f"/cases/{case.uuid}/imaging/{outside.uuid}/"
    seen = desk.get(url).content.decode()
    assert "Quarantine" in seen and "the name differs" in seen and "differs</span>" in seen
    assert "DOE, JANE" in seen and "DOE^JANE" not in seen  # the disc's name read as staff read names
    assert "Only the radiologist can accept or reject" in seen
    refused = desk.post(url, {"action": "accept", "version": outside.version, "reason": "looks right"})
    assert refused.status_code == 400 and "Your role does not allow this" in refused.content.decode()
    case_page = desk.get(f"/cases/{case.uuid}/").content.decode()
    assert "1 disc in quarantine" in case_page
    doctor = client_for(people["radiologist"])
    no_reason = doctor.post(url, {"action": "accept", "version": outside.version, "reason": ""})
    assert no_reason.status_code == 400 and "Say why" in no_reason.content.decode()
    done = doctor.post(url, {"action": "reject", "version": outside.version, "reason": "Another patient's CD"})
    assert done.status_code == 302
    outside.refresh_from_db()
    assert outside.status == ImportStatus.REJECTED and outside.resolution_reason == "Another patient's CD"
    assert "Another patient&#x27;s CD" in doctor.get(url).content.decode()
    stale = doctor.post(url, {"action": "accept", "version": outside.version - 1, "reason": "x"})
    assert stale.status_code == 400


def test_reports_and_films_are_recorded_and_the_call_shows_them(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = make_case("scheduled")
    call = precall.open_call(actors["nurse"], case)
    nurse = client_for(people["nurse"])
    url = f"/cases/{case.uuid}/imaging/documents/"
    report = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    saved = nurse.post(url, {"kind": "report", "title": "MRI report, City Hospital", "upload": report})
    assert saved.status_code == 302
    wrong = SimpleUploadedFile("report.exe", b"MZ\x90\x00", content_type="application/pdf")
    page = nurse.post(url, {"kind": "report", "title": "Another", "upload": wrong})
    assert page.status_code == 400 and "Upload a PDF, a JPEG or a PNG file." in page.content.decode()
    assert nurse.post(url, {"kind": "films", "title": "3 films of the spine"}).status_code == 302
    assert OutsideDocument.objects.filter(case=case).count() == 2
    document = OutsideDocument.objects.get(case=case, kind="report")
    download = nurse.get(f"/cases/{case.uuid}/imaging/documents/{document.uuid}/")
    assert download.status_code == 200 and download.content == PDF and download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert AuditEntry.objects.filter(object_type="outside_document", action="view").count() == 1
    call.refresh_from_db()
    assert (call.imaging_status, call.imaging_reports, call.imaging_films) == ("received", True, True)
    listing = nurse.get(f"/cases/{case.uuid}/imaging/").content.decode()
    assert "MRI report, City Hospital" in listing and "3 films of the spine" in listing
    assert imaging.received_boxes(case)["imaging_status"] == "received"


def test_roles_without_imaging_see_no_upload_and_cannot_post(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("scheduled")
    manager = client_for(people["manager"])
    page = manager.get(f"/cases/{case.uuid}/imaging/").content.decode()
    assert "Read the disc" not in page
    refused = manager.post(f"/cases/{case.uuid}/imaging/documents/", {"kind": "films", "title": "films"})
    assert refused.status_code == 403 and not OutsideDocument.objects.exists()
