"""Patient: Kyphos's patient record as FHIR R4 Patient, read, searched, created and updated through the patients
room's own services (``register_patient``, ``update_patient``), the same as the registration screen and HL7 ADT.

The MRN is an identifier of type MR (HL7 table v2-0203) whose system is the assigning authority's URI
(``KYPHOS_FHIR_IDENTIFIER_SYSTEMS``, else ``urn:kyphos:authority:<code>``). A record merged into another
(HL7 ADT^A40) is served inactive with a ``replaced-by`` link to the survivor.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.interop.fhir import kinds, search
from kyphos.interop.fhir.outcome import FhirError, refused
from kyphos.pathway.models import Case
from kyphos.pathway.policy import site_ids_of
from kyphos.patients import services as patients
from kyphos.patients.models import Language, Patient, Sex
from kyphos.rules.names import name_key

GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.OTHER: "other", Sex.UNKNOWN: "unknown"}
SEX_OF = {v: k for k, v in GENDER.items()}
GENDER_OF = {str(k): v for k, v in GENDER.items()}  # by the stored letter: no enum lookup per row
MR = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}
SORTS = {
    "_id": search.Sort("uuid", str, lambda v: v),
    "birthdate": search.Sort("date_of_birth", date.isoformat, date.fromisoformat),
    "family": search.Sort("family_key"),
    "_lastUpdated": search.Sort("updated_at", search.iso, search.from_iso),
}


def system_of(authority: str) -> str:
    systems: dict[str, str] = getattr(settings, "KYPHOS_FHIR_IDENTIFIER_SYSTEMS", {})
    return systems.get(authority, f"urn:kyphos:authority:{authority}")


def authority_of(system: str) -> str | None:
    systems: dict[str, str] = getattr(settings, "KYPHOS_FHIR_IDENTIFIER_SYSTEMS", {})
    for authority, uri in systems.items():
        if uri == system:
            return authority
    prefix = "urn:kyphos:authority:"
    return system[len(prefix) :] if system.startswith(prefix) and len(system) > len(prefix) else None


def meta(version: int, updated: Any) -> dict[str, str]:
    return {"versionId": str(version), "lastUpdated": updated.isoformat()}


def to_fhir(patient: Patient, survivor_uuid: Any = None, languages: dict[str, str] | None = None) -> dict[str, Any]:
    """``languages``: each language code's name in the active language, when the caller serves many rows."""
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "meta": meta(patient.version, patient.updated_at),
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [MR]},
                "system": system_of(patient.assigning_authority),
                "value": patient.mrn,
            }
        ],
        "active": patient.merged_into_id is None,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
    }
    telecom = [
        {"system": "phone", "value": patient.phone_mobile, "use": "mobile"} if patient.phone_mobile else None,
        {"system": "phone", "value": patient.phone_home, "use": "home"} if patient.phone_home else None,
        {"system": "email", "value": patient.email} if patient.email else None,
    ]
    if any(telecom):
        body["telecom"] = [t for t in telecom if t]
    body["gender"] = GENDER_OF.get(patient.sex, "unknown")
    body["birthDate"] = patient.date_of_birth.isoformat()
    if patient.address:
        lines = patient.address.splitlines()
        body["address"] = [{"use": "home", "text": ", ".join(lines), "line": lines}]
    if patient.caregiver_name:
        contact: dict[str, Any] = {"name": {"text": patient.caregiver_name}}
        if patient.caregiver_relationship:
            contact["relationship"] = [{"text": patient.caregiver_relationship}]
        if patient.caregiver_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.caregiver_phone}]
        body["contact"] = [contact]
    body["communication"] = [
        {
            "language": {
                "coding": [{"system": "urn:ietf:bcp:47", "code": patient.preferred_language}],
                "text": (languages or language_names()).get(patient.preferred_language, patient.preferred_language),
            },
            "preferred": True,
        }
    ]
    if survivor_uuid is not None:
        body["link"] = [{"other": {"reference": f"Patient/{survivor_uuid}"}, "type": "replaced-by"}]
    return body


