"""Appointment: the procedure bookings of a case as FHIR R4 Appointment (read and search), and Location: the
sites (read and search). A rescheduled booking is kept, cancelled, with the new one beside it, as the scheduling
room keeps them; no-shows are ``noshow``. A site's id is its code."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict

from kyphos.interop.fhir import kinds, search
from kyphos.pathway.models import Case
from kyphos.scheduling.models import Appointment, AppointmentStatus, Site

STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
    AppointmentStatus.RESCHEDULED: "cancelled",
}
CODE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def visible_appointments(user: Any) -> QuerySet[Appointment]:
    patient = Case.objects.filter(uuid=OuterRef("case_uuid")).values("patient__uuid")[:1]
    rows = Appointment.objects.select_related("site", "room").annotate(patient_uuid=Subquery(patient))
    return kinds.site_scoped(rows, user, "site_id")


def appointment(row: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(row.uuid),
        "status": STATUS.get(AppointmentStatus(row.status), "booked"),
        "serviceType": [{"text": "Kyphoplasty"}],
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "minutesDuration": int((row.end - row.start).total_seconds() // 60),
        "basedOn": [{"reference": f"ServiceRequest/{row.case_uuid}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{row.patient_uuid}"}, "status": "accepted"},
            {
                "actor": {"reference": f"Location/{row.site.code}", "display": f"{row.site.name}, {row.room.name}"},
                "status": "accepted",
            },
        ],
    }
    return body


def appointment_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        found &= Q(uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for name in ("patient", "actor"):
        for value in params.getlist(name):
            ids = [p.split("/", 1)[1] if p.startswith("Patient/") else p for p in value.split(",")]
            cases = Case.objects.filter(patient__uuid__in=[i for i in ids if search.is_uuid(i)]).values("uuid")
            found &= Q(case_uuid__in=cases)
    for value in params.getlist("based-on"):
        ids = [p.split("/", 1)[1] if p.startswith("ServiceRequest/") else p for p in value.split(",")]
        found &= Q(case_uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("status"):
        found &= Q(status__in=[k for k, v in STATUS.items() for part in value.split(",") if v == part])
    for value in params.getlist("location"):
        codes = [p.split("/", 1)[1] if p.startswith("Location/") else p for p in value.split(",")]
        found &= Q(site__code__in=codes)
    if params.getlist("date"):
        found &= search.date_filter("start", params.getlist("date"), "date")
    search.no_modifiers(params)
    return found


APPOINTMENT = kinds.register(
    kinds.Kind(
        name="Appointment",
        audit_type="appointment",
        visible=visible_appointments,
        serve=lambda rows: [appointment(row) for row in rows],
        search=appointment_filter,
        params={
            "_id": "token",
            "patient": "reference",
            "actor": "reference",
            "based-on": "reference",
            "location": "reference",
            "status": "token",
            "date": "date",
        },
        sorts={
            "_id": search.Sort("uuid", str, lambda v: v),
            "date": search.Sort("start", search.iso, search.from_iso),
        },
        patient_of=lambda row: row.patient_uuid,
        compartment=lambda rows, patients: rows.filter(
            case_uuid__in=Case.objects.filter(patient__in=patients).values("uuid")
        ),
        links={"based-on": ("ServiceRequest", "basedOn"), "location": ("Location", "participant.actor")},
    )
)


def visible_sites(user: Any) -> QuerySet[Site]:
    return kinds.site_scoped(Site.objects.all(), user, "pk")


def location(site: Site) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Location",
        "id": site.code,
        "identifier": [{"system": "urn:kyphos:site", "value": site.code}],
        "status": "active",
        "name": site.name,
        "mode": "instance",
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        # Hospital, or surgery clinic (HL7 v3 RoleCode)
                        "code": "HOSP" if site.kind == Site.Kind.HOSPITAL else "SURG",
                    }
                ],
                "text": str(Site.Kind(site.kind).label),
            }
        ],
    }
    if site.phone:
        body["telecom"] = [{"system": "phone", "value": site.phone}]
    if site.address:
        body["address"] = {"text": ", ".join(site.address.splitlines())}
    return body


def location_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        found &= Q(code__in=value.split(","))
    for value in params.getlist("identifier"):
        found &= Q(code__in=[search.token(part)[1] for part in value.split(",")])
    for value in params.getlist("name"):
        either = Q(pk__in=[])
        for part in value.split(","):
            either |= Q(name__istartswith=part)
        found &= either
    search.no_modifiers(params)
    return found


LOCATION = kinds.register(
    kinds.Kind(
        name="Location",
        audit_type="site",
        visible=visible_sites,
        serve=lambda rows: [location(row) for row in rows],
        search=location_filter,
        params={"_id": "token", "identifier": "token", "name": "string"},
        sorts={"_id": search.Sort("code"), "name": search.Sort("name")},
        patient_of=lambda row: None,
        id_of=lambda row: row.code,
        lookup=lambda rows, rid: rows.filter(code=rid),
        id_is=lambda rid: CODE.match(rid) is not None,
    )
)
