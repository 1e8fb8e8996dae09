"""The registry export: one CSV row per case treated in a period (and site), one per treated level.

Identified, it carries the MRN and the real dates, for the hospital's own registry. De-identified, the HIPAA Safe
Harbor identifiers (45 CFR 164.514(b)(2)) are taken out: no name, MRN, address, phone, e-mail or free text; the
case and the patient become pseudonyms (a keyed hash, the same in every export so a registry can follow a
patient); every date of a patient moves by that patient's own offset (up to half a year either way, from the same
kept key), so intervals between a patient's dates stay true; ages over 89 are given as "90+". (Safe Harbor itself
keeps only the year of a date: shifted dates are a de-identification a registry's expert determination must
accept — README, "Registry export".) The key lives in ``KYPHOS_REGISTRY_KEY`` or ``var/registry_key``.

Rows are read in chunks (memory stays flat however many cases) and written as they come.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from kyphos.aftercare.models import CaseOutcome, FollowUpRecord, Stay
from kyphos.aftercare.selectors import readmissions
from kyphos.procedure.models import ProcedureRecord, TreatedLevel
from kyphos.reports.figures import Period

CHUNK = 2000
SHIFT_DAYS = 182

CASE_COLUMNS = [
    "case",
    "patient",
    "site",
    "age_at_procedure",
    "sex",
    "etiology",
    "referral_date",
    "triage_date",
    "procedure_date",
    "levels_treated",
    "levels",
    "pain_before",
    "pain_24_48h",
    "pain_follow_up",
    "questionnaire",
    "score_before",
    "score_follow_up",
    "fluoro_seconds",
    "air_kerma_mgy",
    "dap_gycm2",
    "complication",
    "complication_grade",
    "discharge_date",
    "hours_to_discharge",
    "follow_up_date",
    "new_fracture_suspected",
    "readmitted",
    "stage",
]
LEVEL_COLUMNS = [
    "case",
    "level",
    "order",
    "sides",
    "balloon_size",
    "balloon_ml",
    "cement_product",
    "cement_ml",
    "restoration",
    "leakage",
    "leakage_location",
    "biopsy",
]


def registry_key() -> bytes:
    """The kept secret behind pseudonyms and date offsets: ``KYPHOS_REGISTRY_KEY``, else a random key made once in
    the var directory (mode 600). Losing it breaks the link between exports; it never leaves the hospital."""
    key = os.environ.get("KYPHOS_REGISTRY_KEY")
    if key:
        return key.encode()
    path = Path(settings.VAR_DIR) / "registry_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class Masking:
    key: bytes

    def pseudonym(self, kind: str, value: object) -> str:
        return hmac.new(self.key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:20]

    def offset(self, patient_uuid: object) -> timedelta:
        digest = hmac.new(self.key, f"shift:{patient_uuid}".encode(), hashlib.sha256).digest()
        days = int.from_bytes(digest[:4], "big") % (2 * SHIFT_DAYS + 1) - SHIFT_DAYS
        return timedelta(days=days or 1)  # never zero: a shifted date is never the real one


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value)


class Export:
    """Writes the two CSVs for a period; ``deidentified`` masks as described above."""

    def __init__(self, period: Period, *, deidentified: bool) -> None:
        self.period = period
        self.masking = Masking(registry_key()) if deidentified else None
        self.zone = period.zone

    def procedures(self) -> Any:
        low, high = self.period.bounds()
        query = ProcedureRecord.objects.filter(started_at__gte=low, started_at__lt=high)
        return self.period.scope(query, "case__site_id")

    def count(self) -> int:
        return int(self.procedures().count())

    def chunks(self) -> Iterator[list[ProcedureRecord]]:
        ids = list(self.procedures().order_by("started_at", "id").values_list("id", flat=True))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            records = ProcedureRecord.objects.filter(id__in=chunk).select_related("case__patient", "case__site")
            yield sorted(records, key=lambda r: (r.started_at, r.id))

    def _date(self, moment: datetime | date | None, patient_uuid: object) -> str:
        if moment is None:
            return ""
        day = moment.astimezone(self.zone).date() if isinstance(moment, datetime) else moment
        if self.masking is not None:
            day = day + self.masking.offset(patient_uuid)
        return day.isoformat()

    def write(
        self,
        cases: IO[str],
        levels: IO[str],
        progress: Callable[[int], None] = lambda n: None,
        seen: Callable[[list[ProcedureRecord]], None] = lambda records: None,
    ) -> int:
        case_writer, level_writer = csv.writer(cases), csv.writer(levels)
        case_writer.writerow(CASE_COLUMNS)
        level_writer.writerow(LEVEL_COLUMNS)
        written = 0
        for records in self.chunks():
            case_ids = [r.case_id for r in records]
            stays = dict(Stay.objects.filter(case_id__in=case_ids).values_list("case_id", "discharged_at"))
            outcomes = {o.case_id: o for o in CaseOutcome.objects.filter(case_id__in=case_ids)}
            follow_ups: dict[int, FollowUpRecord] = {}
            for visit in FollowUpRecord.objects.filter(case_id__in=case_ids).order_by("at", "id"):
                follow_ups.setdefault(visit.case_id, visit)
            told = readmissions(case_ids)
            treated: dict[int, list[TreatedLevel]] = {}
            for level in TreatedLevel.objects.filter(record__in=records).order_by("record_id", "order"):
                treated.setdefault(level.record_id, []).append(level)
            for record in records:
                self._rows(
                    record, treated.get(record.pk, []), stays, outcomes, follow_ups, told, case_writer, level_writer
                )
                written += 1
            seen(records)
            progress(written)
        return written

    def _rows(
        self,
        record: ProcedureRecord,
        levels: list[TreatedLevel],
        stays: dict[int, datetime | None],
        outcomes: dict[int, CaseOutcome],
        follow_ups: dict[int, FollowUpRecord],
        told: dict[int, bool],
        case_writer: Any,
        level_writer: Any,
    ) -> None:
        case, masked = record.case, self.masking is not None
        patient = case.patient
        case_id = self.masking.pseudonym("case", case.uuid) if self.masking else str(case.uuid)
        patient_id = (
            self.masking.pseudonym("patient", patient.uuid)
            if self.masking
            else f"{patient.assigning_authority}:{patient.mrn}"
        )
        procedure_day = record.started_at.astimezone(self.zone).date()
        age = patient.age_on(procedure_day)
        outcome = outcomes.get(case.pk)
        visit = follow_ups.get(case.pk)
        discharged = stays.get(case.pk)
        hours = (
            round((discharged - record.ended_at).total_seconds() / 3600, 1) if discharged and record.ended_at else ""
        )
        case_writer.writerow(
            [
                case_id,
                patient_id,
                case.site.code,
                "90+" if masked and age > 89 else age,
                patient.sex,
                case.etiology,
                self._date(case.referral_date, patient.uuid),
                self._date(case.triaged_at, patient.uuid),
                self._date(record.started_at, patient.uuid),
                len(levels),
                ";".join(level.level for level in levels),
                outcome.pain_baseline if outcome and outcome.pain_baseline is not None else case.pain_nrs,
                _text(outcome.pain_24_48h if outcome else None),
                _text(outcome.pain_follow_up if outcome else None),
                (outcome.questionnaire if outcome else ""),
                _text(outcome.score_baseline if outcome else None),
                _text(outcome.score_follow_up if outcome else None),
                _text(record.fluoro_seconds),
                _text(record.air_kerma_mgy),
                _text(record.dap_gycm2),
                "yes" if record.complications.strip() else "no",
                record.complication_grade,
                self._date(discharged, patient.uuid),
                hours,
                self._date(visit.at if visit else None, patient.uuid),
                ("yes" if visit.new_fracture_suspected else "no") if visit else "",
                "" if case.pk not in told else "yes" if told[case.pk] else "no",
                case.stage,
            ]
        )
        for level in levels:
            balloon = sum(v for v in (level.balloon_ml_left, level.balloon_ml_right) if v is not None)
            cement = sum(v for v in (level.cement_ml_left, level.cement_ml_right) if v is not None)
            level_writer.writerow(
                [
                    case_id,
                    level.level,
                    level.order,
                    level.sides,
                    level.balloon_size,
                    _text(balloon or ""),
                    level.cement_product,
                    _text(cement or ""),
                    level.restoration,
                    level.leakage,
                    level.leakage_location,  # a code (epidural, foraminal, venous…), never free text
                    "yes" if level.biopsy else "no",
                ]
            )
