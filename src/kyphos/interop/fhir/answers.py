"""Questionnaire (the outcome questionnaires a site loaded, served exactly as loaded), QuestionnaireResponse (the
baseline, diary and follow-up answers with the score the questionnaire's rule gave), Practitioner (the staff who
act on the pathway, without the API's own service accounts) and DocumentReference (the letters given to patients
and the signed procedure notes with their addenda, each with its PDF inside) as FHIR R4, read and search."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict

from kyphos.aftercare.models import Questionnaire, QuestionnaireResponse
from kyphos.interop.fhir import kinds, search
from kyphos.messaging.models import Letter
from kyphos.pathway.policy import Role, site_ids_of
from kyphos.procedure.models import ProcedureNote
from kyphos.scheduling.models import Site

NUMBERED = re.compile(r"^(?P<prefix>[a-z]+)-(?P<pk>\d{1,18})$")


def _numbered_ids(params: QueryDict, prefix: str) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        matches = [NUMBERED.match(part) for part in value.split(",")]
        found &= Q(pk__in=[int(m["pk"]) for m in matches if m and m["prefix"] == prefix])
    search.no_modifiers(params)
    return found


def _numbered(prefix: str) -> dict[str, Any]:
    """Id helpers for rows named ``<prefix>-<number>`` (records that are not patient data)."""

    def lookup(rows: QuerySet[Any], rid: str) -> QuerySet[Any]:
        found = NUMBERED.match(rid)
        return rows.filter(pk=int(found["pk"])) if found and found["prefix"] == prefix else rows.none()

    return {
        "id_of": lambda row: f"{prefix}-{row.pk}",
        "lookup": lookup,
        "id_is": lambda rid: NUMBERED.match(rid) is not None,
    }


# --- Questionnaire ------------------------------------------------------------------------------------------------


def questionnaire(row: Questionnaire) -> dict[str, Any]:
    body = {k: v for k, v in dict(row.definition).items() if k not in {"id", "meta", "text"}}
    return (
        {"resourceType": "Questionnaire", "id": f"questionnaire-{row.pk}"}
        | body
        | {
            "url": row.url,
            "version": row.version,
            "status": "active" if row.active else "retired",
        }
    )


def questionnaire_filter(params: QueryDict) -> Q:
    found = _numbered_ids(params, "questionnaire")
    for value in params.getlist("url"):
        found &= Q(url__in=value.split(","))
    for value in params.getlist("title"):
        found &= Q(title__istartswith=value)
    return found


QUESTIONNAIRE = kinds.register(
    kinds.Kind(
        name="Questionnaire",
        audit_type="questionnaire",
        visible=lambda user: Questionnaire.objects.all(),
        serve=lambda rows: [questionnaire(row) for row in rows],
        search=questionnaire_filter,
        params={"_id": "token", "url": "uri", "title": "string"},
        sorts={"_id": search.Sort("pk")},
        patient_of=lambda row: None,
        **_numbered("questionnaire"),
    )
)


# --- QuestionnaireResponse ----------------------------------------------------------------------------------------


def response(row: QuestionnaireResponse) -> dict[str, Any]:
    case = row.case
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.uuid),
        "basedOn": [{"reference": f"ServiceRequest/{case.uuid}"}],
        "questionnaire": row.questionnaire.canonical,
        "status": "completed",
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "authored": row.authored_at.isoformat(),
        "author": {"reference": f"Patient/{case.patient.uuid}"} if row.author == "patient" else {"display": row.author},
        "item": row.items,
        "extension": [{"url": "urn:kyphos:fhir:context", "valueCode": row.context}],
    }
    if row.score is not None:
        body["extension"].append({"url": "urn:kyphos:fhir:score", "valueDecimal": float(row.score)})
    return body


def response_filter(params: QueryDict) -> Q:
    found = search.patients(params, "case__patient__uuid")
    search.no_modifiers(params)
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for value in params.getlist("questionnaire"):
        either = Q(pk__in=[])
        for part in value.split(","):
            url, _bar, version = part.partition("|")
            either |= Q(questionnaire__url=url, **({"questionnaire__version": version} if version else {}))
        found &= either
    if params.getlist("authored"):
        found &= search.date_filter("authored_at", params.getlist("authored"), "authored")
    return found


RESPONSE = kinds.register(
    kinds.Kind(
        name="QuestionnaireResponse",
        audit_type="questionnaire_response",
        visible=lambda user: kinds.site_scoped(
            QuestionnaireResponse.objects.select_related("case__patient", "questionnaire"), user, "case__site_id"
        ),
        serve=lambda rows: [response(row) for row in rows],
        search=response_filter,
        params={
            "_id": "token",
            "patient": "reference",
            "subject": "reference",
            "questionnaire": "reference",
            "authored": "date",
        },
        sorts={
            "_id": search.Sort("uuid", str, lambda v: v),
            "authored": search.Sort("authored_at", search.iso, search.from_iso),
        },
        patient_of=lambda row: row.case.patient.uuid,
        compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
        since_field="authored_at",
    )
)


# --- Practitioner -------------------------------------------------------------------------------------------------


def visible_staff(user: Any) -> QuerySet[Any]:
    staff = (
        get_user_model()
        .objects.filter(groups__name__in=Role.values)
        .exclude(username__startswith="api:")
        .distinct()
        .prefetch_related("groups")
    )
    mine = site_ids_of(user)
    return (
        staff
        if mine is None
        else staff.filter(pk__in=Site.staff.through.objects.filter(site_id__in=mine).values("user_id"))
    )


def practitioner(row: Any) -> dict[str, Any]:
    roles = sorted(g.name for g in row.groups.all() if g.name in Role.values)
    body: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": f"staff-{row.pk}",
        "identifier": [{"system": "urn:kyphos:username", "value": row.get_username()}],
        "active": row.is_active,
        "name": [
            {"family": row.last_name, "given": [row.first_name]} if row.last_name else {"text": row.get_username()}
        ],
        "qualification": [
            {"code": {"coding": [{"system": "urn:kyphos:role", "code": r}], "text": str(Role(r).label)}} for r in roles
        ],
    }
    return body


def practitioner_filter(params: QueryDict) -> Q:
    found = _numbered_ids(params, "staff")
    for value in params.getlist("name"):
        either = Q(pk__in=[])
        for part in value.split(","):
            either |= Q(last_name__istartswith=part) | Q(first_name__istartswith=part)
        found &= either
    for value in params.getlist("identifier"):
        found &= Q(username__in=[search.token(part)[1] for part in value.split(",")])
    return found


PRACTITIONER = kinds.register(
    kinds.Kind(
        name="Practitioner",
        audit_type="user",
        visible=visible_staff,
        serve=lambda rows: [practitioner(row) for row in rows],
        search=practitioner_filter,
        params={"_id": "token", "name": "string", "identifier": "token"},
        sorts={"_id": search.Sort("pk")},
        patient_of=lambda row: None,
        **_numbered("staff"),
    )
)


# --- DocumentReference --------------------------------------------------------------------------------------------


def _attachment(data: bytes, content_type: str, title: str, created: Any, language: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"contentType": content_type}
    if language:
        found["language"] = language
    return {
        "attachment": found
        | {
            "data": base64.b64encode(data).decode(),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode(),
            "title": title,
            "creation": created.isoformat(),
        }
    }


def document(row: Letter) -> dict[str, Any]:
    case = row.case
    title = str(row.get_kind_display())
    return {
        "resourceType": "DocumentReference",
        "id": str(row.uuid),
        "status": "superseded" if row.superseded else "current",
        "type": {"coding": [{"system": "urn:kyphos:letter", "code": row.kind}], "text": title},
        "category": [{"text": "Patient letter"}],
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "date": row.created_at.isoformat(),
        "content": [_attachment(bytes(row.pdf), "application/pdf", title, row.created_at, row.language)],
        "context": {"related": [{"reference": f"ServiceRequest/{case.uuid}"}]},
    }


NOTE_TYPE = {"system": "http://loinc.org", "code": "28570-0", "display": "Procedure note"}
NOTE_CATEGORY = {
    "coding": [
        {
            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
            "code": "clinical-note",
            "display": "Clinical Note",
        }
    ]
}


def procedure_note(row: ProcedureNote) -> dict[str, Any]:
    """The signed note as signed (its PDF), each later addendum as a text attachment after it: a signed note is
    never changed, so an addendum makes the document ``amended``, not a new version of the PDF."""
    case = row.case
    addenda = list(row.addenda.all())
    body: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": f"{case.uuid}-note",
        "status": "current",
        "docStatus": "amended" if addenda else "final",
        "type": {"coding": [NOTE_TYPE], "text": "Procedure note"},
        "category": [NOTE_CATEGORY],
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "date": row.signed_at.isoformat(),
    }
    if row.signed_by_id:
        signer = {"reference": f"Practitioner/staff-{row.signed_by_id}", "display": row.signed_name}
        body |= {"author": [signer], "authenticator": signer}
    body["content"] = [_attachment(bytes(row.pdf), "application/pdf", "Procedure note", row.signed_at)] + [
        _attachment(
            f"{a.author_name}, {a.at.isoformat()}: {a.text}".encode(),
            "text/plain; charset=utf-8",
            "Addendum",
            a.at,
        )
        for a in addenda
    ]
    body["context"] = {"related": [{"reference": f"ServiceRequest/{case.uuid}"}]}
    return body


def _types(params: QueryDict) -> list[set[str]]:
    return [{search.token(part)[1] for part in value.split(",")} for value in params.getlist("type")]


def document_filter(params: QueryDict) -> Q:
    found = search.patients(params, "case__patient__uuid")
    search.no_modifiers(params)
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for wanted in _types(params):
        found &= Q(kind__in=wanted)
    for value in params.getlist("status"):
        parts = value.split(",")
        found &= Q(superseded__in=[part == "superseded" for part in parts if part in {"current", "superseded"}])
    if params.getlist("date"):
        found &= search.date_filter("created_at", params.getlist("date"), "date")
    return found


def note_filter(params: QueryDict) -> Q:
    found = search.patients(params, "case__patient__uuid")
    search.no_modifiers(params)
    for value in params.getlist("_id"):
        ids = [part.removesuffix("-note") for part in value.split(",") if part.endswith("-note")]
        found &= Q(case__uuid__in=[i for i in ids if search.is_uuid(i)])
    for wanted in _types(params):
        if NOTE_TYPE["code"] not in wanted:
            found &= Q(pk__in=[])
    for value in params.getlist("status"):
        if "current" not in value.split(","):
            found &= Q(pk__in=[])
    if params.getlist("date"):
        found &= search.date_filter("signed_at", params.getlist("date"), "date")
    return found


LETTERS = kinds.Kind(
    name="DocumentReference",
    audit_type="letter",
    visible=lambda user: kinds.site_scoped(Letter.objects.select_related("case__patient"), user, "case__site_id"),
    serve=lambda rows: [document(row) for row in rows],
    search=document_filter,
    params={},
    sorts={
        "_id": search.Sort("uuid", str, lambda v: v),
        "date": search.Sort("created_at", search.iso, search.from_iso),
    },
    patient_of=lambda row: row.case.patient.uuid,
    compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
    since_field="created_at",
)
NOTES = kinds.Kind(
    name="DocumentReference",
    audit_type="procedure_note",
    visible=lambda user: kinds.site_scoped(
        ProcedureNote.objects.select_related("case__patient").prefetch_related("addenda"), user, "case__site_id"
    ),
    serve=lambda rows: [procedure_note(row) for row in rows],
    search=note_filter,
    params={},
    sorts={
        "_id": search.Sort("case__uuid", str, lambda v: v),
        "date": search.Sort("signed_at", search.iso, search.from_iso),
    },
    patient_of=lambda row: row.case.patient.uuid,
    id_of=lambda row: f"{row.case.uuid}-note",
    lookup=lambda rows, rid: rows.filter(case__uuid=rid.removesuffix("-note")),
    id_is=lambda rid: rid.endswith("-note") and search.is_uuid(rid.removesuffix("-note")),
    compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
    since_field="signed_at",  # an addendum does not move it: a later _since export misses only the addendum
)
DOCUMENT = kinds.register(
    kinds.of_parts(
        "DocumentReference",
        {
            "_id": "token",
            "patient": "reference",
            "subject": "reference",
            "type": "token",
            "status": "token",
            "date": "date",
        },
        (LETTERS, NOTES),
    )
)
