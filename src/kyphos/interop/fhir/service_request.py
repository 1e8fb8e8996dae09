"""ServiceRequest: the referral for kyphoplasty — one case — read, searched, and created through the pathway's
``refer_patient``, the same as a referral typed by a scheduler (triage queue, findings, timeline, audit).

What Kyphos needs from a referral and FHIR has no element for is carried in extensions under
``urn:kyphos:fhir:`` (README, "FHIR R4"): the baseline pain score (``pain-nrs``, 0–10) on the request, and on each
treated level (``bodySite``, coded T1–L5) its ``acuity`` (acute, subacute, chronic) and ``edema`` (MRI marrow
edema or bone-scan uptake: yes, no, unknown). The cause of the fracture is a ``reasonCode`` in
``urn:kyphos:etiology`` (osteoporosis, steroid, neoplastic, other), with ``steroid-disease`` or
``neoplastic-kind`` where the referral screen asks for them. The procedure is CPT 22513 (thoracic) or 22514
(lumbar), the first level's region.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.interop.fhir import kinds, search
from kyphos.interop.fhir import patient as patient_kind
from kyphos.interop.fhir.outcome import FhirError, refused
from kyphos.pathway import services as pathway
from kyphos.pathway.models import Case, CaseLevel, Etiology
from kyphos.pathway.policy import site_ids_of
from kyphos.pathway.stages import Stage
from kyphos.scheduling.models import Site

EXT = "urn:kyphos:fhir:"
ETIOLOGY = "urn:kyphos:etiology"
VERTEBRA = "urn:kyphos:vertebra"
CPT = "http://www.ama-assn.org/go/cpt"
# FHIR request-status (http://hl7.org/fhir/request-status) of each stage.
STATUS: dict[str, str] = {
    Stage.CLOSED.value: "completed",
    Stage.CANCELLED.value: "revoked",
    Stage.POSTPONED.value: "on-hold",
}
STATUS_STAGES: dict[str, list[str]] = {
    "active": [s for s in Stage.values if s not in STATUS],
    "completed": [Stage.CLOSED.value],
    "revoked": [Stage.CANCELLED.value],
    "on-hold": [Stage.POSTPONED.value],
}
SORTS = {
    "_id": search.Sort("uuid", str, lambda v: v),
    "authored": search.Sort("referral_date", lambda d: d.isoformat(), lambda t: search.from_iso(t).date()),
    "_lastUpdated": search.Sort("updated_at", search.iso, search.from_iso),
}


def visible(user: Any) -> QuerySet[Case]:
    # Only what the resource shows: a case row also carries findings and settings (JSON) the API never serves.
    rows = (
        Case.objects.select_related("patient", "appointment")
        .only(
            *("uuid", "version", "updated_at", "stage", "pain_nrs", "steroid_disease", "neoplastic_kind"),
            *("referral_date", "referring_clinician", "etiology", "clinical_note", "site_id", "patient__uuid"),
            *("appointment__start", "appointment__end"),
        )
        .prefetch_related(Prefetch("levels", queryset=CaseLevel.objects.order_by("position")))
    )
    return kinds.site_scoped(rows, user, "site_id")


def to_fhir(case: Case, causes: dict[str, str] | None = None) -> dict[str, Any]:
    """``causes``: each etiology's name in the active language, when the caller serves many rows."""
    levels = list(case.levels.all())
    cause = (causes or cause_names()).get(case.etiology, case.etiology)
    first = levels[0].level if levels else ""
    cpt = (
        ("22514", "Percutaneous vertebral augmentation, lumbar")
        if first.startswith("L")
        else (
            "22513",
            "Percutaneous vertebral augmentation, thoracic",
        )
    )
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(case.uuid),
        "meta": {"versionId": str(case.version), "lastUpdated": case.updated_at.isoformat()},
        "extension": [{"url": f"{EXT}pain-nrs", "valueInteger": case.pain_nrs}]
        + [{"url": f"{EXT}steroid-disease", "valueCode": case.steroid_disease}] * bool(case.steroid_disease)
        + [{"url": f"{EXT}neoplastic-kind", "valueCode": case.neoplastic_kind}] * bool(case.neoplastic_kind),
        "identifier": [{"system": "urn:kyphos:case", "value": str(case.uuid)}],
        "status": STATUS.get(case.stage, "active"),
        "intent": "order",
        "code": {"coding": [{"system": CPT, "code": cpt[0], "display": cpt[1]}], "text": "Kyphoplasty"},
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "authoredOn": case.referral_date.isoformat(),
        "requester": {"display": case.referring_clinician},
        "reasonCode": [
            {
                "coding": [{"system": ETIOLOGY, "code": case.etiology, "display": cause}],
                "text": cause,
            }
        ],
        "bodySite": [
            {
                "extension": [
                    {"url": f"{EXT}acuity", "valueCode": level.acuity},
                    {"url": f"{EXT}edema", "valueCode": level.edema},
                ],
                "coding": [{"system": VERTEBRA, "code": level.level}],
                "text": level.level,
            }
            for level in levels
        ],
    }
    if case.appointment is not None:
        body["occurrencePeriod"] = {
            "start": case.appointment.start.isoformat(),
            "end": case.appointment.end.isoformat(),
        }
    if case.clinical_note:
        body["note"] = [{"text": case.clinical_note}]
    return body


def cause_names() -> dict[str, str]:
    return {str(code): str(label) for code, label in Etiology.choices}


def serve(rows: list[Case]) -> list[dict[str, Any]]:
    causes = cause_names()
    return [to_fhir(row, causes) for row in rows]


