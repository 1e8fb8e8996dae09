"""A patient's CD into the case's outside imaging: read it, check whose it is, keep it while it waits, store it.

``read_in`` reads a disc (a mounted CD, a folder, or an upload unpacked by ``unpack_zip`` / ``unpack_files``),
checks it against the case's patient (``preview.check``) and opens the import through ``precall.imaging``; a disc
that goes to quarantine, or that was uploaded, is kept in a folder of Kyphos's own until it is decided. ``store``
sends an accepted import's images to the site's PACS (``store.send``: C-STORE, one association per study) or, for a
site without one, copies them into Kyphos's own storage; images already stored for the case are skipped by SOP
instance UID, so a second run resumes. With the site's "set the hospital's MRN" setting the patient ID and issuer
are replaced on the way and the outside values kept in Other Patient IDs (PS3.3 2024, C.7.1.1, "Patient Module").
The worker stores imports accepted on the staff page (``work``).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from pydicom import dcmread
from pydicom.dataset import Dataset

from kyphos.audit.actor import Actor
from kyphos.errors import InvalidInput, KyphosError
from kyphos.interop.dicom import dose, preview, reader, store
from kyphos.interop.models import SiteInterface
from kyphos.pathway.models import Case
from kyphos.precall import imaging
from kyphos.precall.models import ImportStatus, OutsideImport
from kyphos.procedure import services as procedure

log = logging.getLogger("kyphos.dicom")
BATCH = 25  # images recorded as stored per transaction
MAX_MEMBERS = 100_000


def staging_dir() -> Path:
    return Path(getattr(settings, "KYPHOS_OUTSIDE_DIR", Path(settings.VAR_DIR) / "outside"))


def image_dir() -> Path:
    return Path(getattr(settings, "KYPHOS_IMAGE_DIR", Path(settings.VAR_DIR) / "images"))


def _new_folder() -> Path:
    folder = staging_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    return folder


# --- uploads ------------------------------------------------------------------------------------------------


def _safe_parts(name: str) -> tuple[str, ...]:
    """The parts of a relative path inside an upload; refused when it could land outside the upload's folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ":" in name or any(part in ("..", "") for part in path.parts[:-1]) or ".." in path.parts:
        raise InvalidInput(
            _("The upload was refused: it names a file outside its own folder ({name}).").format(name=name[:80])
        )
    return tuple(part for part in path.parts if part not in (".",))


def _without_common_top(named: list[tuple[tuple[str, ...], Any]]) -> list[tuple[tuple[str, ...], Any]]:
    """Paths that all start with the same folder (the CD's own folder, zipped or chosen whole) without it."""
    tops = {parts[0] for parts, _thing in named if len(parts) > 1}
    if len(tops) == 1 and named and all(len(parts) > 1 for parts, _thing in named):
        return [(parts[1:], thing) for parts, thing in named]
    return named


def _limit() -> int:
    return int(getattr(settings, "KYPHOS_MAX_CD_UPLOAD", 2 * 1024**3))


def unpack_zip(stream: IO[bytes]) -> Path:
    """Unpack a ZIP of a CD into a new staging folder. Every name is checked before one byte is written: a name
    with ``..``, an absolute path or a drive letter refuses the whole upload, as does one larger than the limit."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(_("That is not a ZIP file: upload the CD's folder, or a ZIP of it.")) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise InvalidInput(_("The ZIP holds too many files for one CD."))
        planned = _without_common_top([(_safe_parts(m.filename), m) for m in members])
        if sum(m.file_size for m in members) > _limit():
            raise InvalidInput(_("The ZIP is larger than a CD upload may be."))
        folder = _new_folder()
        try:
            for parts, member in planned:
                if not parts or (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # a symbolic link is not a file of the disc
                target = folder.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidInput(_("The ZIP is damaged and could not be unpacked.")) from None
    return folder


def unpack_files(files: Iterable[tuple[str, IO[bytes]]]) -> Path:
    """A folder uploaded file by file, each with its path inside the folder, into a new staging folder. A folder
    chosen whole arrives with its own name in front of every path: that name is dropped, so the disc's DICOMDIR
    lands at the top."""
    named = _without_common_top([(_safe_parts(name), source) for name, source in files])
    folder = _new_folder()
    total = 0
    try:
        for parts, source in named:
            if not parts:
                continue
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
                total += out.tell()
            if total > _limit():
                raise InvalidInput(_("The folder is larger than a CD upload may be."))
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def forget(folder: Path) -> None:
    """Remove a staging folder (after storing, rejecting or discarding): only ever one of Kyphos's own."""
    if folder.parent.resolve() == staging_dir().resolve():
        shutil.rmtree(folder, ignore_errors=True)


