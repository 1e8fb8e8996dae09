"""Write audit entries. Every read or change of a patient's data calls one of these."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from kyphos import clock
from kyphos.audit import chain
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction, AuditEntry


def record(
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    *,
    patient_uuid: UUID | None = None,
    detail: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=clock.current(),
        user=actor.user_or_none,
        username=actor.name[:150],
        patient_uuid=patient_uuid,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        client_addr=actor.client_addr,
        detail=detail[:200],
    )
    chain.append([entry])
    return entry


def record_each(actor: Actor, object_type: str, rows: Iterable[tuple[AuditAction, object, UUID | None, str]]) -> int:
    """Record several changes made together (action, object id, patient UUID, detail), one entry each, appended
    to the chain in one statement."""
    at = clock.current()
    user = actor.user_or_none
    user_id, name = (user.pk if user is not None else None), actor.name[:150]
    entries = [
        chain.Pending(
            at,
            user_id,
            name,
            patient_uuid,
            str(action),
            object_type,
            str(object_id)[:64],
            actor.client_addr,
            detail[:200],
        )
        for action, object_id, patient_uuid, detail in rows
    ]
    chain.append(entries)
    return len(entries)


def record_list(actor: Actor, object_type: str, rows: Iterable[tuple[object, UUID | None]], detail: str = "") -> int:
    """Record that a list showed these rows (object id, patient UUID): one entry per patient shown."""
    return record_each(
        actor, object_type, ((AuditAction.LIST, object_id, patient, detail) for object_id, patient in rows)
    )
