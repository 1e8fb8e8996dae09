"""Observation, the whole type: the lab results (``observation.LABS``) and what staff and patients measure along
the pathway — vital signs at admission and in recovery, pain scores (on the ward, in recovery, in the patient's
diary, at the follow-up visit), the temperature a patient reports in the diary, and the score of each scored
questionnaire.

Each measurement is served from the row that holds it, never copied: one part per (table, measurement), searched
and paged together with the labs. Only lab results can be created through the API; the rest are recorded on the
screens and the portal by their own services.

Codes: vital signs as the FHIR R4 Vital Signs profile requires (FHIR R4 4.0.1, section 8.14.1 "Vital Signs",
its table of LOINC codes and UCUM units; blood pressure as the 85354-9 panel with systolic 8480-6 and diastolic
8462-4 components), category ``vital-signs``. Pain as LOINC 72514-3 (pain severity, 0–10 numeric rating,
reported), category ``survey``. A questionnaire score names its Questionnaire (its canonical) and derives from
its QuestionnaireResponse, category ``survey``: the licensed instruments a site loads (RDQ, ODI) carry their own
codes, Kyphos invents none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import QueryDict

from kyphos.aftercare.models import DiaryEntry, FollowUpRecord, PainScore, QuestionnaireResponse, RecoveryCheck
from kyphos.interop.fhir import kinds, observation, search
from kyphos.procedure.models import Admission

LOINC, UCUM = observation.LOINC, observation.UCUM
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
ABSENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]}
SCORE_SYSTEM = "urn:kyphos:fhir:questionnaire-score"


@dataclass(frozen=True)
class Measure:
    """What is measured: its code, category, and where its value sits on the row."""

    slug: str  # the last part of the resource id
    code: str  # LOINC ("" for a questionnaire score: coded by its questionnaire)
    display: str
    category: str  # vital-signs or survey
    fields: tuple[str, ...]  # the row's value fields; the first must be filled for the row to count
    unit: str = ""  # UCUM
    components: tuple[tuple[str, str], ...] = ()  # (LOINC, display) per field, for a panel


BP = Measure(
    "bp",
    "85354-9",
    "Blood pressure panel with all children optional",
    "vital-signs",
    ("bp_systolic", "bp_diastolic"),
    "mm[Hg]",
    (("8480-6", "Systolic blood pressure"), ("8462-4", "Diastolic blood pressure")),
)
HEART_RATE = Measure("hr", "8867-4", "Heart rate", "vital-signs", ("heart_rate",), "/min")
SPO2 = Measure("spo2", "2708-6", "Oxygen saturation in Arterial blood", "vital-signs", ("spo2",), "%")
TEMPERATURE = Measure("temp", "8310-5", "Body temperature", "vital-signs", ("temperature_c",), "Cel")
WEIGHT = Measure("weight", "29463-7", "Body weight", "vital-signs", ("weight_kg",), "kg")
PULSE_OXIMETRY = "59408-5"  # the profile asks for this code beside 2708-6 when measured by pulse oximetry


def pain(field: str) -> Measure:
    return Measure(
        "pain",
        "72514-3",
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        "survey",
        (field,),
        "{score}",
    )


SCORE = Measure("score", "", "", "survey", ("score",), "{score}")


@dataclass(frozen=True)
class Source:
    """A table measurements are read from: the row's UUID (the id's first part), its time, who measured."""

    name: str  # the id's middle part
    rows: Callable[[], QuerySet[Any]]
    uuid: str  # the field holding the UUID of the id
    at: str  # when it was measured
    by: Callable[[Any], dict[str, str] | None]  # the performer reference


def _staff(user_field: str) -> Callable[[Any], dict[str, str] | None]:
    def performer(row: Any) -> dict[str, str] | None:
        user_id = getattr(row, f"{user_field}_id")
        return {"reference": f"Practitioner/staff-{user_id}"} if user_id else None

    return performer


def _patient(row: Any) -> dict[str, str]:
    return {"reference": f"Patient/{row.case.patient.uuid}"}


def _answerer(row: QuestionnaireResponse) -> dict[str, str] | None:
    return _patient(row) if row.by_id is None else _staff("by")(row)


ADMISSION = Source("admission", lambda: Admission.objects.all(), "case__uuid", "assessed_at", _staff("assessed_by"))
RECOVERY = Source("recovery", lambda: RecoveryCheck.objects.all(), "uuid", "at", _staff("by"))
WARD = Source("ward", lambda: PainScore.objects.all(), "uuid", "at", _staff("by"))
DIARY = Source("diary", lambda: DiaryEntry.objects.all(), "uuid", "at", _patient)
VISIT = Source("visit", lambda: FollowUpRecord.objects.all(), "uuid", "at", _staff("by"))
ANSWERS = Source(
    "questionnaire",
    lambda: QuestionnaireResponse.objects.all(),
    "uuid",
    "authored_at",
    _answerer,
)


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    number: float | int = float(value) if isinstance(value, Decimal) else int(value)
    return {"value": number, "unit": unit, "system": UCUM, "code": unit}


def _code(measure: Measure, row: Any) -> dict[str, Any]:
    if measure is SCORE:
        questionnaire = row.questionnaire
        text = f"{questionnaire.title} score"
        return {"coding": [{"system": SCORE_SYSTEM, "code": questionnaire.canonical, "display": text}], "text": text}
    coding = [{"system": LOINC, "code": measure.code, "display": measure.display}]
    if measure is SPO2:
        coding.append({"system": LOINC, "code": PULSE_OXIMETRY, "display": "Oxygen saturation by Pulse oximetry"})
    return {"coding": coding, "text": measure.display}


def _resource(source: Source, measure: Measure, row: Any) -> dict[str, Any]:
    at: datetime = getattr(row, source.at)
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{_uuid_of(source, row)}-{source.name}-{measure.slug}",
        "meta": {"versionId": "1", "lastUpdated": at.isoformat()},
        "basedOn": [{"reference": f"ServiceRequest/{row.case.uuid}"}],
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": measure.category}]}],
        "code": _code(measure, row),
        "subject": {"reference": f"Patient/{row.case.patient.uuid}"},
        "effectiveDateTime": at.isoformat(),
    }
    performer = source.by(row)
    if performer is not None:
        body["performer"] = [performer]
    if measure.components:
        body["component"] = []
        for field, (code, display) in zip(measure.fields, measure.components, strict=True):
            part: dict[str, Any] = {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]}}
            value = getattr(row, field)
            if value is None:
                part["dataAbsentReason"] = ABSENT
            else:
                part["valueQuantity"] = _quantity(value, measure.unit)
            body["component"].append(part)
    else:
        body["valueQuantity"] = _quantity(getattr(row, measure.fields[0]), measure.unit)
    if measure is SCORE:
        body["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{row.uuid}"}]
    return body


def _uuid_of(source: Source, row: Any) -> Any:
    return row.case.uuid if source.uuid == "case__uuid" else row.uuid


def _matches_code(measure: Measure, text: str) -> bool:
    system, code = search.token(text)
    if measure is SCORE:
        return system in (None, SCORE_SYSTEM) and bool(code)
    codes = {measure.code, PULSE_OXIMETRY} if measure is SPO2 else {measure.code}
    return system in (None, LOINC) and code in codes


def _filter(source: Source, measure: Measure, suffix: str) -> Callable[[QueryDict], Q]:
    def search_filter(params: QueryDict) -> Q:
        found = search.patients(params, "case__patient__uuid")
        for value in params.getlist("_id"):
            ids = [part[:36] for part in value.split(",") if part.endswith(suffix) and search.is_uuid(part[:36])]
            found &= Q(**{f"{source.uuid}__in": ids})
        for value in params.getlist("based-on"):
            ids = [search.reference_id(part, "ServiceRequest") for part in value.split(",")]
            found &= Q(case__uuid__in=[i for i in ids if search.is_uuid(i)])
        for value in params.getlist("code"):
            parts = value.split(",")
            if not any(_matches_code(measure, part) for part in parts):
                found &= Q(pk__in=[])
            elif measure is SCORE:
                wanted = [search.token(part)[1] for part in parts if _matches_code(measure, part)]
                either = Q(pk__in=[])
                for canonical in wanted:
                    url, _bar, version = canonical.partition("|")
                    either |= Q(questionnaire__url=url, **({"questionnaire__version": version} if version else {}))
                found &= either
        for value in params.getlist("category"):
            if not any(search.token(part)[1] == measure.category for part in value.split(",")):
                found &= Q(pk__in=[])
        for value in params.getlist("status"):
            if "final" not in value.split(","):
                found &= Q(pk__in=[])
        for name in ("date", "_lastUpdated"):
            if params.getlist(name):
                found &= search.date_filter(source.at, params.getlist(name), name)
        search.no_modifiers(params)
        return found

    return search_filter


def part(source: Source, measure: Measure) -> kinds.Kind:
    """The Observations of one measurement kept in one table."""
    suffix = f"-{source.name}-{measure.slug}"
    related = ["case__patient", "questionnaire"] if measure is SCORE else ["case__patient"]

    def visible(user: Any) -> QuerySet[Any]:
        # No join here: a page walks the table's own time index; ``serve`` fetches the cases and patients after.
        rows = source.rows().filter(**{f"{measure.fields[0]}__isnull": False})
        return kinds.site_scoped(rows, user, "case__site_id")

    def serve(rows: list[Any]) -> list[dict[str, Any]]:
        prefetch_related_objects(rows, *related)
        return [_resource(source, measure, row) for row in rows]

    def lookup(rows: QuerySet[Any], rid: str) -> QuerySet[Any]:
        return rows.filter(**{source.uuid: rid[:36]})

    by_time = search.Sort(source.at, search.iso, search.from_iso)
    return kinds.Kind(
        name="Observation",
        audit_type="score" if measure is SCORE else f"{measure.slug}_{source.name}",
        visible=visible,
        serve=serve,
        search=_filter(source, measure, suffix),
        params={},
        sorts={"_id": search.Sort(source.uuid, str, lambda v: v), "date": by_time, "_lastUpdated": by_time},
        patient_of=lambda row: row.case.patient.uuid,
        updated_of=lambda row: getattr(row, source.at),
        id_of=lambda row: f"{_uuid_of(source, row)}{suffix}",
        lookup=lookup,
        id_is=lambda rid: rid.endswith(suffix) and len(rid) == 36 + len(suffix) and search.is_uuid(rid[:36]),
        compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
        since_field=source.at,
    )


MEASURED: tuple[tuple[Source, Measure], ...] = (
    (ADMISSION, BP),
    (ADMISSION, HEART_RATE),
    (ADMISSION, SPO2),
    (ADMISSION, TEMPERATURE),
    (ADMISSION, WEIGHT),
    (RECOVERY, BP),
    (RECOVERY, HEART_RATE),
    (RECOVERY, SPO2),
    (RECOVERY, pain("pain_nrs")),
    (WARD, pain("nrs")),
    (DIARY, pain("pain")),
    (DIARY, TEMPERATURE),
    (VISIT, pain("pain_today")),
    (ANSWERS, SCORE),
)

KIND = kinds.register(
    kinds.of_parts(
        "Observation",
        observation.PARAMS,
        (observation.LABS, *(part(source, measure) for source, measure in MEASURED)),
        create=observation.create,  # who may enter results is the labs room's own check
        default_sort="date",
        links={"based-on": ("ServiceRequest", "basedOn")},
    )
)
