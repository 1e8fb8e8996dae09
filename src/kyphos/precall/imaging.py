"""Outside imaging: the patient's CD, reports and films, as the case's record of what came from elsewhere.

The edges read a disc (interop.dicom) and call these services; the staff page, the ``kyphos import-cd`` command and
the worker go through the same functions. An import is opened from what the disc held; it is **ready** when the
images match the case's patient and **quarantined** (with the reasons) when they do not, or when the disc holds more
than one patient. Nothing is attached silently: a ready import is confirmed by whoever reads it in; a quarantined
one is accepted (with a reason) or rejected only by a role that may (``imaging.resolve``). Once its images are
stored the case shows its studies and a draft pre-procedure call records the outside imaging as received.
Every step is one transaction with its audit entry and its line on the case's timeline.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext, gettext_lazy, ngettext

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import Conflict, InvalidInput
from kyphos.pathway import kernel
from kyphos.pathway.models import Case, EventKind
from kyphos.precall.models import (
    CallStatus,
    DocumentKind,
    ImagingStatus,
    ImportStatus,
    OutsideDocument,
    OutsideImport,
    OutsideStudy,
    PreCall,
    StoredImage,
)
from kyphos.rules import identity

# Why an import goes to quarantine (codes from the edge's identity check, rules.identity).
REASONS = {
    "images:none": gettext_lazy("no DICOM images were found"),
    "name:differs": gettext_lazy("the name differs"),
    "name:missing": gettext_lazy("the images carry no name"),
    "birth_date:differs": gettext_lazy("the birth date differs"),
    "birth_date:missing": gettext_lazy("the images carry no birth date"),
    "sex:differs": gettext_lazy("the sex differs"),
}
# Modalities (DICOM PS3.3 C.7.3.1.1.1) as the pre-procedure call's boxes name them.
CALL_BOXES = {"MR": "imaging_mri", "CT": "imaging_ct", "CR": "imaging_xray", "DX": "imaging_xray", "RF": "imaging_xray"}
DOCUMENT_TYPES = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def reason_text(code: str) -> str:
    if code.startswith("patients:"):
        return gettext("{count} patients on one disc").format(count=code.partition(":")[2])
    return str(REASONS.get(code, code))


@dataclass(frozen=True)
class StudyFacts:
    """One study as the disc describes it (the edge reads it; these are only its references)."""

    study_uid: str
    date: str = ""  # YYYYMMDD, as DICOM writes it
    accession: str = ""
    description: str = ""
    modalities: tuple[str, ...] = ()
    body_parts: tuple[str, ...] = ()
    institution: str = ""
    outside_patient_id: str = ""
    outside_issuer: str = ""
    series_count: int = 0
    image_count: int = 0


def _lock(outside: OutsideImport, version: int | None) -> OutsideImport:
    locked = OutsideImport.objects.select_for_update(no_key=True).select_related("case__patient").get(pk=outside.pk)
    if version is not None and locked.version != version:
        raise Conflict(gettext("Someone else has just changed this import: look again before you decide."))
    return locked


def _save(outside: OutsideImport, *fields: str) -> None:
    outside.version += 1
    outside.save(update_fields=[*fields, "version"])


def _audit(actor: Actor, action: AuditAction, outside: OutsideImport, detail: str) -> None:
    audit.record(actor, action, "outside_import", outside.uuid, patient_uuid=outside.case.patient.uuid, detail=detail)


def _describe(outside: OutsideImport) -> str:
    studies = outside.studies.count()
    return ngettext("{studies} study, {images} image(s)", "{studies} studies, {images} image(s)", studies).format(
        studies=studies, images=outside.image_count
    )


@transaction.atomic
def open_import(
    actor: Actor,
    case: Case,
    *,
    source: str,
    studies: list[StudyFacts],
    reasons: list[str],
    contents: dict[str, object],
    from_dicomdir: bool = False,
    staged: str = "",
) -> OutsideImport:
    """Record what a disc held for ``case``: ready when it matched the case's patient, else quarantined."""
    kernel.require(actor, "imaging.import")
    if not studies and not reasons:
        reasons = ["images:none"]
    outside = OutsideImport.objects.create(
        case=case,
        status=ImportStatus.QUARANTINED if reasons else ImportStatus.READY,
        source=source,
        staged=staged,
        from_dicomdir=from_dicomdir,
        reasons=reasons,
        contents=contents,
        image_count=sum(s.image_count for s in studies),
        created_at=clock.current(),
        created_by=actor.user_or_none,
        created_by_name=kernel.signature(actor)[:150],
    )
    OutsideStudy.objects.bulk_create(
        OutsideStudy(
            outside_import=outside,
            case=case,
            study_uid=s.study_uid[:64],
            accession=s.accession[:64],
            study_date=identity.dicom_date(s.date),
            description=s.description[:200],
            modalities=", ".join(s.modalities)[:64],
            body_parts=", ".join(s.body_parts)[:100],
            institution=s.institution[:200],
            outside_patient_id=s.outside_patient_id[:64],
            outside_issuer=s.outside_issuer[:64],
            series_count=s.series_count,
            image_count=s.image_count,
        )
        for s in studies
    )
    summary = gettext("Outside imaging read from a disc: {what}").format(what=_describe(outside))
    if reasons:
        summary += "; " + gettext("in quarantine: {why}").format(why="; ".join(reason_text(r) for r in reasons))
    kernel.record_event(actor, case, EventKind.NOTE, summary)
    _audit(actor, AuditAction.CREATE, outside, "quarantined" if reasons else "read")
    return outside