# --- reading in ---------------------------------------------------------------------------------------------


def facts(disc: reader.Disc) -> list[imaging.StudyFacts]:
    found = []
    for patient in disc.patients.values():
        for study in patient.studies.values():
            series = study.series.values()
            found.append(
                imaging.StudyFacts(
                    study_uid=study.uid,
                    date=study.date,
                    accession=study.accession,
                    description=study.description,
                    modalities=tuple(sorted({s.modality for s in series if s.modality})),
                    body_parts=tuple(sorted({s.body_part for s in series if s.body_part})),
                    institution=study.institution,
                    outside_patient_id=patient.patient_id,
                    outside_issuer=patient.issuer,
                    series_count=len(study.series),
                    image_count=study.image_count,
                )
            )
    return found


def _stage(disc: reader.Disc) -> Path:
    """Copy a disc's images (and its DICOMDIR) into a staging folder, keeping their paths."""
    folder = _new_folder()
    names = [os.path.relpath(i.path, disc.root) for *_rest, i in disc.instances]
    names += [e.name for e in disc.root.iterdir() if e.is_file() and e.name.upper() == "DICOMDIR"]
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(disc.root / name, target)
    return folder


def read_in(
    actor: Actor, case: Case, root: Path, *, source: str, staged: Path | None = None
) -> tuple[OutsideImport, reader.Disc]:
    """Open an import of the disc at ``root`` for ``case``. A disc read from where it lies (``staged`` None) is
    copied into staging only when it goes to quarantine; an upload already lies in staging."""
    result = preview.preview(actor, case, root)
    disc, folder = result.disc, staged
    if not disc.patients:
        if folder is not None:
            forget(folder)
        raise InvalidInput(_("No DICOM images were found there: nothing was imported."))
    try:
        if folder is None and result.quarantine:
            folder = _stage(disc)
        outside = imaging.open_import(
            actor,
            case,
            source=source,
            studies=facts(disc),
            reasons=result.reasons,
            contents=preview.as_json(result),
            from_dicomdir=disc.from_dicomdir,
            staged=folder.name if folder is not None else "",
        )
    except Exception:
        if folder is not None:
            forget(folder)
        raise
    return outside, disc


# --- storing ------------------------------------------------------------------------------------------------


def pacs_of(case: Case) -> tuple[SiteInterface | None, store.Destination | None]:
    interface = SiteInterface.objects.filter(site_id=case.site_id).first()
    if interface is None or not interface.has_pacs:
        return interface, None
    destination = store.Destination(
        interface.pacs_ae_title, interface.pacs_host, int(interface.pacs_port or 0), interface.calling_ae_title
    )
    return interface, destination


def coerce(data: Dataset, case: Case) -> Dataset:
    """The hospital's MRN and issuer on an outside image, the outside ones kept in Other Patient IDs."""
    patient = case.patient
    outside_id, outside_issuer = str(data.get("PatientID", "") or ""), str(data.get("IssuerOfPatientID", "") or "")
    if (outside_id, outside_issuer) == (patient.mrn, patient.assigning_authority):
        return data
    if outside_id:
        kept = Dataset()
        kept.PatientID = outside_id
        if outside_issuer:
            kept.IssuerOfPatientID = outside_issuer
        kept.TypeOfPatientID = "TEXT"
        others = list(data.get("OtherPatientIDsSequence", []))
        data.OtherPatientIDsSequence = [*others, kept]
    data.PatientID = patient.mrn
    data.IssuerOfPatientID = patient.assigning_authority
    return data


class _Progress:
    """Records stored images in batches, and tells the caller how far it went."""

    def __init__(self, outside: OutsideImport, where: str, total: int, shown: Callable[[int, int], None]) -> None:
        self.outside, self.where, self.total, self.shown = outside, where, total, shown
        self.pending: list[tuple[str, str]] = []
        self.done = 0
        self.study_of: dict[str, str] = {}

    def stored(self, instance: reader.Instance) -> None:
        self.pending.append((self.study_of[instance.sop_instance_uid], instance.sop_instance_uid))
        self.done += 1
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            imaging.record_stored(self.outside, self.where, self.pending)
            self.pending = []
        self.shown(self.done, self.total)


