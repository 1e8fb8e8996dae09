"""``kyphos import-cd PATH --case UUID --preview [--json]``: what a patient's CD holds, and whether the images are
the case's patient's, before anything is stored. (Storing to the PACS, with the quarantine, comes next.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyphos.audit.actor import Actor
from kyphos.commands import KyphosCommand
from kyphos.errors import InvalidInput
from kyphos.interop.dicom import preview
from kyphos.pathway.models import Case

REASONS = {
    "images:none": gettext_lazy("no DICOM images were found"),
    "name:differs": gettext_lazy("the name differs"),
    "name:missing": gettext_lazy("the images carry no name"),
    "birth_date:differs": gettext_lazy("the birth date differs"),
    "birth_date:missing": gettext_lazy("the images carry no birth date"),
    "sex:differs": gettext_lazy("the sex differs"),
}
SKIPPED = {
    "not-dicom": gettext_lazy("not a DICOM file"),
    "truncated": gettext_lazy("cut short"),
    "unreadable": gettext_lazy("cannot be read"),
    "incomplete": gettext_lazy("lacks the identifiers an image needs"),
    "missing": gettext_lazy("listed in the DICOMDIR but not on the disc"),
    "outside": gettext_lazy("a link to somewhere off the disc"),
}


def reason_text(code: str) -> str:
    if code.startswith("patients:"):
        return _("{count} patients on one disc").format(count=code.partition(":")[2])
    return str(REASONS.get(code, code))


class Command(KyphosCommand):
    help = "Read a patient's CD (a mounted disc or a folder) for a case: what is on it and whose it is."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--case", required=True, help="the case's UUID")
        parser.add_argument("--preview", action="store_true", help="read and check only; store nothing")
        parser.add_argument("--json", action="store_true", help="print the preview as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["preview"]:
            raise InvalidInput(_("Only --preview is available yet: storing to the PACS is not built."))
        try:
            case_id = uuid.UUID(options["case"])
        except ValueError:
            raise InvalidInput(_("--case must be a case's UUID.")) from None
        case = Case.objects.select_related("patient").filter(uuid=case_id).first()
        if case is None:
            raise InvalidInput(_("No case {id}.").format(id=case_id))
        result = preview.preview(Actor.system("kyphos import-cd"), case, Path(options["path"]))
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
            reason = str(SKIPPED.get(skipped.reason, skipped.reason))
            self.stdout.write(_("Skipped {path}: {reason}").format(path=skipped.path, reason=reason))
        if result.quarantine:
            why = "; ".join(reason_text(r) for r in result.reasons)
            self.stdout.write(_("Would go to quarantine: {why}.").format(why=why))
        else:
            self.stdout.write(_("The images match the case's patient."))