@transaction.atomic
def confirm_import(actor: Actor, outside: OutsideImport, *, version: int | None, holder: str = "") -> OutsideImport:
    """Store the images of a disc that matched the patient (whoever read it in confirms it). ``holder`` names a
    process storing it itself (the command, which holds the CD), so the worker leaves it alone while it does."""
    kernel.require(actor, "imaging.import")
    outside = _lock(outside, version)
    if outside.status != ImportStatus.READY:
        raise InvalidInput(gettext("Only a disc that matched the patient and is not stored yet can be stored."))
    outside.status = ImportStatus.ACCEPTED
    outside.claimed_at, outside.claimed_by = (clock.current(), holder[:64]) if holder else (None, "")
    _save(outside, "status", "claimed_at", "claimed_by")
    kernel.record_event(actor, outside.case, EventKind.NOTE, gettext("Outside imaging confirmed for storing"))
    _audit(actor, AuditAction.UPDATE, outside, "confirmed")
    return outside


@transaction.atomic
def resolve_import(
    actor: Actor, outside: OutsideImport, *, accept: bool, reason: str, version: int | None
) -> OutsideImport:
    """Decide a quarantined import: accept it as the case's patient's (it is then stored) or reject it (its
    files are removed and nothing is attached). Both need a reason; both are on the timeline."""
    kernel.require(actor, "imaging.resolve")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(gettext("Say why: the reason is kept with the decision."))
    outside = _lock(outside, version)
    if outside.status != ImportStatus.QUARANTINED:
        raise InvalidInput(gettext("This import is not in quarantine."))
    if accept and not outside.studies.exists():
        raise InvalidInput(gettext("There are no images to accept: reject the disc instead."))
    outside.status = ImportStatus.ACCEPTED if accept else ImportStatus.REJECTED
    outside.resolved_at = clock.current()
    outside.resolved_by = actor.user_or_none
    outside.resolved_by_name = kernel.signature(actor)[:150]
    outside.resolution_reason = reason
    if not accept:
        # Someone else's images: Kyphos keeps what was decided and how much the disc held, not who they named.
        outside.contents = _without_identities(outside.contents)
        outside.studies.update(outside_patient_id="", outside_issuer="")
    _save(outside, "status", "resolved_at", "resolved_by", "resolved_by_name", "resolution_reason", "contents")
    summary = (
        gettext("Outside imaging in quarantine accepted as the patient's")
        if accept
        else gettext("Outside imaging in quarantine rejected: not attached")
    )
    kernel.record_event(actor, outside.case, EventKind.NOTE, summary, reason=reason)
    _audit(actor, AuditAction.UPDATE, outside, "accepted" if accept else "rejected")
    return outside


def _without_identities(contents: dict[str, Any]) -> dict[str, Any]:
    patients = [
        {**listed, "outside_id": "", "issuer": "", "name": "", "birth_date": "", "sex": ""}
        for listed in contents.get("patients", [])
    ]
    return {**contents, "patients": patients}


@transaction.atomic
def discard_import(actor: Actor, outside: OutsideImport, *, version: int | None) -> OutsideImport:
    """Drop a disc read by mistake before anything was stored."""
    kernel.require(actor, "imaging.import")
    outside = _lock(outside, version)
    if outside.status != ImportStatus.READY:
        raise InvalidInput(gettext("Only a disc that is not stored yet can be discarded."))
    outside.status = ImportStatus.DISCARDED
    _save(outside, "status")
    kernel.record_event(actor, outside.case, EventKind.NOTE, gettext("Outside imaging discarded before storing"))
    _audit(actor, AuditAction.UPDATE, outside, "discarded")
    return outside