def store_import(
    actor: Actor,
    outside: OutsideImport,
    disc: reader.Disc | None = None,
    shown: Callable[[int, int], None] = lambda done, total: None,
) -> OutsideImport:
    """Store an accepted import's images (from ``disc`` when the command still holds the CD, else from its
    staging folder) to the site's PACS or Kyphos's own storage, and finish the import."""
    case = outside.case
    if disc is None:
        disc = reader.read(staging_dir() / outside.staged) if outside.staged else reader.Disc(Path("."), False)
    interface, pacs = pacs_of(case)
    where = "pacs" if pacs is not None else "kyphos"
    wanted = set(outside.studies.values_list("study_uid", flat=True))
    pairs = [(study.uid, instance) for _p, study, _s, instance in disc.instances if study.uid in wanted]
    already = imaging.stored_already(case, where)
    progress = _Progress(outside, where, len(pairs), shown)
    progress.study_of = {instance.sop_instance_uid: study_uid for study_uid, instance in pairs}
    coerced = bool(interface is not None and interface.coerce_patient_ids)

    def prepare(instance: reader.Instance) -> Any:
        return coerce(dcmread(instance.path), case) if coerced else str(instance.path)

    failed: list[tuple[str, str]]
    if pacs is not None:
        pause = float(getattr(settings, "KYPHOS_DICOM_RETRY_PAUSE", 1.0))
        sent = store.send(pacs, pairs, already, on_stored=progress.stored, pause=pause, prepare=prepare)
        failed = sent.failed
    else:
        failed = _keep(pairs, already, progress.stored, prepare, coerced)
    progress.flush()
    if not pairs and disc.patients == {}:
        failed = [("", "files-gone")] if outside.image_count else []
    outside = imaging.finish_import(
        actor,
        outside,
        destination=where,
        failed=len(failed),
        last_error=failed[0][1] if failed else "",
        coerced=coerced,
    )
    if outside.stored_count:
        _dose_reports(actor, outside, pairs)
    if outside.status == ImportStatus.STORED and outside.staged:
        forget(staging_dir() / outside.staged)
    return outside


def _dose_reports(actor: Actor, outside: OutsideImport, pairs: list[tuple[str, reader.Instance]]) -> None:
    """The procedure's dose report, when the disc holds it, fills the procedure record's dose fields."""
    for _study_uid, instance in pairs:
        if instance.sop_class_uid != dose.RDSR_SOP_CLASS:
            continue
        try:
            report = dose.read(instance.path)
        except Exception:  # noqa: BLE001 - a damaged report is stored as it is; it only fills nothing
            report = None
        if report is None:
            continue
        try:
            procedure.record_dose_report(actor, outside.case, report)
        except KyphosError:  # another day's procedure, or none yet: the report stays an image of the case only
            log.info("A dose report on outside import %s was not used for the procedure record.", outside.pk)


def _keep(
    pairs: list[tuple[str, reader.Instance]],
    already: set[str],
    stored: Callable[[reader.Instance], None],
    prepare: Callable[[reader.Instance], Any],
    coerced: bool,
) -> list[tuple[str, str]]:
    """Kyphos's own storage: one file per image, by study and SOP instance UID."""
    failed = []
    for study_uid, instance in pairs:
        if instance.sop_instance_uid in already:
            continue
        target = image_dir() / _uid_name(study_uid) / f"{_uid_name(instance.sop_instance_uid)}.dcm"
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if coerced:
                prepare(instance).save_as(target, enforce_file_format=False)
            else:
                shutil.copyfile(instance.path, target)
        except (OSError, ValueError) as exc:
            failed.append((instance.sop_instance_uid, type(exc).__name__[:30]))
            continue
        stored(instance)
    return failed


def _uid_name(uid: str) -> str:
    """A UID as a file name: digits and dots only (PS3.5 9.1), anything else dropped."""
    return "".join(c for c in uid if c.isdigit() or c == ".")[:64] or "unknown"


def discard_staged(outside: OutsideImport) -> None:
    if outside.staged and outside.status in (ImportStatus.REJECTED, ImportStatus.DISCARDED):
        forget(staging_dir() / outside.staged)


# --- the worker -------------------------------------------------------------------------------------------


def work(worker: str) -> bool:
    """The worker's turn: store one accepted import; True when there was one."""
    outside = imaging.claim(worker)
    if outside is None:
        return False
    try:
        store_import(Actor.system("kyphos worker"), outside)
    except Exception:  # noqa: BLE001 - the import stays accepted; its lease runs out and it is tried again
        log.exception("Storing outside import %s failed", outside.pk)
    return True
