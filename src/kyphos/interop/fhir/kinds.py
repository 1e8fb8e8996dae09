"""The resource types the FHIR API serves, each described once: which rows a client may see, how a row reads as
FHIR, its search parameters and sorts, and the services that create or update it. The views, the
CapabilityStatement and the tests all read this registry, so what is listed is exactly what works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Model, Q, QuerySet
from django.http import QueryDict

from kyphos.audit.actor import Actor
from kyphos.interop.fhir.search import Sort, is_uuid
from kyphos.pathway.policy import site_ids_of


@dataclass(frozen=True)
class Kind:
    name: str  # the FHIR resource type
    audit_type: str  # the object type its audit entries name
    visible: Callable[[Any], QuerySet[Any]]  # the rows a client's service account may see
    serve: Callable[[list[Any]], list[dict[str, Any]]]  # rows → resources, in one pass (related rows fetched once)
    search: Callable[[QueryDict], Q]
    params: dict[str, str]  # search parameter → FHIR type, for the CapabilityStatement
    sorts: dict[str, Sort]
    patient_of: Callable[[Any], UUID | None]
    version_of: Callable[[Any], int] = lambda row: 1
    updated_of: Callable[[Any], Any] = lambda row: None
    # create(actor, resource) → row; update(actor, resource, locked row) → row. None: not offered.
    create: Callable[[Actor, dict[str, Any]], Model] | None = None
    update: Callable[[Actor, dict[str, Any], Any], Model] | None = None
    create_permission: str = ""  # the role permission (pathway.policy) a client needs to create or update
    # The resource's id for a row, and the rows an id names (by default the row's UUID).
    id_of: Callable[[Any], str] = lambda row: str(row.uuid)
    lookup: Callable[[QuerySet[Any], str], QuerySet[Any]] = lambda rows, rid: rows.filter(uuid=rid)
    id_is: Callable[[str], bool] = lambda rid: is_uuid(rid)
    # Bulk export: the rows of these patients (a Patient or Group export; None: not in the patient compartment,
    # exported at system level only), and the field ``_since`` compares ("": every row, as Kyphos cannot tell).
    compartment: Callable[[QuerySet[Any], QuerySet[Any]], QuerySet[Any]] | None = None
    since_field: str = ""

    @property
    def interactions(self) -> list[str]:
        found = ["read", "vread", "search-type"]
        if self.update is not None:
            found.insert(2, "update")
        if self.create is not None:
            found.append("create")
        return found


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    REGISTRY[kind.name] = kind
    return kind


def site_scoped(rows: QuerySet[Any], user: Any, path: str) -> QuerySet[Any]:
    """``rows`` at the client's sites (``path`` names the site id), or all of them for a client of every site."""
    mine = site_ids_of(user)
    return rows if mine is None else rows.filter(**{f"{path}__in": mine})