@transaction.atomic
def retry_import(actor: Actor, outside: OutsideImport, *, version: int | None, holder: str = "") -> OutsideImport:
    """Store again what did not reach the PACS; images already stored are not sent twice."""
    kernel.require(actor, "imaging.import")
    outside = _lock(outside, version)
    if outside.status not in (ImportStatus.FAILED, ImportStatus.ACCEPTED):
        raise InvalidInput(gettext("Only an import that did not store every image can be tried again."))
    outside.status = ImportStatus.ACCEPTED
    outside.claimed_at, outside.claimed_by = (clock.current(), holder[:64]) if holder else (None, "")
    _save(outside, "status", "claimed_at", "claimed_by")
    _audit(actor, AuditAction.UPDATE, outside, "retry")
    return outside


def claim(worker: str, lease_seconds: int = 300) -> OutsideImport | None:
    """An accepted import for the worker to store: unclaimed, or claimed by a worker whose lease ran out."""
    now = clock.current()
    with transaction.atomic():
        waiting = (
            OutsideImport.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(status=ImportStatus.ACCEPTED)
            .exclude(staged="")  # a disc the command is storing from where it lies: only the command can
        )
        for candidate in waiting.select_related("case__patient", "case__site").order_by("id")[:20]:
            if candidate.claimed_at is None or (now - candidate.claimed_at).total_seconds() > lease_seconds:
                candidate.claimed_at, candidate.claimed_by = now, worker[:64]
                candidate.save(update_fields=["claimed_at", "claimed_by"])
                return candidate
    return None


def stored_already(case: Case, destination: str) -> set[str]:
    """SOP instance UIDs of this case's images already stored at ``destination``: not sent again."""
    return set(
        StoredImage.objects.filter(case=case, destination=destination).values_list("sop_instance_uid", flat=True)
    )


@transaction.atomic
def record_stored(outside: OutsideImport, destination: str, stored: Iterable[tuple[str, str]]) -> None:
    """Record images the destination accepted, as (study UID, SOP instance UID) pairs.

    Called by whoever stores (the command, the worker) in small batches as it goes, so an interruption loses at most
    the images in flight; the PACS takes a repeat of one of those as the same image."""
    by_study = dict(outside.studies.values_list("study_uid", "id"))
    now = clock.current()
    rows = [
        StoredImage(
            study_id=by_study[study],
            case_id=outside.case_id,
            sop_instance_uid=sop,
            destination=destination,
            stored_at=now,
        )
        for study, sop in stored
        if study in by_study
    ]
    StoredImage.objects.bulk_create(rows, ignore_conflicts=True)
    for study_id in {row.study_id for row in rows}:
        OutsideStudy.objects.filter(pk=study_id).update(
            stored_count=StoredImage.objects.filter(study_id=study_id).count()
        )
    # Each batch also renews the storing worker's lease, so a long disc is not taken over by a second worker.
    OutsideImport.objects.filter(pk=outside.pk).update(
        stored_count=StoredImage.objects.filter(study__outside_import=outside).count(),
        destination=destination,
        claimed_at=now,
    )


@transaction.atomic
def finish_import(
    actor: Actor, outside: OutsideImport, *, destination: str, failed: int, last_error: str = "", coerced: bool = False
) -> OutsideImport:
    """The end of one storing run: stored (every image is there) or failed (some are not; it can be tried again).
    Stored studies become the case's outside imaging, and a draft pre-procedure call records them as received."""
    outside = _lock(outside, None)
    if outside.status != ImportStatus.ACCEPTED:
        return outside
    outside.status = ImportStatus.FAILED if failed else ImportStatus.STORED
    outside.failed_count, outside.last_error = failed, last_error[:40]
    outside.destination, outside.coerced = destination, coerced
    outside.stored_at = clock.current() if not failed else None
    outside.claimed_at, outside.claimed_by = None, ""
    _save(
        outside,
        "status",
        "failed_count",
        "last_error",
        "destination",
        "coerced",
        "stored_at",
        "claimed_at",
        "claimed_by",
    )
    where = gettext("the PACS") if destination == "pacs" else gettext("Kyphos's own storage")
    if failed:
        summary = gettext("Outside imaging: {stored} of {images} image(s) stored in {where}; {failed} not").format(
            stored=outside.stored_count, images=outside.image_count, where=where, failed=failed
        )
    else:
        summary = gettext("Outside imaging stored in {where}: {what}").format(where=where, what=_describe(outside))
    kernel.record_event(actor, outside.case, EventKind.NOTE, summary)
    _audit(actor, AuditAction.UPDATE, outside, f"{outside.status} {destination}")
    if outside.stored_count:
        _tick_call(outside.case, received_boxes(outside.case))
    return outside


