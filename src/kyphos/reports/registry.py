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
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.patients.models import years_on
from kyphos.procedure.models import ProcedureRecord, TreatedLevel
from kyphos.reports.figures import Period

CHUNK = 2000
# What the export reads of a procedure, its case, patient and site; and of a treated level, in this order.
RECORD_FIELDS = (
    "id", "case_id", "started_at", "ended_at", "fluoro_seconds", "air_kerma_mgy", "dap_gycm2", "complications",
    "complication_grade", "case__uuid", "case__stage", "case__etiology", "case__referral_date", "case__triaged_at",
    "case__pain_nrs", "case__site__code", "case__patient__uuid", "case__patient__assigning_authority",
    "case__patient__mrn", "case__patient__date_of_birth", "case__patient__sex",
)  # fmt: skip
LEVEL_FIELDS = (
    "level", "order", "sides", "balloon_size", "balloon_ml_left", "balloon_ml_right", "cement_product",
    "cement_ml_left", "cement_ml_right", "restoration", "leakage", "leakage_location", "biopsy",
)  # fmt: skip
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

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The procedures in order, a chunk at a time, as the columns the export reads (no model is built: the
        export is read once, written once)."""
        ids = list(self.procedures().order_by("started_at", "id").values_list("id", flat=True))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            records = ProcedureRecord.objects.filter(id__in=chunk).values(*RECORD_FIELDS)
            yield sorted(records, key=lambda r: (r["started_at"], r["id"]))

    def _date(self, moment: datetime | date | None, shift: timedelta) -> str:
        """A day in the site's zone, moved by the patient's shift (zero unless de-identified)."""
        if moment is None:
            return ""
        day = moment.astimezone(self.zone).date() if isinstance(moment, datetime) else moment
        return (day + shift).isoformat()

    def write(
        self,
        cases: IO[str],
        levels: IO[str],
        actor: Actor,
        progress: Callable[[int], None] = lambda n: None,
    ) -> int:
        """Write both files, auditing every patient exported (one entry each, per chunk) as ``actor``."""
        detail = "registry export, de-identified" if self.masking else "registry export"
        case_writer, level_writer = csv.writer(cases), csv.writer(levels)
        case_writer.writerow(CASE_COLUMNS)
        level_writer.writerow(LEVEL_COLUMNS)
        written = 0
        for records in self.chunks():
            case_ids = [r["case_id"] for r in records]
            stays = dict(Stay.objects.filter(case_id__in=case_ids).values_list("case_id", "discharged_at"))
            outcomes = {
                row[0]: row[1:]
                for row in CaseOutcome.objects.filter(case_id__in=case_ids).values_list(
                    "case_id", "pain_baseline", "pain_24_48h", "pain_follow_up", "questionnaire", "score_baseline",
                    "score_follow_up",
                )
            }  # fmt: skip
            follow_ups: dict[int, tuple[datetime, bool]] = {}
            for case_id, at, fracture in (
                FollowUpRecord.objects.filter(case_id__in=case_ids)
                .order_by("at", "id")
                .values_list("case_id", "at", "new_fracture_suspected")
            ):
                follow_ups.setdefault(case_id, (at, fracture))
            told = readmissions(case_ids)
            treated: dict[int, list[tuple[Any, ...]]] = {}
            for level in (
                TreatedLevel.objects.filter(record_id__in=[r["id"] for r in records])
                .order_by("record_id", "order")
                .values_list("record_id", *LEVEL_FIELDS)
            ):
                treated.setdefault(level[0], []).append(level[1:])
            for record in records:
                self._rows(
                    record, treated.get(record["id"], []), stays, outcomes, follow_ups, told, case_writer, level_writer
                )
                written += 1
            audit.record_list(
                actor, "registry_export", [(r["case__uuid"], r["case__patient__uuid"]) for r in records], detail
            )
            progress(written)
        return written

    def _rows(
        self,
        record: dict[str, Any],
        levels: list[tuple[Any, ...]],
        stays: dict[int, datetime | None],
        outcomes: dict[int, tuple[Any, ...]],
        follow_ups: dict[int, tuple[datetime, bool]],
        told: dict[int, bool],
        case_writer: Any,
        level_writer: Any,
    ) -> None:
        masked, case_pk, patient_uuid = self.masking is not None, record["case_id"], record["case__patient__uuid"]
        case_id = self.masking.pseudonym("case", record["case__uuid"]) if self.masking else str(record["case__uuid"])
        patient_id = (
            self.masking.pseudonym("patient", patient_uuid)
            if self.masking
            else f"{record['case__patient__assigning_authority']}:{record['case__patient__mrn']}"
        )
        shift = self.masking.offset(patient_uuid) if self.masking else timedelta(0)
        procedure_day = record["started_at"].astimezone(self.zone).date()
        age = years_on(record["case__patient__date_of_birth"], procedure_day)
        pain_before, pain_early, pain_later, questionnaire, score_before, score_later = outcomes.get(
            case_pk, (None, None, None, "", None, None)
        )
        visit_at, fracture = follow_ups.get(case_pk, (None, None))
        discharged, ended = stays.get(case_pk), record["ended_at"]
        hours = round((discharged - ended).total_seconds() / 3600, 1) if discharged and ended else ""
        case_writer.writerow(
            [
                case_id,
                patient_id,
                record["case__site__code"],
                "90+" if masked and age > 89 else age,
                record["case__patient__sex"],
                record["case__etiology"],
                self._date(record["case__referral_date"], shift),
                self._date(record["case__triaged_at"], shift),
                self._date(record["started_at"], shift),
                len(levels),
                ";".join(level[0] for level in levels),
                pain_before if pain_before is not None else record["case__pain_nrs"],
                _text(pain_early),
                _text(pain_later),
                questionnaire,
                _text(score_before),
                _text(score_later),
                _text(record["fluoro_seconds"]),
                _text(record["air_kerma_mgy"]),
                _text(record["dap_gycm2"]),
                "yes" if record["complications"].strip() else "no",
                record["complication_grade"],
                self._date(discharged, shift),
                hours,
                self._date(visit_at, shift),
                "" if visit_at is None else "yes" if fracture else "no",
                "" if case_pk not in told else "yes" if told[case_pk] else "no",
                record["case__stage"],
            ]
        )
        for name, order, sides, size, balloon_left, balloon_right, product, cement_left, cement_right, *rest in levels:
            restoration, leakage, location, biopsy = rest
            balloon = sum(v for v in (balloon_left, balloon_right) if v is not None)
            cement = sum(v for v in (cement_left, cement_right) if v is not None)
            level_writer.writerow(
                [
                    case_id,
                    name,
                    order,
                    sides,
                    size,
                    _text(balloon or ""),
                    product,
                    _text(cement or ""),
                    restoration,
                    leakage,
                    location,  # a code (epidural, foraminal, venous…), never free text
                    "yes" if biopsy else "no",
                ]
            )
