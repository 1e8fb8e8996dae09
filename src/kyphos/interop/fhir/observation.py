"""Observation: the case's lab results (INR, platelets, hemoglobin, creatinine, eGFR, hCG …) as FHIR R4
Observations, read, searched, and created through the labs room's ``record_labs`` — the same checks, findings and
timeline as a result typed on the admission screen or sent by the HL7 lab feed.

A result is coded by LOINC (category ``laboratory``), its value a UCUM quantity or, for the pregnancy test,
positive/negative (SNOMED CT 10828004 / 260385009). A corrected result is a new Observation with status
``corrected``; the one it replaced is still readable, with a note naming its replacement, and no longer found by
search. A client creating a result names the patient and, when the patient has more than one open case, the case
(``basedOn`` ServiceRequest); the laboratory's identifier lets a later correction replace it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.interop.fhir import kinds, search
from kyphos.interop.fhir.outcome import FhirError, refused
from kyphos.labs import codes
from kyphos.labs import services as labs
from kyphos.labs.models import LabResult, ResultStatus
from kyphos.pathway.models import Case
from kyphos.pathway.policy import site_ids_of
from kyphos.pathway.stages import TERMINAL
from kyphos.rules.labs import tests as lab_tests

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory",
            "display": "Laboratory",
        }
    ]
}
# The unit Kyphos keeps, written as UCUM where the data file's spelling is not UCUM already.
UCUM_OF = {"inr": "{INR}", "egfr": "mL/min/{1.73_m2}"}
STATUS_IN = {
    "final": ResultStatus.FINAL,
    "amended": ResultStatus.CORRECTED,
    "corrected": ResultStatus.CORRECTED,
    "preliminary": ResultStatus.PRELIMINARY,
}
POSITIVE, NEGATIVE = "10828004", "260385009"
SORTS = {
    "_id": search.Sort("uuid", str, lambda v: v),
    "date": search.Sort("taken_at", search.iso, search.from_iso),
    "_lastUpdated": search.Sort("entered_at", search.iso, search.from_iso),
}


def visible(user: Any) -> QuerySet[LabResult]:
    # No join here: a page walks the results' own time index; ``serve`` fetches the cases and patients after.
    return kinds.site_scoped(LabResult.objects.all(), user, "case__site_id")


def to_fhir(row: LabResult) -> dict[str, Any]:
    test = lab_tests()[row.code]
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.uuid),
        "meta": {"versionId": "1", "lastUpdated": row.entered_at.isoformat()},
    }
    if row.external_id:
        body["identifier"] = [{"system": "urn:kyphos:lab-result", "value": row.external_id}]
    body |= {
        "basedOn": [{"reference": f"ServiceRequest/{row.case.uuid}"}],
        "status": str(row.status),
        "category": [CATEGORY],
        "code": {"coding": [{"system": LOINC, "code": row.loinc, "display": test.name}], "text": test.name},
        "subject": {"reference": f"Patient/{row.case.patient.uuid}"},
        "effectiveDateTime": row.taken_at.isoformat(),
        "issued": row.entered_at.isoformat(),
    }
    if row.code == "hcg":
        code = POSITIVE if row.positive else NEGATIVE
        text = "Positive" if row.positive else "Negative"
        body["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": code, "display": text}], "text": text}
    elif row.value is not None:
        unit = UCUM_OF.get(row.code, row.unit)
        body["valueQuantity"] = {"value": float(row.value), "unit": unit, "system": UCUM, "code": unit}
    replaced_by = getattr(row, "corrected_by", None)
    if row.superseded_at is not None and replaced_by is not None:
        body["note"] = [{"text": f"Replaced by a correction: Observation/{replaced_by.uuid}"}]
    return body


def serve(rows: list[LabResult]) -> list[dict[str, Any]]:
    prefetch_related_objects(rows, "case__patient", "corrected_by")
    return [to_fhir(row) for row in rows]


def search_filter(params: QueryDict) -> Q:
    found = Q()
    if not params.getlist("_id"):
        found &= Q(superseded_at__isnull=True)  # a replaced result is read by its id, not found by search
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for name in ("patient", "subject"):
        for value in params.getlist(name):
            ids = [search.reference_id(part, "Patient") for part in value.split(",")]
            found &= Q(case__patient__uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("based-on"):
        ids = [search.reference_id(part, "ServiceRequest") for part in value.split(",")]
        found &= Q(case__uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("code"):
        either = Q(pk__in=[])
        for part in value.split(","):
            system, code = search.token(part)
            if system in (None, LOINC):
                either |= Q(loinc=code)
        found &= either
    for value in params.getlist("status"):
        found &= Q(status__in=[STATUS_IN.get(part, part) for part in value.split(",")])
    for value in params.getlist("category"):
        if not any(search.token(part)[1] == "laboratory" for part in value.split(",")):
            found &= Q(pk__in=[])
    if params.getlist("date"):
        found &= search.date_filter("taken_at", params.getlist("date"), "date")
    if params.getlist("_lastUpdated"):
        found &= search.date_filter("entered_at", params.getlist("_lastUpdated"), "_lastUpdated")
    search.no_modifiers(params)
    return found


def _case_for(user: Any, resource: dict[str, Any]) -> Case:
    subject = str((resource.get("subject") or {}).get("reference", ""))
    patient_id = search.reference_id(subject, "Patient")
    if not subject.startswith("Patient/") or not search.is_uuid(patient_id):
        raise FhirError(422, "required", _("Observation.subject must reference a Patient."), "Observation.subject")
    cases = Case.objects.filter(patient__uuid=patient_id).exclude(stage__in=TERMINAL).select_related("site", "patient")
    mine = site_ids_of(user)
    if mine is not None:
        cases = cases.filter(site_id__in=mine)
    named = [
        search.reference_id(str(r.get("reference", "")), "ServiceRequest")
        for r in resource.get("basedOn") or []
        if isinstance(r, dict)
    ]
    if named:
        cases = cases.filter(uuid__in=[n for n in named if search.is_uuid(n)])
    found = list(cases[:2])
    if not found:
        raise FhirError(
            422,
            "business-rule",
            _("The patient has no open case here to file this result on."),
            "Observation.basedOn" if named else "Observation.subject",
        )
    if len(found) > 1:
        raise FhirError(
            422,
            "business-rule",
            _("The patient has more than one open case: name the case in basedOn (ServiceRequest)."),
            "Observation.basedOn",
        )
    return found[0]


def _entry(resource: dict[str, Any]) -> labs.LabEntry:
    by_loinc = {t.loinc: t.code for t in lab_tests().values()} | codes.ALSO_LOINC
    coding = [c for c in (resource.get("code") or {}).get("coding") or [] if isinstance(c, dict)]
    code = next(
        (by_loinc[str(c.get("code"))] for c in coding if c.get("system") == LOINC and c.get("code") in by_loinc), None
    )
    if code is None:
        raise FhirError(422, "code-invalid", _("Observation.code: not a LOINC test Kyphos keeps."), "Observation.code")
    status = STATUS_IN.get(str(resource.get("status")))
    if status is None:
        raise FhirError(
            422,
            "code-invalid",
            _("Observation.status: final, amended, corrected or preliminary."),
            "Observation.status",
        )
    taken = parse_datetime(str(resource.get("effectiveDateTime") or ""))
    if taken is None or taken.tzinfo is None:
        raise FhirError(
            422,
            "required",
            _("Observation.effectiveDateTime: the sample time, with its offset, is required."),
            "Observation.effectiveDateTime",
        )
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    external = f"{identifiers[0].get('system', '')}|{identifiers[0]['value']}" if identifiers else ""
    if code == "hcg":
        concept = resource.get("valueCodeableConcept") or {}
        answers = {str(c.get("code")) for c in concept.get("coding") or [] if isinstance(c, dict)}
        if not answers & {POSITIVE, NEGATIVE}:
            raise FhirError(
                422,
                "value",
                _("Observation.valueCodeableConcept: positive (10828004) or negative (260385009)."),
                "Observation.valueCodeableConcept",
            )
        return labs.LabEntry(code, taken, None, POSITIVE in answers, status, external)
    quantity = resource.get("valueQuantity") or {}
    unit = str(quantity.get("code") or quantity.get("unit") or "").replace(" ", "").upper()
    factor = codes.UNITS.get(code, {}).get(unit)
    if factor is None and unit == UCUM_OF.get(code, lab_tests()[code].unit).replace(" ", "").upper():
        factor = Decimal(1)
    try:
        number = Decimal(str(quantity.get("value")))
    except (InvalidOperation, ValueError):
        raise FhirError(
            422, "required", _("Observation.valueQuantity.value: a number is required."), "Observation.valueQuantity"
        ) from None
    if factor is None or not number.is_finite():
        raise FhirError(
            422,
            "value",
            _("Observation.valueQuantity: Kyphos cannot convert the unit “{unit}” for this test.").format(
                unit=unit[:20]
            ),
            "Observation.valueQuantity",
        )
    return labs.LabEntry(code, taken, (number * factor).quantize(Decimal("0.01")), None, status, external)


def create(actor: Actor, resource: dict[str, Any]) -> LabResult:
    case = _case_for(actor.user, resource)
    entry = _entry(resource)
    try:
        (row,) = labs.record_labs(actor, case, [entry], source="fhir")
    except ValidationError as exc:
        where = {"taken_at": "Observation.effectiveDateTime", "code": "Observation.code"}
        raise refused(exc, where, "Observation.value[x]") from None
    return LabResult.objects.select_related("case__patient", "corrected_by").get(pk=row.pk)


PARAMS = {
    "_id": "token",
    "patient": "reference",
    "subject": "reference",
    "based-on": "reference",
    "code": "token",
    "status": "token",
    "category": "token",
    "date": "date",
    "_lastUpdated": "date",
}

# The lab results, the first part of the Observation type (``clinical.KIND`` serves the whole type).
LABS = kinds.Kind(
    name="Observation",
    audit_type="lab",
    visible=visible,
    serve=serve,
    search=search_filter,
    params=PARAMS,
    sorts=SORTS,
    patient_of=lambda row: row.case.patient.uuid,
    updated_of=lambda row: row.entered_at,
    create=create,
    compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
    since_field="entered_at",
)
