"""Condition: each fractured vertebra of a referral, as FHIR R4 Condition (read and search).

Coded in ICD-10-CM by the fracture's cause, with the same table the procedure coding uses (rules.coding: CMS
billing article A56572), the level as ``bodySite`` (``urn:kyphos:vertebra``) and its acuity and MRI/bone-scan
evidence as extensions, as on the ServiceRequest. The id is the case's id and the level (``<case>-T12``).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from kyphos.interop.fhir import kinds, search
from kyphos.pathway.models import CaseLevel
from kyphos.pathway.stages import Stage
from kyphos.procedure.services import ETIOLOGY_FOR_CODING
from kyphos.rules.coding import CodingError, code_procedure

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
EXT = "urn:kyphos:fhir:"
ID = re.compile(r"^(?P<case>[0-9a-f-]{36})-(?P<level>[TL]\d{1,2})$")
SORTS = {
    # With no _sort, the order the levels were recorded in: sorting every match by its case's id first cost
    # half a second at a million cases (``Condition?body-site=L1``).
    "": search.Sort("pk"),
    "_id": search.Sort("case__uuid", str, lambda v: v),
    "recorded-date": search.Sort("case__referral_date", lambda d: d.isoformat(), lambda t: search.from_iso(t).date()),
}


def visible(user: Any) -> QuerySet[CaseLevel]:
    return kinds.site_scoped(CaseLevel.objects.select_related("case__patient"), user, "case__site_id")


def id_of(row: CaseLevel) -> str:
    return f"{row.case.uuid}-{row.level}"


def lookup(rows: QuerySet[CaseLevel], resource_id: str) -> QuerySet[CaseLevel]:
    found = ID.match(resource_id)
    return rows.filter(case__uuid=found["case"], level=found["level"]) if found else rows.none()


def icd_codes(case: Any, level: str) -> list[tuple[str, str]]:
    etiology = ETIOLOGY_FOR_CODING.get(case.etiology) or (case.neoplastic_kind or "other")
    try:
        coding = code_procedure([level], etiology)
    except CodingError:
        return []
    return list(zip(coding.icd10cm, coding.icd_labels, strict=False))


def to_fhir(row: CaseLevel) -> dict[str, Any]:
    case = row.case
    clinical = "resolved" if case.stage == Stage.CLOSED else "inactive" if case.stage == Stage.CANCELLED else "active"
    codes = icd_codes(case, row.level)
    extension: list[dict[str, Any]] = [
        {"url": f"{EXT}acuity", "valueCode": row.acuity},
        {"url": f"{EXT}edema", "valueCode": row.edema},
    ]
    if row.height_loss_percent is not None:
        extension.append(
            {
                "url": f"{EXT}height-loss",
                "valueQuantity": {
                    "value": row.height_loss_percent,
                    "unit": "%",
                    "system": "http://unitsofmeasure.org",
                    "code": "%",
                },
            }
        )
    return {
        "resourceType": "Condition",
        "id": id_of(row),
        "meta": {"versionId": str(case.version), "lastUpdated": case.updated_at.isoformat()},
        "extension": extension,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": ICD10CM, "code": code, "display": label} for code, label in codes],
            "text": f"Vertebral compression fracture, {row.level}",
        },
        "bodySite": [{"coding": [{"system": "urn:kyphos:vertebra", "code": row.level}], "text": row.level}],
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "recordedDate": case.referral_date.isoformat(),
        "evidence": [{"detail": [{"reference": f"ServiceRequest/{case.uuid}"}]}],
    }


def search_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        either = Q(pk__in=[])
        for part in value.split(","):
            match = ID.match(part)
            if match:
                either |= Q(case__uuid=match["case"], level=match["level"])
        found &= either
    for name in ("patient", "subject"):
        for value in params.getlist(name):
            ids = [p.split("/", 1)[1] if p.startswith("Patient/") else p for p in value.split(",")]
            found &= Q(case__patient__uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("body-site"):
        found &= Q(level__in=[search.token(part)[1] for part in value.split(",")])
    for value in params.getlist("clinical-status"):
        stages = {"active": None, "resolved": [Stage.CLOSED], "inactive": [Stage.CANCELLED]}
        either = Q(pk__in=[])
        for part in value.split(","):
            if part == "active":
                either |= ~Q(case__stage__in=[Stage.CLOSED, Stage.CANCELLED])
            elif part in stages:
                either |= Q(case__stage__in=stages[part])
        found &= either
    if params.getlist("recorded-date"):
        found &= search.date_filter(
            "case__referral_date", params.getlist("recorded-date"), "recorded-date", is_date=True
        )
    search.no_modifiers(params)
    return found


KIND = kinds.register(
    kinds.Kind(
        name="Condition",
        audit_type="case",
        visible=visible,
        serve=lambda rows: [to_fhir(row) for row in rows],
        search=search_filter,
        params={
            "_id": "token",
            "patient": "reference",
            "subject": "reference",
            "body-site": "token",
            "clinical-status": "token",
            "recorded-date": "date",
        },
        sorts=SORTS,
        default_sort="",
        patient_of=lambda row: row.case.patient.uuid,
        version_of=lambda row: row.case.version,
        updated_of=lambda row: row.case.updated_at,
        id_of=id_of,
        lookup=lookup,
        id_is=lambda rid: ID.match(rid) is not None,
        compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
        since_field="case__updated_at",
    )
)