def visible(user: Any) -> QuerySet[Patient]:
    """The patients a client sees: those with a case at one of its sites, and those with no case yet (a
    registration not yet referred anywhere); every patient for a client of every site."""
    mine = site_ids_of(user)
    everyone = Patient.objects.all()
    if mine is None:
        return everyone
    cases = Case.objects.filter(patient=OuterRef("pk"))
    return everyone.filter(Exists(cases.filter(site_id__in=mine)) | ~Exists(cases))


def search_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        ids = [part for part in value.split(",") if part]
        found &= Q(uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("identifier"):
        either = Q(pk__in=[])
        for part in value.split(","):
            system, code = search.token(part)
            if system is None:
                either |= Q(mrn=code)
            else:
                authority = authority_of(system)
                either |= Q(assigning_authority=authority, mrn=code) if authority else Q(pk__in=[])
        found &= either
    for name, fields in (("name", ("family_key", "given_key")), ("family", ("family_key",)), ("given", ("given_key",))):
        for modifier in ("", ":exact"):
            for value in params.getlist(name + modifier):
                either = Q(pk__in=[])
                for part in value.split(","):
                    if modifier == ":exact":
                        exact = "family_name" if name != "given" else "given_name"
                        either |= Q(**{exact: part})
                        continue
                    key = name_key(part)
                    for field in fields:
                        either |= Q(**{f"{field}__startswith": key})
                found &= either
    if params.getlist("birthdate"):
        found &= search.date_filter("date_of_birth", params.getlist("birthdate"), "birthdate", is_date=True)
    if params.getlist("_lastUpdated"):
        found &= search.date_filter("updated_at", params.getlist("_lastUpdated"), "_lastUpdated")
    for value in params.getlist("gender"):
        sexes = [SEX_OF.get(search.token(part)[1]) for part in value.split(",")]
        found &= Q(sex__in=[s for s in sexes if s is not None])
    for value in params.getlist("active"):
        if value not in {"true", "false"}:
            raise search.bad(_("active must be true or false."), "active")
        found &= Q(merged_into__isnull=value == "true")
    for name in params:
        base, _colon, modifier = name.partition(":")
        if modifier and not (base in {"name", "family", "given"} and modifier == "exact"):
            raise search.bad(
                _("The modifier :{modifier} is not supported on {name}.").format(
                    modifier=modifier[:20], name=base[:40]
                ),
                name,
            )
    return found


def details_from(resource: dict[str, Any], default_authority: str) -> patients.PatientDetails:
    """A FHIR Patient sent by a client as the patients room's details; 422 naming the element when a required
    one (the MR identifier, the name, the birth date) is missing."""
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    chosen = next(
        (i for i in identifiers if any(c.get("code") == "MR" for c in (i.get("type") or {}).get("coding", []))),
        identifiers[0] if identifiers else None,
    )
    if chosen is None:
        raise FhirError(422, "required", _("Patient.identifier: the MRN is required."), "Patient.identifier")
    authority = authority_of(str(chosen.get("system", ""))) if chosen.get("system") else default_authority
    if authority is None:
        raise FhirError(
            422,
            "value",
            _("Patient.identifier.system: not an assigning authority Kyphos knows."),
            "Patient.identifier.system",
        )
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    family, given = str(name.get("family") or ""), " ".join(str(g) for g in name.get("given") or [])
    if not resource.get("birthDate"):
        raise FhirError(422, "required", _("Patient.birthDate is required."), "Patient.birthDate")
    try:
        born = date.fromisoformat(str(resource["birthDate"]))
    except ValueError:
        raise FhirError(422, "value", _("Patient.birthDate must be a full date."), "Patient.birthDate") from None
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    phone = {str(t.get("use")): str(t.get("value", "")) for t in telecom if t.get("system") == "phone"}
    email = next((str(t.get("value", "")) for t in telecom if t.get("system") == "email"), "")
    addresses = [a for a in resource.get("address") or [] if isinstance(a, dict)]
    address = ""
    if addresses:
        lines = [str(x) for x in addresses[0].get("line") or []]
        place = " ".join(str(addresses[0].get(k) or "") for k in ("city", "state", "postalCode")).strip()
        address = "\n".join([*lines, place] if place else lines) or str(addresses[0].get("text") or "")
    language = "en"
    for item in resource.get("communication") or []:
        for coding in ((item or {}).get("language") or {}).get("coding") or []:
            code = str(coding.get("code", ""))[:2].lower()
            if code in Language.values:
                language = code
    return patients.PatientDetails(
        assigning_authority=authority,
        mrn=str(chosen["value"]),
        family_name=family,
        given_name=given,
        date_of_birth=born,
        sex=SEX_OF.get(str(resource.get("gender", "unknown")), Sex.UNKNOWN),
        phone_mobile=phone.get("mobile", ""),
        phone_home=phone.get("home", ""),
        email=email,
        address=address,
        preferred_language=language,
    )


def language_names() -> dict[str, str]:
    return {str(code): str(label) for code, label in Language.choices}


def serve(rows: list[Patient]) -> list[dict[str, Any]]:
    """Rows as FHIR Patients; the survivors of merged records in one query."""
    merged = {row.merged_into_id for row in rows if row.merged_into_id is not None}
    survivors = dict(Patient.objects.filter(pk__in=merged).values_list("pk", "uuid")) if merged else {}
    names = language_names()
    return [to_fhir(row, survivors.get(row.merged_into_id) if row.merged_into_id else None, names) for row in rows]


def create(actor: Actor, resource: dict[str, Any]) -> Patient:
    return save(actor, resource, None)


def update(actor: Actor, resource: dict[str, Any], locked: Patient) -> Patient:
    return save(actor, resource, locked)


def save(actor: Actor, resource: dict[str, Any], existing: Patient | None) -> Patient:
    """Create (``existing`` None) or update a patient from a FHIR Patient."""
    authority = existing.assigning_authority if existing else getattr(settings, "KYPHOS_DEFAULT_AUTHORITY", "HOSP")
    try:
        details = details_from(resource, authority)
        if existing is None:
            return patients.register_patient(actor, details)
        if (details.assigning_authority, details.mrn) != (existing.assigning_authority, existing.mrn):
            raise FhirError(
                422, "business-rule", _("The MRN of a patient does not change through the API."), "Patient.identifier"
            )
        patients.update_patient(actor, existing, details)
        existing.refresh_from_db()
        return existing
    except ValidationError as exc:
        where = {
            **{"mrn": "identifier", "family_name": "name", "given_name": "name", "date_of_birth": "birthDate"},
            **{"address": "address", "email": "telecom", "phone_mobile": "telecom", "phone_home": "telecom"},
        }
        raise refused(exc, {k: f"Patient.{v}" for k, v in where.items()}, "Patient") from None


KIND = kinds.register(
    kinds.Kind(
        name="Patient",
        audit_type="patient",
        visible=visible,
        serve=serve,
        search=search_filter,
        params={
            "_id": "token",
            "identifier": "token",
            "name": "string",
            "family": "string",
            "given": "string",
            "birthdate": "date",
            "gender": "token",
            "active": "token",
            "_lastUpdated": "date",
        },
        sorts=SORTS,
        patient_of=lambda row: row.uuid,
        version_of=lambda row: row.version,
        updated_of=lambda row: row.updated_at,
        history=lambda row: [kept.as_patient() for kept in row.versions.all()],
        create=create,
        update=update,
        create_permission="case.refer",
        compartment=lambda rows, patients: rows.filter(pk__in=patients.values("pk")),
        since_field="updated_at",
    )
)