def received_boxes(case: Case) -> dict[str, object]:
    """The pre-procedure call's outside-imaging answers that what Kyphos holds already gives."""
    boxes: dict[str, object] = {}
    modalities = OutsideStudy.objects.filter(case=case, stored_count__gt=0).values_list("modalities", flat=True)
    for listed in modalities:
        for modality in listed.split(", "):
            if modality in CALL_BOXES:
                boxes[CALL_BOXES[modality]] = True
        boxes["imaging_cd"] = True
    kinds = set(OutsideDocument.objects.filter(case=case).values_list("kind", flat=True))
    if DocumentKind.FILMS in kinds:
        boxes["imaging_films"] = True
    if DocumentKind.REPORT in kinds:
        boxes["imaging_reports"] = True
    if boxes:
        boxes["imaging_status"] = ImagingStatus.RECEIVED
    return boxes


def _tick_call(case: Case, boxes: dict[str, object]) -> None:
    """Fill the draft call's outside-imaging answers (a signed call is never changed)."""
    if boxes:
        PreCall.objects.filter(case=case, status=CallStatus.DRAFT).update(**boxes)


def outside_imaging(case: Case) -> QuerySet[OutsideStudy]:
    """The case's outside imaging: studies with at least one image stored."""
    return OutsideStudy.objects.filter(case=case, stored_count__gt=0).order_by(F("study_date").desc(nulls_last=True))


# --- reports and films ---------------------------------------------------------------------------------------


def document_dir() -> Path:
    return Path(getattr(settings, "KYPHOS_DOCUMENT_DIR", Path(settings.VAR_DIR) / "documents"))


def document_path(document: OutsideDocument) -> Path:
    return document_dir() / document.stored_name


def _sniff(content: bytes) -> str:
    for content_type, magic in DOCUMENT_TYPES.items():
        if content.startswith(magic):
            return content_type
    return ""


def add_document(actor: Actor, case: Case, *, kind: str, title: str, content: bytes = b"") -> OutsideDocument:
    """A report uploaded on the case (PDF, or a JPEG or PNG photo of paper), or films marked as received."""
    kernel.require(actor, "imaging.import")
    title = " ".join(title.split())[:200]
    if kind not in DocumentKind.values:
        raise InvalidInput(gettext("Choose what was received."))
    if not title:
        raise InvalidInput(gettext("Give the document a title (for example: MRI report, 3 March, City Hospital)."))
    content_type = ""
    if kind == DocumentKind.FILMS:
        content = b""
    else:
        if not content:
            raise InvalidInput(gettext("Choose the file to upload."))
        if len(content) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(gettext("The file is larger than 20 MB."))
        content_type = _sniff(content)
        if not content_type:
            raise InvalidInput(gettext("Upload a PDF, a JPEG or a PNG file."))
    stored_name = ""
    if content:
        stored_name = f"{uuidlib.uuid4()}{'.pdf' if content_type == 'application/pdf' else ''}"
        folder = document_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / stored_name).write_bytes(content)
        (folder / stored_name).chmod(0o600)
    try:
        with transaction.atomic():
            document = OutsideDocument.objects.create(
                case=case,
                kind=kind,
                title=title,
                stored_name=stored_name,
                content_type=content_type,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest() if content else "",
                received_at=clock.current(),
                received_by=actor.user_or_none,
                received_by_name=kernel.signature(actor)[:150],
            )
            what = DocumentKind(kind).label
            kernel.record_event(
                actor, case, EventKind.NOTE, gettext("{what} received: {title}").format(what=what, title=title)
            )
            audit.record(
                actor,
                AuditAction.CREATE,
                "outside_document",
                document.uuid,
                patient_uuid=case.patient.uuid,
                detail=kind,
            )
            _tick_call(case, received_boxes(case))
    except Exception:
        if stored_name:
            (document_dir() / stored_name).unlink(missing_ok=True)
        raise
    return document


def read_document(actor: Actor, document: OutsideDocument) -> bytes:
    """The document's file, for someone who may see the case; the read is audited."""
    audit.record(actor, AuditAction.VIEW, "outside_document", document.uuid, patient_uuid=document.case.patient.uuid)
    return document_path(document).read_bytes()
