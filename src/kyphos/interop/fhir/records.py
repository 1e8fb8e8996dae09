"""AllergyIntolerance (the patient's allergies as the call and admission recorded them) and AuditEvent (the audit
trail, for the privacy officer's tools: only a client whose role may view the audit reads it; an event's id is
its entry's chain hash) as FHIR R4, read and search."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.interop.fhir import kinds, search
from kyphos.interop.fhir import patient as patient_kind
from kyphos.pathway.policy import may
from kyphos.patients.models import Allergy

CRITICALITY = {"severe": "high", "moderate": "low", "mild": "low"}
SEVERITY = {"severe": "severe", "moderate": "moderate", "mild": "mild"}
HASH = re.compile(r"^[0-9a-f]{64}$")
ACTION = {
    AuditAction.CREATE: "C",
    AuditAction.VIEW: "R",
    AuditAction.LIST: "R",
    AuditAction.UPDATE: "U",
    AuditAction.TRANSITION: "U",
    AuditAction.OVERRIDE: "U",
}


# --- AllergyIntolerance -------------------------------------------------------------------------------------------


def allergy(row: Allergy) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": str(row.uuid),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active" if row.active else "inactive",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "code": "confirmed",
                }
            ]
        },
        "category": ["medication" if row.category not in {"latex", "adhesive"} else "environment"],
        "code": {
            "coding": [{"system": "urn:kyphos:allergy-category", "code": row.category}],
            "text": row.substance,
        },
        "patient": {"reference": f"Patient/{row.patient.uuid}"},
        "recordedDate": row.recorded_at.isoformat(),
    }
    if row.severity in CRITICALITY:
        body["criticality"] = CRITICALITY[row.severity]
    if row.reaction or row.severity:
        reaction: dict[str, Any] = {"manifestation": [{"text": row.reaction or row.substance}]}
        if row.severity in SEVERITY:
            reaction["severity"] = SEVERITY[row.severity]
        body["reaction"] = [reaction]
    return body


def allergy_filter(params: QueryDict) -> Q:
    found = search.patients(params, "patient__uuid")
    search.no_modifiers(params)
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for value in params.getlist("clinical-status"):
        parts = value.split(",")
        found &= Q(active__in=[part == "active" for part in parts if part in {"active", "inactive"}])
    return found


def visible_allergies(user: Any) -> QuerySet[Allergy]:
    return Allergy.objects.select_related("patient").filter(patient__in=patient_kind.visible(user))


ALLERGY = kinds.register(
    kinds.Kind(
        name="AllergyIntolerance",
        audit_type="allergy",
        visible=visible_allergies,
        serve=lambda rows: [allergy(row) for row in rows],
        search=allergy_filter,
        params={"_id": "token", "patient": "reference", "clinical-status": "token"},
        sorts={"_id": search.Sort("uuid", str, lambda v: v)},
        patient_of=lambda row: row.patient.uuid,
        compartment=lambda rows, patients: rows.filter(patient__in=patients),
    )
)


# --- AuditEvent ---------------------------------------------------------------------------------------------------


def visible_audit(user: Any) -> QuerySet[AuditEntry]:
    """Every entry for a client that may view the audit (the privacy officer's tools); nothing for others."""
    return AuditEntry.objects.all() if may(user, "audit.view") else AuditEntry.objects.none()


def audit_event(row: AuditEntry) -> dict[str, Any]:
    entity: list[dict[str, Any]] = []
    if row.patient_uuid:
        entity.append({"what": {"reference": f"Patient/{row.patient_uuid}"}, "role": {"code": "1"}})
    entity.append(
        {"what": {"identifier": {"system": f"urn:kyphos:{row.object_type}", "value": row.object_id or "-"}}}
        | ({"description": row.detail} if row.detail else {})
    )
    agent: dict[str, Any] = {"who": {"display": row.username or "system"}, "requestor": True}
    if row.client_addr:
        agent["network"] = {"address": row.client_addr, "type": "2"}
    return {
        "resourceType": "AuditEvent",
        "id": row.hash,
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": "urn:kyphos:audit-action", "code": row.action}],
        "action": ACTION.get(AuditAction(row.action), "E"),
        "recorded": row.at.isoformat(),
        "outcome": "4" if row.action == AuditAction.REFUSED else "0",
        "agent": [agent],
        "source": {"observer": {"display": "Kyphos"}},
        "entity": entity,
    }


def audit_filter(params: QueryDict) -> Q:
    found = search.patients(params, "patient_uuid")
    search.no_modifiers(params)
    for value in params.getlist("_id"):
        found &= Q(hash__in=value.split(","))
    for value in params.getlist("subtype"):
        found &= Q(action__in=[search.token(part)[1] for part in value.split(",")])
    for value in params.getlist("agent-name"):
        found &= Q(username__in=value.split(","))
    if params.getlist("date"):
        found &= search.date_filter("at", params.getlist("date"), "date")
    return found


AUDIT = kinds.register(
    kinds.Kind(
        name="AuditEvent",
        audit_type="audit",
        visible=visible_audit,
        serve=lambda rows: [audit_event(row) for row in rows],
        search=audit_filter,
        params={"_id": "token", "patient": "reference", "subtype": "token", "agent-name": "string", "date": "date"},
        sorts={"_id": search.Sort("hash"), "date": search.Sort("at", search.iso, search.from_iso)},
        patient_of=lambda row: row.patient_uuid,
        id_of=lambda row: row.hash,
        lookup=lambda rows, rid: rows.filter(hash=rid),
        id_is=lambda rid: HASH.match(rid) is not None,
    )
)
