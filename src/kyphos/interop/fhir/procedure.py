"""Procedure: the kyphoplasty session of a case as FHIR R4 Procedure (read and search) — one per session, its CPT
codes once coded, a ``bodySite`` per treated level with the balloons and the cement, the radiation dose, and any
complication. The id is the case's id (one session per case).

Per level, under ``urn:kyphos:fhir:``: ``sides`` (bilateral, left, right), ``balloon-size``, ``balloon-pressure``
(psi, left and right), ``cement-volume`` (mL, left and right), ``cement-product``, ``cement-lot``, ``leakage``
(none, asymptomatic, symptomatic) and ``restoration`` (none, partial, full). On the procedure: ``fluoroscopy-time``
(s), ``air-kerma`` (mGy) and ``dose-area-product`` (Gy·cm²).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import QueryDict

from kyphos.interop.fhir import kinds, search
from kyphos.procedure.models import ProcedureRecord, TreatedLevel

EXT = "urn:kyphos:fhir:"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
SORTS = {
    "_id": search.Sort("case__uuid", str, lambda v: v),
    "date": search.Sort("started_at", search.iso, search.from_iso),
}


def visible(user: Any) -> QuerySet[ProcedureRecord]:
    rows = ProcedureRecord.objects.select_related("case__patient").prefetch_related(
        Prefetch("levels", queryset=TreatedLevel.objects.order_by("order"))
    )
    return kinds.site_scoped(rows, user, "case__site_id")


def _quantity(value: Decimal | int | None, unit: str, code: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": float(value), "unit": unit, "system": UCUM, "code": code}


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"{EXT}{name}", **value}


def _level(level: TreatedLevel) -> dict[str, Any]:
    extension = [
        _ext("sides", valueCode=level.sides),
        _ext("restoration", valueCode=level.restoration),
        _ext("leakage", valueCode=level.leakage),
        _ext("cement-product", valueString=level.cement_product),
        _ext("cement-lot", valueString=level.cement_lot),
    ]
    if level.balloon_size:
        extension.append(_ext("balloon-size", valueString=level.balloon_size))
    for side in ("left", "right"):
        pressure = _quantity(getattr(level, f"pressure_{side}_psi"), "psi", "[psi]")
        if pressure:
            extension.append(_ext("balloon-pressure", valueQuantity=pressure, id=f"{level.level}-pressure-{side}"))
        cement = _quantity(getattr(level, f"cement_ml_{side}"), "mL", "mL")
        if cement:
            extension.append(_ext("cement-volume", valueQuantity=cement, id=f"{level.level}-cement-{side}"))
    text = level.level + (f", cement leakage {level.leakage_location}" if level.leakage_location else "")
    return {"extension": extension, "coding": [{"system": "urn:kyphos:vertebra", "code": level.level}], "text": text}


def to_fhir(row: ProcedureRecord) -> dict[str, Any]:
    case = row.case
    cpt = list(zip(row.coding.get("cpt", []), row.coding.get("cpt_labels", []), strict=False))
    body: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(case.uuid),
        "meta": {"versionId": str(row.version)},
    }
    extension = [
        _ext(name, valueQuantity=quantity)
        for name, quantity in (
            ("fluoroscopy-time", _quantity(row.fluoro_seconds, "s", "s")),
            ("air-kerma", _quantity(row.air_kerma_mgy, "mGy", "mGy")),
            ("dose-area-product", _quantity(row.dap_gycm2, "Gy·cm²", "Gy.cm2")),
        )
        if quantity
    ]
    if extension:
        body["extension"] = extension
    body |= {
        "basedOn": [{"reference": f"ServiceRequest/{case.uuid}"}],
        "status": "completed" if row.ended_at else "in-progress",
        "code": {
            "coding": [{"system": CPT, "code": code, "display": label} for code, label in cpt],
            "text": "Kyphoplasty (percutaneous vertebral augmentation)",
        },
        "subject": {"reference": f"Patient/{case.patient.uuid}"},
        "performedPeriod": {"start": row.started_at.isoformat()}
        | ({"end": row.ended_at.isoformat()} if row.ended_at else {}),
        "performer": [{"actor": {"display": row.operators}}],
        "reasonReference": [{"reference": f"Condition/{case.uuid}-{level.level}"} for level in row.levels.all()],
        "bodySite": [_level(level) for level in row.levels.all()],
    }
    if row.complications:
        body["complication"] = [{"text": row.complications}]
    return body


def search_filter(params: QueryDict) -> Q:
    found = Q()
    for value in params.getlist("_id"):
        found &= Q(case__uuid__in=[i for i in value.split(",") if search.is_uuid(i)])
    for name in ("patient", "subject"):
        for value in params.getlist(name):
            ids = [p.split("/", 1)[1] if p.startswith("Patient/") else p for p in value.split(",")]
            found &= Q(case__patient__uuid__in=[i for i in ids if search.is_uuid(i)])
    for value in params.getlist("status"):
        either = Q(pk__in=[])
        for part in value.split(","):
            if part == "completed":
                either |= Q(ended_at__isnull=False)
            elif part == "in-progress":
                either |= Q(ended_at__isnull=True)
        found &= either
    if params.getlist("date"):
        found &= search.date_filter("started_at", params.getlist("date"), "date")
    search.no_modifiers(params)
    return found


KIND = kinds.register(
    kinds.Kind(
        name="Procedure",
        audit_type="procedure",
        visible=visible,
        serve=lambda rows: [to_fhir(row) for row in rows],
        search=search_filter,
        params={"_id": "token", "patient": "reference", "subject": "reference", "status": "token", "date": "date"},
        sorts=SORTS,
        patient_of=lambda row: row.case.patient.uuid,
        version_of=lambda row: row.version,
        id_of=lambda row: str(row.case.uuid),
        lookup=lambda rows, rid: rows.filter(case__uuid=rid),
        compartment=lambda rows, patients: rows.filter(case__patient__in=patients),
        since_field="case__updated_at",
    )
)