def search_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for name in ("patient", "subject"):
        for value in params.getlist(name):
            ids = [search.reference_id(part, "Patient") for part in value.split(",")]
            found &= Q(patient__uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("status"):
        found &= Q(stage__in=[s for part in value.split(",") for s in STATUS_STAGES.get(part, [])])
    for value in params.getlist("code"):
        codes = {search.token(part)[1] for part in value.split(",")}
        if not codes & {"22513", "22514"}:
            found &= Q(pk__in=[])
    if params.getlist("authored"):
        found &= search.date_filter("referral_date", params.getlist("authored"), "authored", is_date=True)
    if params.getlist("_lastUpdated"):
        found &= search.date_filter("updated_at", params.getlist("_lastUpdated"), "_lastUpdated")
    search.no_modifiers(params)
    return found


def _extension(element: dict[str, Any], name: str) -> Any:
    for item in element.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == f"{EXT}{name}":
            return next((v for k, v in item.items() if k.startswith("value")), None)
    return None


def _site(user: Any, resource: dict[str, Any]) -> Site:
    mine = site_ids_of(user)
    sites = Site.objects.all() if mine is None else Site.objects.filter(pk__in=mine)
    named = [
        str(((ref or {}).get("identifier") or {}).get("value", ""))
        for ref in resource.get("locationReference") or []
        if isinstance(ref, dict)
    ]
    if named:
        sites = sites.filter(code__in=named)
    found = list(sites[:2])
    if len(found) != 1:
        raise FhirError(
            422,
            "business-rule",
            _("Name the site in locationReference.identifier.value (the site's code)."),
            "ServiceRequest.locationReference",
        )
    return found[0]


def details_from(resource: dict[str, Any]) -> pathway.ReferralDetails:
    pain = _extension(resource, "pain-nrs")
    if not isinstance(pain, int) or isinstance(pain, bool):
        raise FhirError(
            422,
            "required",
            _("The baseline pain score (extension {url}, valueInteger 0–10) is required.").format(url=f"{EXT}pain-nrs"),
            "ServiceRequest.extension",
        )
    reasons = [
        c for r in resource.get("reasonCode") or [] for c in (r or {}).get("coding") or [] if isinstance(c, dict)
    ]
    etiology = next((str(c.get("code")) for c in reasons if c.get("system") == ETIOLOGY), "")
    levels = []
    for site in resource.get("bodySite") or []:
        if not isinstance(site, dict):
            continue
        codes = [c for c in site.get("coding") or [] if isinstance(c, dict) and c.get("system") == VERTEBRA]
        name = str(codes[0].get("code")) if codes else str(site.get("text") or "")
        acuity, edema = _extension(site, "acuity"), _extension(site, "edema") or "unknown"
        if acuity not in {"acute", "subacute", "chronic"} or edema not in {"yes", "no", "unknown"}:
            raise FhirError(
                422,
                "required",
                _("Each bodySite needs its acuity (acute, subacute, chronic) and may give edema (yes, no, unknown)."),
                "ServiceRequest.bodySite",
            )
        levels.append(pathway.LevelInput(name, str(acuity), str(edema)))
    notes = [str(n.get("text", "")) for n in resource.get("note") or [] if isinstance(n, dict)]
    return pathway.ReferralDetails(
        referring_clinician=str((resource.get("requester") or {}).get("display") or ""),
        etiology=etiology,
        pain_nrs=pain,
        levels=levels,
        clinical_note="\n".join(n for n in notes if n),
        steroid_disease=str(_extension(resource, "steroid-disease") or ""),
        neoplastic_kind=str(_extension(resource, "neoplastic-kind") or ""),
    )


def create(actor: Actor, resource: dict[str, Any]) -> Case:
    subject = str((resource.get("subject") or {}).get("reference", ""))
    patient_id = search.reference_id(subject, "Patient")
    if resource.get("intent") not in {"order", "original-order"}:
        raise FhirError(422, "value", _("ServiceRequest.intent must be order."), "ServiceRequest.intent")
    patient = (
        patient_kind.visible(actor.user).filter(uuid=patient_id).first()
        if subject.startswith("Patient/") and search.is_uuid(patient_id)
        else None
    )
    if patient is None:
        raise FhirError(
            422, "not-found", _("ServiceRequest.subject must reference a known Patient."), "ServiceRequest.subject"
        )
    site = _site(actor.user, resource)
    details = details_from(resource)
    try:
        case = pathway.refer_patient(actor, site=site, details=details, patient=patient)
    except ValidationError as exc:
        where = {
            "levels": "ServiceRequest.bodySite",
            "pain_nrs": "ServiceRequest.extension",
            "etiology": "ServiceRequest.reasonCode",
            "steroid_disease": "ServiceRequest.reasonCode",
            "neoplastic_kind": "ServiceRequest.reasonCode",
            "referring_clinician": "ServiceRequest.requester",
        }
        raise refused(exc, where, "ServiceRequest") from None
    return visible(actor.user).get(pk=case.pk)


KIND = kinds.register(
    kinds.Kind(
        name="ServiceRequest",
        audit_type="case",
        visible=visible,
        serve=serve,
        search=search_filter,
        params={
            "_id": "token",
            "patient": "reference",
            "subject": "reference",
            "status": "token",
            "code": "token",
            "authored": "date",
            "_lastUpdated": "date",
        },
        sorts=SORTS,
        patient_of=lambda row: row.patient.uuid,
        version_of=lambda row: row.version,
        updated_of=lambda row: row.updated_at,
        create=create,  # who may refer is the pathway's own check (case.refer)
        compartment=lambda rows, patients: rows.filter(patient__in=patients),
        since_field="updated_at",
    )
)
