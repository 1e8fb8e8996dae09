"""The resource types the FHIR API serves, each described once: which rows a client may see, how a row reads as
FHIR, its search parameters and sorts, and the services that create or update it. The views, the
CapabilityStatement and the tests all read this registry, so what is listed is exactly what works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    # The row's earlier versions, newest first, as rows ``serve`` takes (None: only the current one is kept).
    history: Callable[[Any], list[Any]] | None = None
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
    # A type Kyphos keeps in several tables (Observation: lab results, pain scores, vital signs …) lists one Kind
    # per table here; the type's own callables are then never called (see ``of_parts``).
    parts: tuple[Kind, ...] = ()
    default_sort: str = "_id"
    # Reference search parameters to types other than Patient, for _include and _revinclude: parameter →
    # (the type referenced, the element holding the reference, dotted through lists).
    links: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def interactions(self) -> list[str]:
        found = ["read", "vread", "search-type"]
        if self.update is not None:
            found.insert(2, "update")
        if self.create is not None:
            found.append("create")
        if self.history is not None:
            found.append("history-instance")
        return found


def _whole_type_only(*args: Any) -> Any:
    raise AssertionError("a type kept in several parts is read through kinds.parts_of")


def of_parts(name: str, params: dict[str, str], parts: tuple[Kind, ...], **more: Any) -> Kind:
    """A resource type served from several tables: each part is a Kind of its own (not registered), searched and
    paged together (``search.page``), read by whichever part's ``id_is`` takes the id, exported one after another
    into the same file. ``more`` may name the create and update of the first part."""
    common = {key: sort for key, sort in parts[0].sorts.items() if all(key in p.sorts for p in parts)}
    return Kind(
        name=name,
        audit_type=parts[0].audit_type,
        visible=_whole_type_only,
        serve=_whole_type_only,
        search=_whole_type_only,
        params=params,
        sorts=common,
        patient_of=_whole_type_only,
        compartment=_whole_type_only if any(p.compartment for p in parts) else None,
        parts=parts,
        **more,
    )


def parts_of(kind: Kind) -> tuple[Kind, ...]:
    return kind.parts or (kind,)


def part_of_id(kind: Kind, resource_id: str) -> Kind | None:
    """The part whose ids look like ``resource_id`` (parts' id forms never overlap)."""
    return next((part for part in parts_of(kind) if part.id_is(resource_id)), None)


def serve_pairs(kind: Kind, pairs: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    """The resources of (part, row) pairs in their order, each part serving its rows in one pass."""
    parts = parts_of(kind)
    served: dict[int, list[dict[str, Any]]] = {}
    for index in sorted({index for index, _row in pairs}):
        served[index] = parts[index].serve([row for i, row in pairs if i == index])
    taken = dict.fromkeys(served, 0)
    found = []
    for index, _row in pairs:
        found.append(served[index][taken[index]])
        taken[index] += 1
    return found


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    REGISTRY[kind.name] = kind
    return kind


def site_scoped(rows: QuerySet[Any], user: Any, path: str) -> QuerySet[Any]:
    """``rows`` at the client's sites (``path`` names the site id), or all of them for a client of every site."""
    mine = site_ids_of(user)
    return rows if mine is None else rows.filter(**{f"{path}__in": mine})
