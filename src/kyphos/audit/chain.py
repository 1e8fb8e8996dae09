"""The audit chain: each entry carries the SHA-256 of its own content and of the entry before it.

Changing, removing or reordering an entry anywhere breaks the chain from that entry on, and ``kyphos audit
verify`` names it. The database refuses UPDATE, DELETE and TRUNCATE on the table (triggers made by the migration
``audit 0003``), so a change needs someone who can also drop the triggers; the chain is what shows it afterwards.
Removing the newest entries leaves a whole but shorter chain: ``verify`` prints the head (count and last hash) so
a hospital can keep it elsewhere and compare (docs/security.md).

Entries are appended one writer at a time: on PostgreSQL a transaction-scoped advisory lock; on SQLite the write
lock every transaction takes at BEGIN (``transaction_mode = IMMEDIATE`` in the settings). The lock is held to the
end of the writer's transaction, so the head read under it is the committed head.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from kyphos.audit.models import AuditEntry

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "KYPHAUDT" as a 64-bit integer, so no other lock of ours can collide with it.
LOCK_KEY = int.from_bytes(b"KYPHAUDT", "big") - 2**63
TABLE = AuditEntry._meta.db_table


@dataclass(slots=True)
class Pending:
    """A new entry written together with others in one statement (a list page, an export slice): the columns of
    ``AuditEntry``, without the model's per-row machinery, which cost more than the write at a thousand a call."""

    at: datetime
    user_id: int | None
    username: str
    patient_uuid: UUID | None
    action: str
    object_type: str
    object_id: str
    client_addr: str | None
    detail: str
    prev_hash: str = ""
    hash: str = ""


def content(entry: AuditEntry | Pending) -> bytes:
    """The bytes an entry's hash covers: every field a reader relies on, in a fixed order and form."""
    at = entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [
        at,
        entry.user_id,
        entry.username,
        str(entry.patient_uuid) if entry.patient_uuid else None,
        str(entry.action),
        entry.object_type,
        entry.object_id,
        entry.client_addr,
        entry.detail,
        entry.prev_hash,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def digest(entry: AuditEntry | Pending) -> str:
    return hashlib.sha256(content(entry)).hexdigest()


def _normal_addr(addr: str | None) -> str | None:
    """The address as both databases give it back (PostgreSQL's inet compresses IPv6)."""
    if not addr:
        return None
    try:
        return str(ipaddress.ip_address(addr))
    except ValueError:
        return None


def append(entries: Sequence[AuditEntry | Pending]) -> None:
    """Link these new entries after the current head, in order, and save them in one statement."""
    if not entries:
        return
    with transaction.atomic(savepoint=False):  # part of the writer's transaction: it fails whole or not at all
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        previous = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
        addresses: dict[str | None, str | None] = {}
        for entry in entries:
            if entry.client_addr not in addresses:
                addresses[entry.client_addr] = _normal_addr(entry.client_addr)
            entry.client_addr = addresses[entry.client_addr]
            entry.prev_hash = previous
            entry.hash = digest(entry)
            previous = entry.hash
        if len(entries) == 1 and isinstance(entries[0], AuditEntry):
            entries[0].save()
        else:
            _insert_many(entries)


COLUMNS = (
    "at",
    "user_id",
    "username",
    "patient_uuid",
    "action",
    "object_type",
    "object_id",
    "client_addr",
    "detail",
    "prev_hash",
    "hash",
)


def _insert_many(entries: Sequence[AuditEntry | Pending]) -> None:
    """One INSERT for many entries (a list page, an export slice), each value adapted as the ORM would store it but
    without its per-row machinery: at a thousand entries a call, that machinery cost more than the write."""
    ops = connection.ops
    uuid_field = AuditEntry._meta.get_field("patient_uuid")
    rows = [
        (
            ops.adapt_datetimefield_value(entry.at),
            entry.user_id,
            entry.username,
            uuid_field.get_db_prep_value(entry.patient_uuid, connection) if entry.patient_uuid else None,
            str(entry.action),
            entry.object_type,
            entry.object_id,
            ops.adapt_ipaddressfield_value(entry.client_addr),
            entry.detail,
            entry.prev_hash,
            entry.hash,
        )
        for entry in entries
    ]
    names = ", ".join(ops.quote_name(column) for column in COLUMNS)
    marks = ", ".join(["%s"] * len(COLUMNS))
    with connection.cursor() as cursor:
        # Only fixed column names and placeholders go into the text; every value is a parameter.
        cursor.executemany(f"INSERT INTO {ops.quote_name(TABLE)} ({names}) VALUES ({marks})", rows)  # noqa: S608


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    count: int
    head: str
    broken: Break | None

    @property
    def whole(self) -> bool:
        return self.broken is None


def walk(batch: int = 5000) -> Iterator[AuditEntry]:
    """Every entry in chain order (ascending id), read in batches by keyset so memory stays bounded."""
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last).order_by("id")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify() -> Verdict:
    """Walk the chain from the first entry; stop at the first entry whose link or content does not match."""
    previous = GENESIS
    count = 0
    for entry in walk():
        if entry.prev_hash != previous:
            return Verdict(count, previous, Break(entry.id, "link"))
        if digest(entry) != entry.hash:
            return Verdict(count, previous, Break(entry.id, "content"))
        previous = entry.hash
        count += 1
    return Verdict(count, previous, None)


# --- erasing, for the test suite only -------------------------------------------------------------------------
# The triggers also refuse DELETE and TRUNCATE, which is how the test runner empties the database between
# transactional tests. The test suite sets ``KYPHOS_AUDIT_ERASABLE`` (tests/conftest.py); nothing else does, and
# UPDATE stays refused even then.


def erasable() -> bool:
    return bool(getattr(settings, "KYPHOS_AUDIT_ERASABLE", False))


@receiver(connection_created)
def _allow_erasing_when_testing(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        # The SQLite triggers ask this function; a connection without it (the sqlite3 shell) cannot delete.
        connection.connection.create_function("kyphos_audit_sealed", 0, lambda: 0 if erasable() else 1)
    elif connection.vendor == "postgresql" and erasable():
        with connection.cursor() as cursor:
            cursor.execute("SET kyphos.audit_erasable = 'on'")
