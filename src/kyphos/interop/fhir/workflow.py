"""Task (the worklist items), CarePlan (the pathway of a case and where it stands), Encounter (the hospital stay
of the procedure) and MedicationStatement (the list the pre-procedure call reconciled, with each blood thinner's
hold plan) as FHIR R4, read and search.

CarePlan and Encounter take the case's id (one each per case); a medicine is ``<call id>-<position>``.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
from django.http import QueryDict

from kyphos.interop.fhir import kinds, search
from kyphos.pathway.models import Case, Task, TaskKind, TaskStatus
from kyphos.pathway.stages import Stage
from kyphos.precall.models import Medication

MEDICINE_ID = re.compile(r"^(?P<call>[0-9a-f-]{36})-(?P<position>\d{1,4})$")
TASK_STATUS = {TaskStatus.OPEN: "ready", TaskStatus.DONE: "completed", TaskStatus.CANCELLED: "cancelled"}
CAREPLAN_STATUS = {Stage.CLOSED: "completed", Stage.CANCELLED: "revoked", Stage.POSTPONED: "on-hold"}


def _period(start: Any, end: Any) -> dict[str, str]:
    return {"start": start.isoformat()} | ({"end": end.isoformat()} if end else {})


# --- Task ---------------------------------------------------------------------------------------------------------


def task(row: Task) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(row.uuid),
        "status": TASK_STATUS.get(TaskStatus(row.status), "ready"),
        "intent": "order",
        "priority": "urgent" if row.urgent else "routine",
        "code": {"coding": [{"system": "urn:kyphos:task", "code": row.kind}], "text": str(TaskKind(row.kind).label)},
        "focus": {"reference": f"ServiceRequest/{row.case.uuid}"},
        "for": {"reference": f"Patient/{row.case.patient.uuid}"},
        "executionPeriod": _period(row.due_start, row.due_end),
        "authoredOn": row.created_at.isoformat(),
        "lastModified": (row.closed_at or row.created_at).isoformat(),
        "performerType": [{"coding": [{"system": "urn:kyphos:role", "code": row.role}]}],
    }
    if row.status == TaskStatus.OPEN and row.assignee_id is not None:
        body["status"] = "in-progress"
    if row.outcome:
        body["note"] = [{"text": row.outcome}]
    return body


def task_filter(params: QueryDict) -> Q:
    found = search.patients(params, "case__patient__uuid")
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    statuses = {
        "ready": Q(status=TaskStatus.OPEN, assignee__isnull=True),
        "in-progress": Q(status=TaskStatus.OPEN, assignee__isnull=False),
        "completed": Q(status=TaskStatus.DONE),
        "cancelled": Q(status=TaskStatus.CANCELLED),
    }
    for value in params.getlist("status"):
        either = Q(pk__in=[])
        for part in value.split(","):
            either |= statuses.get(part, Q(pk__in=[]))
        found &= either
    for value in params.getlist("code"):
        found &= Q(kind__in=[search.token(part)[1] for part in value.split(",")])
    for value in params.getlist("focus"):
        ids = [p.split("/", 1)[1] if p.startswith("ServiceRequest/") else p for p in value.split(",")]
        found &= Q(case__uuid__in=[i for i in ids if search.is_uuid(i)])
    if params.getlist("authored-on"):
        found &= search.date_filter("created_at", params.getlist("authored-on"), "authored-on")
    search.no_modifiers(params)
    return found


TASK = kinds.register(
    kinds.Kind(
        name="Task",
        audit_type="task",
        visible=lambda user: kinds.site_scoped(Task.objects.select_related("case__patient"), user, "case__site_id"),
        serve=lambda rows: [task(row) for row in rows],
        search=task_filter,
        params={
            "_id": "token",
            "patient": "reference",
            "for": "reference",
            "focus": "reference",
            "status": "token",
            "code": "token",
            "authored-on": "date",
        },
        sorts={
            "_id": search.Sort("uuid", str, lambda v: v),
            "authored-on": search.Sort("created_at", search.iso, search.from_iso),
        },
        patient_of=lambda row: row.case.patient.uuid,
        compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
        links={"focus": ("ServiceRequest", "focus")},
    )
)


# --- CarePlan -----------------------------------------------------------------------------------------------------


def care_plan(case: Case) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "id": str(case.uuid),
        "meta": {"versionId": str(case.version), "lastUpdated": case.updated_at.isoformat()},
        "status": CAREPLAN_STATUS.get(Stage(case.stage), "active"),
        "intent": "order",
        "category": [{"coding": [{"system": "urn:kyphos:pathway", "code": "kyphoplasty"}], "text": "Kyphoplasty"}],
        "title": "Kyphoplasty pathway",
        "description": str(Stage(case.stage).label),
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "period": {"start": case.referral_date.isoformat()},
        "created": case.created_at.isoformat(),
        "addresses": [{"reference": f"Condition/{case.uuid}-{level.level}"} for level in case.levels.all()],
        "activity": [{"reference": {"reference": f"ServiceRequest/{case.uuid}"}}],
        "extension": [{"url": "urn:kyphos:fhir:stage", "valueCode": case.stage}],
    }


def care_plan_filter(params: QueryDict) -> Q:
    found = search.patients(params, "patient__uuid")
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for value in params.getlist("status"):
        stages = {
            "active": [s for s in Stage.values if s not in CAREPLAN_STATUS],
            "completed": [Stage.CLOSED.value],
            "revoked": [Stage.CANCELLED.value],
            "on-hold": [Stage.POSTPONED.value],
        }
        found &= Q(stage__in=[s for part in value.split(",") for s in stages.get(part, [])])
    search.no_modifiers(params)
    return found


CAREPLAN = kinds.register(
    kinds.Kind(
        name="CarePlan",
        audit_type="case",
        visible=lambda user: kinds.site_scoped(
            Case.objects.select_related("patient").prefetch_related("levels"), user, "site_id"
        ),
        serve=lambda rows: [care_plan(row) for row in rows],
        search=care_plan_filter,
        params={"_id": "token", "patient": "reference", "subject": "reference", "status": "token"},
        sorts={"_id": search.Sort("uuid", str, lambda v: v)},
        patient_of=lambda row: row.patient.uuid,
        version_of=lambda row: row.version,
        updated_of=lambda row: row.updated_at,
        compartment=lambda rows, patients: rows.filter(patient__in=patients),
        since_field="updated_at",
    )
)


# --- Encounter ----------------------------------------------------------------------------------------------------


def encounter(case: Case) -> dict[str, Any]:
    admission = getattr(case, "admission", None)
    stay = getattr(case, "stay", None)
    start = admission.arrived_at if admission is not None else None
    end = stay.discharged_at if stay is not None else None
    status = "finished" if end else "in-progress" if start else "planned"
    if case.stage == Stage.CANCELLED and not start:
        status = "cancelled"
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(case.uuid),
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
        "type": [{"text": "Kyphoplasty admission"}],
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "basedOn": [{"reference": f"ServiceRequest/{case.uuid}"}],
        "location": [{"location": {"reference": f"Location/{case.site.code}"}}],
    }
    if start is not None:
        body["period"] = _period(start, end)
        if end is not None:
            body["length"] = {
                "value": round((end - start).total_seconds() / 3600, 1),
                "unit": "h",
                "system": "http://unitsofmeasure.org",
                "code": "h",
            }
    elif case.appointment is not None:
        body["period"] = {"start": case.appointment.arrival_at.isoformat()}
    return body


def encounter_filter(params: QueryDict) -> Q:
    found = search.patients(params, "patient__uuid")
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for value in params.getlist("status"):
        either = Q(pk__in=[])
        for part in value.split(","):
            if part == "finished":
                either |= Q(stay__discharged_at__isnull=False)
            elif part == "in-progress":
                either |= Q(admission__isnull=False, stay__discharged_at__isnull=True)
            elif part == "planned":
                either |= Q(admission__isnull=True) & ~Q(stage=Stage.CANCELLED)
        found &= either
    if params.getlist("date"):
        found &= search.date_filter("admission__arrived_at", params.getlist("date"), "date")
    search.no_modifiers(params)
    return found


ENCOUNTER = kinds.register(
    kinds.Kind(
        name="Encounter",
        audit_type="case",
        # Only cases with a booking or a stay: a referral still waiting for triage has no encounter yet.
        visible=lambda user: kinds.site_scoped(
            Case.objects.select_related("patient", "site", "appointment", "admission", "stay").filter(
                Q(appointment__isnull=False) | Q(admission__isnull=False)
            ),
            user,
            "site_id",
        ),
        serve=lambda rows: [encounter(row) for row in rows],
        search=encounter_filter,
        params={"_id": "token", "patient": "reference", "subject": "reference", "status": "token", "date": "date"},
        sorts={"_id": search.Sort("uuid", str, lambda v: v)},
        patient_of=lambda row: row.patient.uuid,
        compartment=lambda rows, patients: rows.filter(patient__in=patients),
        since_field="updated_at",
    )
)


# --- MedicationStatement ------------------------------------------------------------------------------------------


def medicine_id(row: Medication) -> str:
    return f"{row.precall.uuid}-{row.position}"


def medication_statement(row: Medication) -> dict[str, Any]:
    case = row.precall.case
    dosage: dict[str, Any] = {"text": " ".join(part for part in (row.dose, row.frequency) if part) or row.name}
    body: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": medicine_id(row),
        "status": "on-hold" if row.hold else "active",
        "medicationCodeableConcept": {"text": row.name}
        | ({"coding": [{"system": "urn:kyphos:drug", "code": row.drug_id}]} if row.drug_id else {}),
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "context": {"reference": f"Encounter/{case.uuid}"},
        "dateAsserted": (row.precall.signed_at or row.precall.started_at).isoformat(),
        "informationSource": {"reference": f"Patient/{case.patient.uuid}"},
        "dosage": [dosage],
    }
    if row.hold and row.last_dose:
        # The hold plan: the last dose before the procedure and when to restart (the blood-thinner plan).
        dosage["text"] += f"; hold: last dose {row.last_dose.isoformat()}"
        body["effectivePeriod"] = _period(row.last_dose, row.restart_after)
        if row.restart_after:
            dosage["text"] += f", restart after {row.restart_after.isoformat()}"
        dosage["additionalInstruction"] = [{"text": "Agreed with the prescriber" if row.agreed else "Not yet agreed"}]
    if row.last_taken:
        body["note"] = [{"text": f"Last taken (as the patient says): {row.last_taken.isoformat()}"}]
    return body


def medication_filter(params: QueryDict) -> Q:
    found = search.patients(params, "precall__case__patient__uuid")
    for value in params.getlist("_id"):
        either = Q(pk__in=[])
        for part in value.split(","):
            match = MEDICINE_ID.match(part)
            if match:
                either |= Q(precall__uuid=match["call"], position=int(match["position"]))
        found &= either
    for value in params.getlist("status"):
        parts = value.split(",")
        either = Q(pk__in=[])
        if "on-hold" in parts:
            either |= Q(hold=True)
        if "active" in parts:
            either |= ~Q(hold=True)
        found &= either
    search.no_modifiers(params)
    return found


MEDICATION = kinds.register(
    kinds.Kind(
        name="MedicationStatement",
        audit_type="precall",
        visible=lambda user: kinds.site_scoped(
            Medication.objects.select_related("precall__case__patient"), user, "precall__case__site_id"
        ),
        serve=lambda rows: [medication_statement(row) for row in rows],
        search=medication_filter,
        params={"_id": "token", "patient": "reference", "subject": "reference", "status": "token"},
        sorts={"_id": search.Sort("precall__uuid", str, lambda v: v)},
        patient_of=lambda row: row.precall.case.patient.uuid,
        id_of=medicine_id,
        lookup=lambda rows, rid: rows.filter(precall__uuid=rid.rsplit("-", 1)[0], position=int(rid.rsplit("-", 1)[1])),
        id_is=lambda rid: MEDICINE_ID.match(rid) is not None,
        compartment=lambda rows, patients: rows.filter(precall__case__patient__in=patients),
    )
)
