"""``kyphos import-cd PATH --case UUID [--preview] [--json]``: a patient's CD into the case's outside imaging.

With ``--preview`` it only says what the disc holds and whether the images are the case's patient's. Without it the
import is opened: a disc that matches is stored at once (to the site's PACS, or Kyphos's own storage) with its
progress on stderr; one that does not goes to quarantine (kept by Kyphos) for the radiologist to accept or reject on
the case page. Running the command again on the same disc resumes an interrupted import: images already stored
are not sent twice. Exit status 0 when the images are stored or safely in quarantine, 1 when some could not be
stored (the import can be run again), 2 for input it cannot use."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Q
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.commands import KyphosCommand
from kyphos.errors import InvalidInput
from kyphos.interop.dicom import importing, preview
from kyphos.pathway.models import Case
from kyphos.precall import imaging
from kyphos.precall.models import ImportStatus, OutsideImport

HOLDER = "kyphos import-cd"


class Command(KyphosCommand):
    help = "Read a patient's CD (a mounted disc or a folder) for a case: what is on it and whose it is."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--case", required=True, help="the case's UUID")
        parser.add_argument("--preview", action="store_true", help="read and check only; store nothing")
        parser.add_argument("--json", action="store_true", help="print the preview as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            case_id = uuid.UUID(options["case"])
        except ValueError:
            raise InvalidInput(_("--case must be a case's UUID.")) from None
        case = Case.objects.select_related("patient").filter(uuid=case_id).first()
        if case is None:
            raise InvalidInput(_("No case {id}.").format(id=case_id))
        actor, root = Actor.system("kyphos import-cd"), Path(options["path"])
        if not options["preview"]:
            self.import_disc(actor, case, root, as_json=options["json"])
            return
        result = preview.preview(actor, case, root)
        if options["json"]:
            self.stdout.write(json.dumps(preview.as_json(result), ensure_ascii=False, indent=2))
            return
        disc = result.disc
        how = _("by its DICOMDIR") if disc.from_dicomdir else _("file by file (no DICOMDIR)")
        self.stdout.write(_("Read {how}.").format(how=how))
        for patient in disc.patients.values():
            self.stdout.write(
                _("Patient {name} (outside ID {id}), born {born}, sex {sex}").format(
                    name=patient.name or "?",
                    id=patient.patient_id or "?",
                    born=patient.birth_date or "?",
                    sex=patient.sex or "?",
                )
            )
            for study in patient.studies.values():
                modalities = ", ".join(sorted({s.modality for s in study.series.values() if s.modality}))
                self.stdout.write(
                    _("  {date} {modalities} {description}: {images} image(s), {series} series").format(
                        date=study.date or "?",
                        modalities=modalities,
                        description=study.description,
                        images=study.image_count,
                        series=len(study.series),
                    )
                )
        for skipped in disc.skipped:
            reason = str(preview.SKIPPED.get(skipped.reason, skipped.reason))
            self.stdout.write(_("Skipped {path}: {reason}").format(path=skipped.path, reason=reason))
        if result.quarantine:
            why = "; ".join(imaging.reason_text(r) for r in result.reasons)
            self.stdout.write(_("Would go to quarantine: {why}.").format(why=why))
        else:
            self.stdout.write(_("The images match the case's patient."))

    def import_disc(self, actor: Actor, case: Case, root: Path, *, as_json: bool) -> None:
        outside, disc = importing.read_in(actor, case, root, source="cd")
        earlier = self.unfinished(case, outside)
        if outside.status == ImportStatus.READY:
            if earlier is not None:  # the same disc again, after an interruption: carry on with that import
                imaging.discard_import(actor, outside, version=outside.version)
                outside = imaging.retry_import(actor, earlier, version=earlier.version, holder=HOLDER)
            else:
                outside = imaging.confirm_import(actor, outside, version=outside.version, holder=HOLDER)
            outside = importing.store_import(actor, outside, disc, shown=self.progress)
        outside.refresh_from_db()
        if as_json:
            self.stdout.write(json.dumps(self.summary(outside), ensure_ascii=False, indent=2))
        elif outside.status == ImportStatus.QUARANTINED:
            why = "; ".join(imaging.reason_text(r) for r in outside.reasons)
            self.stdout.write(
                _("In quarantine: {why}. Nothing is attached until the radiologist accepts or rejects it.").format(
                    why=why
                )
            )
        elif outside.status == ImportStatus.STORED:
            where = _("the PACS") if outside.destination == "pacs" else _("Kyphos's own storage")
            self.stdout.write(
                _("Stored {stored} image(s) of {studies} study(ies) in {where}.").format(
                    stored=outside.stored_count, studies=outside.studies.count(), where=where
                )
            )
        if outside.status == ImportStatus.FAILED:
            self.stderr.write(
                _(
                    "kyphos import-cd: {failed} image(s) not stored ({why}); run the command again to send the rest."
                ).format(failed=outside.failed_count, why=outside.last_error)
            )
            raise SystemExit(1)

    @staticmethod
    def unfinished(case: Case, outside: OutsideImport) -> OutsideImport | None:
        """An earlier import of the same studies for this case that did not finish storing: it failed, or the
        command storing it from the disc was stopped (it is still accepted, with no copy of the disc kept)."""
        studies = set(outside.studies.values_list("study_uid", flat=True))
        unfinished = case.outside_imports.filter(
            Q(status=ImportStatus.FAILED) | Q(status=ImportStatus.ACCEPTED, staged="")
        ).exclude(pk=outside.pk)
        for earlier in unfinished:
            if set(earlier.studies.values_list("study_uid", flat=True)) == studies:
                return earlier
        return None

    def progress(self, done: int, total: int) -> None:
        if total and self.stderr.isatty():
            self.stderr.write(f"\r{done}/{total}", ending="")

    @staticmethod
    def summary(outside: OutsideImport) -> dict[str, Any]:
        return {
            "import": str(outside.uuid),
            "status": outside.status,
            "reasons": outside.reasons,
            "images": outside.image_count,
            "stored": outside.stored_count,
            "failed": outside.failed_count,
            "destination": outside.destination,
            "coerced": outside.coerced,
            "studies": [
                {
                    "study_uid": s.study_uid,
                    "date": s.study_date.isoformat() if s.study_date else "",
                    "modalities": s.modalities,
                    "description": s.description,
                    "images": s.image_count,
                    "stored": s.stored_count,
                }
                for s in outside.studies.all()
            ],
        }
