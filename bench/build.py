"""Build a synthetic registry straight into the tables: patients, cases, levels, events, tasks.

Rows go in with COPY on PostgreSQL and executemany on SQLite, in batches, so a million cases take minutes,
not hours. The shape follows the pathway: most cases are old and closed, a few thousand are active, and the
nurse has calls due now and upcoming.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from kyphos.demo.department import FAMILY
from kyphos.rules.levels import ALL_LEVELS
from kyphos.rules.names import name_key
from kyphos.rules.windows import call_window

BATCH = 20_000
YEARS_OF_HISTORY = 5
ACTIVE_STAGES = ["referred", "triaged", "scheduled", "scheduled", "scheduled", "precall_done", "postponed"]
GIVEN = [
    "Mary",
    "Patricia",
    "Linda",
    "Barbara",
    "Rosa",
    "Mai",
    "James",
    "Robert",
    "John",
    "Joan",
    "Ana",
    "José",
    "Élodie",
    "Siobhán",
    "Thị Lan",
    "Wei",
]
# Family names for the name search: the common ones above, a few thousand rarer ones built from syllables, and
# names with accents ("Muñoz" must be found by "munoz").
ACCENTED = [
    "Muñoz",
    "Núñez",
    "Ibáñez",
    "Peña",
    "Gómez",
    "Nguyễn",
    "Müller",
    "Østergaard",
    "O'Brien",
    "De la Cruz",
]
STEMS = [
    "Al",
    "Bar",
    "Cas",
    "Del",
    "Es",
    "Fer",
    "Gal",
    "Her",
    "Ir",
    "Jar",
    "Kel",
    "Lor",
    "Mar",
    "Nor",
    "Or",
    "Pal",
    "Quin",
    "Ros",
    "Sal",
    "Tor",
    "Ul",
    "Val",
    "Wes",
    "Yar",
    "Zam",
]
ENDINGS = [
    "a",
    "ez",
    "ini",
    "son",
    "berg",
    "ford",
    "ley",
    "ton",
    "ova",
    "ski",
    "ard",
    "ens",
    "ham",
    "ida",
    "uez",
    "wick",
    "ner",
    "ott",
    "ak",
    "ic",
]


def family_name(rng: random.Random, n: int) -> str:
    draw = rng.random()
    if draw < 0.5:
        return FAMILY[n % len(FAMILY)]
    if draw < 0.55:
        return ACCENTED[n % len(ACCENTED)]
    return f"{rng.choice(STEMS)}{rng.choice(ENDINGS)}{rng.choice(ENDINGS)}"


class Writer:
    """Writes rows of native Python values to one table, adapting them for the backend."""

    def __init__(self, table: str, columns: list[str]) -> None:
        self.table = table
        self.columns = columns
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0
        self.pg = connection.vendor == "postgresql"
        self.column_list = ", ".join(f'"{name}"' for name in columns)

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def _adapt(self, value: Any) -> Any:
        if self.pg:
            return value
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    def flush(self) -> None:
        if not self.rows:
            return
        with connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                with raw.copy(f'COPY "{self.table}" ({self.column_list}) FROM STDIN') as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in self.columns)
                cursor.cursor.executemany(
                    f'INSERT INTO "{self.table}" ({self.column_list}) VALUES ({marks})',
                    [tuple(self._adapt(v) for v in row) for row in self.rows],
                )
        self.count += len(self.rows)
        self.rows.clear()


def _columns(model: Any) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


class Treated:
    """The records of a treated case, for the dashboard and the registry export to read: the procedure and its
    levels (some cement leakage, a few complications), the ward stay, pain and questionnaire scores, for most a
    follow-up visit (some outside 7–14 days, some readmitted, some with a new fracture) and a diary entry or two
    (a few with red flags)."""

    def __init__(self, writers: dict[str, Writer], rng: random.Random, clinician_id: int, questionnaire_id: int):
        self.writers, self.rng = writers, rng
        self.clinician_id, self.questionnaire_id = clinician_id, questionnaire_id
        self.level_id = self.response_id = self.visit_id = self.diary_id = 0

    def add(self, n: int, levels: list[str], referred_at: datetime, stage: str, now: datetime) -> None:
        rng, w = self.rng, self.writers
        started = referred_at + timedelta(days=rng.randint(6, 30), hours=rng.randint(0, 8))
        if started > now - timedelta(days=2):
            return
        ended = started + timedelta(minutes=rng.randint(30, 90))
        w["procedure"].add(
            (n, n, "Dr Okafor", started, ended, "transpedicular", rng.randint(60, 600), None, None,
             "" if rng.random() > 0.02 else "transient hypotension", "", "{}", 1)
        )  # fmt: skip
        for order, level in enumerate(levels, start=1):
            self.level_id += 1
            draw = rng.random()
            leakage = "symptomatic" if draw < 0.004 else "asymptomatic" if draw < 0.2 else "none"
            w["treated"].add(
                (self.level_id, n, order, level, "bilateral", "15", 180, 190, Decimal("3.0"), Decimal("3.2"),
                 "partial", "bench cement", "L1", started, started + timedelta(minutes=15), Decimal("2.5"),
                 Decimal("2.5"), leakage, "", False, "", ended)
            )  # fmt: skip
        discharged = ended + timedelta(hours=rng.choice([18, 20, 22, 23, 26, 30]))
        w["stay"].add((n, n, ended + timedelta(minutes=40), "B1", discharged, "{}", None))
        baseline = rng.randint(6, 9)
        seen = stage in {"followup_done", "closed"} and rng.random() < 0.9
        visit_at = discharged + timedelta(days=rng.choice([6, 8, 10, 12, 13, 15]))
        w["outcome"].add(
            (n, n, baseline, max(0, baseline - rng.randint(2, 5)),
             max(0, baseline - rng.randint(3, 7)) if seen else None, "rdq", Decimal(rng.randint(12, 20)),
             Decimal(rng.randint(4, 12)) if seen else None, discharged)
        )  # fmt: skip
        if seen:
            self.visit_id += 1
            found = '["readmitted"]' if rng.random() < 0.03 else "[]"
            w["visit"].add(
                (self.visit_id, uuid.UUID(int=rng.getrandbits(128)), n, visit_at, self.clinician_id,
                 rng.randint(0, 5), "{}", found, "", rng.random() < 0.04, False, "", False, "", "discharge", "")
            )  # fmt: skip
        for day in range(1, 1 + (rng.random() < 0.5) + (rng.random() < 0.3)):
            at = discharged + timedelta(days=day, hours=2)
            self.response_id += 1
            self.diary_id += 1
            w["response"].add(
                (self.response_id, uuid.UUID(int=rng.getrandbits(128)), n, self.questionnaire_id, "diary", at,
                 "patient", None, "[]", None)
            )  # fmt: skip
            flagged = rng.random() < 0.01
            w["diary"].add(
                (self.diary_id, uuid.UUID(int=rng.getrandbits(128)), n, at.date(), at, self.response_id,
                 rng.randint(1, 6), '["chest_or_breathing"]' if flagged else "[]", "{}", rng.random() < 0.01, None,
                 "same_day" if flagged else "", "")
            )  # fmt: skip


def build_registry(total_cases: int, now: datetime, seed: int = 1) -> dict[str, int]:
    """Insert ``total_cases`` cases (one patient each) and their levels, events and tasks, and for the treated
    ones their procedure, stay, scores, follow-up and diary (``Treated``); return row counts."""
    from django.contrib.auth.models import User

    from kyphos.aftercare.models import (
        CaseOutcome,
        DiaryEntry,
        FollowUpRecord,
        Questionnaire,
        QuestionnaireResponse,
        Stay,
    )
    from kyphos.pathway.models import Case, CaseLevel, Event, Task
    from kyphos.patients.models import Patient
    from kyphos.procedure.models import ProcedureRecord, TreatedLevel
    from kyphos.scheduling.models import Appointment, Room, Site

    rng = random.Random(seed)
    sites = list(Site.objects.order_by("code"))
    rooms = {site.pk: list(Room.objects.filter(site=site)) for site in sites}
    calendars = {site.pk: site.calendar() for site in sites}
    zones = {site.pk: ZoneInfo(site.time_zone) for site in sites}
    nurse_role, scheduler_role = "nurse", "scheduler"
    empty_json = "[]" if connection.vendor == "sqlite" else json.dumps([])
    empty_obj = "{}"

    writers = {
        "patient": Writer(Patient._meta.db_table, _columns(Patient)),
        "case": Writer(Case._meta.db_table, _columns(Case)),
        "level": Writer(CaseLevel._meta.db_table, _columns(CaseLevel)),
        "event": Writer(Event._meta.db_table, _columns(Event)),
        "task": Writer(Task._meta.db_table, _columns(Task)),
        "appointment": Writer(Appointment._meta.db_table, _columns(Appointment)),
        "procedure": Writer(ProcedureRecord._meta.db_table, _columns(ProcedureRecord)),
        "treated": Writer(TreatedLevel._meta.db_table, _columns(TreatedLevel)),
        "stay": Writer(Stay._meta.db_table, _columns(Stay)),
        "outcome": Writer(CaseOutcome._meta.db_table, _columns(CaseOutcome)),
        "visit": Writer(FollowUpRecord._meta.db_table, _columns(FollowUpRecord)),
        "response": Writer(QuestionnaireResponse._meta.db_table, _columns(QuestionnaireResponse)),
        "diary": Writer(DiaryEntry._meta.db_table, _columns(DiaryEntry)),
    }
    clinician = User.objects.get_or_create(username="bench_clinician")[0]
    questionnaire = Questionnaire.objects.get_or_create(
        url="urn:kyphos:bench:diary", version="1", defaults={"title": "Bench diary", "definition": {}, "loaded_at": now}
    )[0]
    treated = Treated(writers, rng, clinician.pk, questionnaire.pk)
    col = {name: w.columns for name, w in writers.items()}
    used_slots: set[tuple[int, datetime]] = set()
    event_id = task_id = appointment_id = 0
    level_id = 0

    def row(name: str, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[c] for c in col[name])

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # loading only; reset below
            # Random UUID keys touch pages all over each index: a 2 GB page cache keeps them in memory.
            cursor.execute("PRAGMA cache_size=-2000000")
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The generator writes consistent keys; skip the per-row foreign-key triggers while loading.
                cursor.execute("SET session_replication_role = replica")
        for n in range(1, total_cases + 1):
            site = sites[0] if rng.random() < 0.6 else sites[1]
            zone = zones[site.pk]
            age_days = rng.randint(0, 365 * YEARS_OF_HISTORY)
            referred_at = now - timedelta(days=age_days, minutes=rng.randint(0, 600))
            if age_days > 60:
                stage = "closed" if rng.random() < 0.9 else "cancelled"
            elif age_days > 25:
                stage = rng.choice(["discharged", "followup_done", "closed"])
            else:
                stage = rng.choice(ACTIVE_STAGES)
            patient_uuid, case_uuid = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
            family, given = family_name(rng, n), GIVEN[n % len(GIVEN)]
            writers["patient"].add(
                row(
                    "patient",
                    {
                        "id": n,
                        "uuid": patient_uuid,
                        "assigning_authority": site.code,
                        "mrn": f"B{n:08d}",
                        "family_name": family,
                        "given_name": given,
                        "family_key": name_key(family),
                        "given_key": name_key(given),
                        "date_of_birth": date(1930 + n % 40, 1 + n % 12, 1 + n % 28),
                        "sex": "F" if n % 4 else "M",
                        "phone_mobile": f"+1 555 {n:07d}",
                        "phone_home": "",
                        "email": "",
                        "address": "",
                        "merged_into_id": None,
                        "merged_at": None,
                        "preferred_language": "en",
                        "preferred_channel": "phone",
                        "needs_interpreter": False,
                        "caregiver_name": "",
                        "caregiver_relationship": "",
                        "caregiver_phone": "",
                        "allergy_status": "not_recorded",
                        "version": 1,
                        "created_at": referred_at,
                        "updated_at": referred_at,
                    },
                )
            )
            appointment_pk = None
            appointment_start = None
            if stage in {"scheduled", "precall_done"}:
                # A future booking in a free slot, 1–21 days ahead, on a business day.
                day = (now + timedelta(days=rng.randint(1, 21))).astimezone(zone).date()
                for _ in range(400):
                    if calendars[site.pk].is_business_day(day):
                        slot = datetime.combine(day, time(7 + rng.randint(0, 9), rng.choice([0, 30])), tzinfo=zone)
                        room = rng.choice(rooms[site.pk])
                        if (room.pk, slot) not in used_slots:
                            used_slots.add((room.pk, slot))
                            appointment_start = slot
                            break
                    day += timedelta(days=1)
                if appointment_start is None:
                    stage = "triaged"
            if appointment_start is not None:
                appointment_id += 1
                appointment_pk = appointment_id
                writers["appointment"].add(
                    row(
                        "appointment",
                        {
                            "id": appointment_pk,
                            "uuid": uuid.UUID(int=rng.getrandbits(128)),
                            "case_uuid": case_uuid,
                            "site_id": site.pk,
                            "room_id": room.pk,
                            "start": appointment_start,
                            "end": appointment_start + timedelta(minutes=60),
                            "arrival_at": appointment_start - timedelta(minutes=90),
                            "status": "booked",
                            "replaces_id": None,
                            "status_reason": "",
                            "created_at": referred_at,
                            "updated_at": referred_at,
                        },
                    )
                )
            changed_at = referred_at + timedelta(days=min(age_days, 14))
            writers["case"].add(
                row(
                    "case",
                    {
                        "id": n,
                        "uuid": case_uuid,
                        "patient_id": n,
                        "site_id": site.pk,
                        "stage": stage,
                        "stage_changed_at": changed_at,
                        "referral_date": referred_at.astimezone(zone).date(),
                        "referring_clinician": "Dr Okafor",
                        "referring_contact": "",
                        "etiology": "osteoporosis",
                        "steroid_disease": "",
                        "neoplastic_kind": "",
                        "etiology_note": "",
                        "pain_nrs": 7,
                        "hospitalized": False,
                        "weeks_conservative_care": 8,
                        "pain_trend": "worsening",
                        "kyphotic_deformity": False,
                        "progressive_height_loss": False,
                        "rdq": None,
                        "medications_note": "",
                        "clinical_note": "",
                        "infection": False,
                        "pregnant": False,
                        "pain_not_from_fracture": False,
                        "cement_allergy": False,
                        "contrast_allergy": False,
                        "uncorrected_coagulopathy": False,
                        "retropulsion": False,
                        "neuro_deficit": False,
                        "spinal_instability": False,
                        "eligibility": "pending" if stage == "referred" else "eligible",
                        "eligibility_reason": "",
                        "triaged_by_id": None,
                        "triaged_at": None,
                        "appointment_id": appointment_pk,
                        "findings": empty_json,
                        "open_stops": 0,
                        "decided_stops": empty_json,
                        "end_reason": "",
                        "end_note": "",
                        "version": 3,
                        "created_at": referred_at,
                        "updated_at": changed_at,
                    },
                )
            )
            top = rng.randint(5, len(ALL_LEVELS) - 2)
            case_levels = [ALL_LEVELS[top + k] for k in range(1 + (n % 3 == 0))]
            if stage in {"discharged", "followup_done", "closed"}:
                treated.add(n, case_levels, referred_at, stage, now)
            for k in range(len(case_levels)):
                level_id += 1
                writers["level"].add(
                    row(
                        "level",
                        {
                            "id": level_id,
                            "case_id": n,
                            "level": ALL_LEVELS[top + k],
                            "position": top + k,
                            "acuity": "acute",
                            "edema": "yes",
                            "height_loss_percent": 25,
                        },
                    )
                )
            for kind, to_stage, offset in (
                ("referred", "referred", 0),
                ("transition", "triaged", 1),
                ("transition", stage, 2),
            ):
                if kind == "transition" and stage == "referred":
                    break
                event_id += 1
                writers["event"].add(
                    row(
                        "event",
                        {
                            "id": event_id,
                            "case_id": n,
                            "at": referred_at + timedelta(hours=offset),
                            "actor_id": None,
                            "actor_name": "bench",
                            "kind": kind,
                            "from_stage": "",
                            "to_stage": to_stage,
                            "summary": f"to {to_stage}",
                            "reason": "",
                            "data": empty_obj,
                        },
                    )
                )
            tasks: list[dict[str, Any]] = []
            if stage == "referred":
                tasks.append(
                    {
                        "kind": "triage",
                        "role": "radiologist",
                        "status": "open",
                        "due_start": referred_at,
                        "due_end": referred_at + timedelta(days=2),
                    }
                )
            else:
                tasks.append(
                    {
                        "kind": "triage",
                        "role": "radiologist",
                        "status": "done",
                        "due_start": referred_at,
                        "due_end": referred_at + timedelta(days=2),
                    }
                )
            if stage == "triaged":
                tasks.append(
                    {
                        "kind": "book",
                        "role": scheduler_role,
                        "status": "open",
                        "due_start": referred_at,
                        "due_end": referred_at + timedelta(days=5),
                    }
                )
            if appointment_start is not None:
                window = call_window(appointment_start, calendars[site.pk])
                tasks.append(
                    {
                        "kind": "precall",
                        "role": nurse_role,
                        "status": "open" if stage == "scheduled" else "done",
                        "due_start": window.start,
                        "due_end": window.end,
                    }
                )
            if stage in {"closed", "discharged", "followup_done"}:
                tasks.append(
                    {
                        "kind": "precall",
                        "role": nurse_role,
                        "status": "done",
                        "due_start": referred_at + timedelta(days=5),
                        "due_end": referred_at + timedelta(days=6),
                    }
                )
            if stage == "discharged" and rng.random() < 0.001:
                # A few diary red flags: urgent nurse tasks that head the worklist (issue 5).
                flagged = referred_at + timedelta(days=20)
                tasks.append(
                    {
                        "kind": "diary_emergency",
                        "role": nurse_role,
                        "status": "open",
                        "urgent": True,
                        "due_start": flagged,
                        "due_end": flagged + timedelta(minutes=15),
                    }
                )
            for task in tasks:
                task_id += 1
                closed = task["status"] != "open"
                writers["task"].add(
                    row(
                        "task",
                        {
                            "id": task_id,
                            "uuid": uuid.UUID(int=rng.getrandbits(128)),
                            "case_id": n,
                            "kind": task["kind"],
                            "role": task["role"],
                            "due_start": task["due_start"],
                            "due_end": task["due_end"],
                            "status": task["status"],
                            "assignee_id": None,
                            "appointment_start": appointment_start if task["kind"] == "precall" else None,
                            "note": "",
                            "outcome": "",
                            "created_at": referred_at,
                            "urgent": task.get("urgent", False),
                            "closed_at": task["due_end"] if closed else None,
                            "closed_by_id": None,
                        },
                    )
                )
        # Parents before children: the foreign keys are checked at commit (PostgreSQL) or per row (SQLite).
        for name in writers:  # in the order above: parents first
            writers[name].flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            cursor.execute("PRAGMA synchronous=NORMAL")
    _reset_sequences()
    return {name: writer.count for name, writer in writers.items()}


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    from kyphos.aftercare.models import CaseOutcome, DiaryEntry, FollowUpRecord, QuestionnaireResponse, Stay
    from kyphos.pathway.models import Case, CaseLevel, Event, Task
    from kyphos.patients.models import Patient
    from kyphos.procedure.models import ProcedureRecord, TreatedLevel
    from kyphos.scheduling.models import Appointment

    models = [Patient, Case, CaseLevel, Event, Task, Appointment, ProcedureRecord, TreatedLevel, Stay, CaseOutcome]
    models += [FollowUpRecord, QuestionnaireResponse, DiaryEntry]
    sql = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
