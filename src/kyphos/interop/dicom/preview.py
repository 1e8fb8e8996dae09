"""What a patient's CD holds and whether it is this case's patient's, before anything is stored.

More than one patient on a disc, or a patient whose name, birth date or sex does not match the case's, means the
import would go to quarantine with these reasons (``rules.identity``); nothing is attached silently. Reading the
preview is a read of the case's patient and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.interop.dicom import reader
from kyphos.pathway.models import Case
from kyphos.rules import identity

MAX_SKIPPED_LISTED = 500
# Why a file on a disc was skipped (reader.Skipped.reason), in words.
SKIPPED = {
    "not-dicom": gettext_lazy("not a DICOM file"),
    "truncated": gettext_lazy("cut short"),
    "unreadable": gettext_lazy("cannot be read"),
    "incomplete": gettext_lazy("lacks the identifiers an image needs"),
    "missing": gettext_lazy("listed in the DICOMDIR but not on the disc"),
    "outside": gettext_lazy("a link to somewhere off the disc"),
}


@dataclass
class Preview:
    disc: reader.Disc
    reasons: list[str]  # empty: the images are the case's patient's; else why the import would be quarantined

    @property
    def quarantine(self) -> bool:
        return bool(self.reasons)


def ours(case: Case) -> identity.Person:
    patient = case.patient
    sex = identity.SEX.get(patient.sex, "")  # "U", unknown, is not a sex to compare
    return identity.Person(patient.family_name, patient.given_name, patient.date_of_birth, sex)


def check(case: Case, disc: reader.Disc) -> list[str]:
    """Why these images might not be the case's patient's (codes such as ``patients:2``, ``name:differs``)."""
    if not disc.patients:
        return ["images:none"]
    if len(disc.patients) > 1:
        return [f"patients:{len(disc.patients)}"]
    (outside,) = disc.patients.values()
    person = identity.from_dicom(outside.name, outside.birth_date, outside.sex)
    return [f"{m.field}:{m.reason}" for m in identity.compare(person, ours(case))]


def preview(actor: Actor, case: Case, root: Path) -> Preview:
    if not root.is_dir():
        raise InvalidInput(
            _("{path} is not a folder: mount the CD, or name the folder its files were copied to.").format(
                path=str(root)[:200]
            )
        )
    disc = reader.read(root)
    reasons = check(case, disc)
    audit.record(
        actor, AuditAction.VIEW, "outside_imaging", case.uuid, patient_uuid=case.patient.uuid, detail="CD preview"
    )
    return Preview(disc, reasons)


def as_json(result: Preview) -> dict[str, Any]:
    disc = result.disc
    return {
        "from_dicomdir": disc.from_dicomdir,
        "identity": {"quarantine": result.quarantine, "reasons": result.reasons},
        "patients": [
            {
                "outside_id": p.patient_id,
                "issuer": p.issuer,
                "name": p.name,
                "birth_date": p.birth_date,
                "sex": p.sex,
                "studies": [
                    {
                        "study_uid": s.uid,
                        "date": s.date,
                        "description": s.description,
                        "accession": s.accession,
                        "institution": s.institution,
                        "images": s.image_count,
                        "series": [
                            {
                                "series_uid": se.uid,
                                "modality": se.modality,
                                "number": se.number,
                                "description": se.description,
                                "body_part": se.body_part,
                                "images": len(se.instances),
                            }
                            for se in s.series.values()
                        ],
                    }
                    for s in p.studies.values()
                ],
            }
            for p in disc.patients.values()
        ],
        # A disc of thousands of files that are not images (a viewer program, say) is listed, but not all of it.
        "skipped": [{"path": s.path, "reason": s.reason} for s in disc.skipped[:MAX_SKIPPED_LISTED]],
        "skipped_count": len(disc.skipped),
    }
