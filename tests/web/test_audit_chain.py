"""The audit trail cannot be rewritten: the database refuses changes, and the hash chain shows any that got in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from kyphos.audit import chain
from kyphos.audit import services as audit
from kyphos.audit.models import AuditAction, AuditEntry
from tests.databases import Env, kyphos, new_database, sql

__all__ = ["new_database"]  # the fixture


def seal(settings: Any) -> None:
    """Open the connection as a real start does: no erasing (the suite's flush is allowed otherwise)."""
    settings.KYPHOS_AUDIT_ERASABLE = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL kyphos.audit_erasable = 'off'")


def some_entries(actors: dict[str, Any], count: int = 5) -> list[AuditEntry]:
    made = [
        audit.record(actors["nurse"], AuditAction.VIEW, "case", n, detail=f"case page {n}") for n in range(count - 2)
    ]
    audit.record_list(actors["scheduler"], "case", [(1, None), (2, None)], detail="worklist")  # type: ignore[list-item]
    return made


def verify_command(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def without_triggers() -> None:
    """What someone with the database's owner rights could do: drop the triggers (undone by the test's rollback)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_change ON audit_auditentry")


@pytest.mark.django_db
def test_entries_are_chained_and_verify(actors: dict[str, Any]) -> None:
    before = AuditEntry.objects.count()  # the personas' role changes are audited too
    some_entries(actors)
    rows = list(AuditEntry.objects.order_by("id"))
    assert len(rows) == before + 5
    assert rows[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert len({row.hash for row in rows}) == len(rows)
    status, out = verify_command()
    assert status == 0
    assert f"{len(rows)} entries, head {rows[-1].hash}" in out
    status, out = verify_command("--json")
    assert json.loads(out) == {"whole": True, "verified": len(rows), "head": rows[-1].hash, "first_broken": None}


@pytest.mark.django_db
def test_the_database_refuses_update_delete_and_truncate(actors: dict[str, Any], settings: Any) -> None:
    seal(settings)
    some_entries(actors)
    count = AuditEntry.objects.count()
    first = AuditEntry.objects.order_by("id").first()
    assert first is not None
    attempts = [
        "UPDATE audit_auditentry SET detail = 'nothing happened'",
        f"DELETE FROM audit_auditentry WHERE id = {first.id}",  # noqa: S608  (a test's own integer)
    ]
    if connection.vendor == "postgresql":
        attempts.append("TRUNCATE audit_auditentry")
    for statement in attempts:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    # The ORM's base manager goes straight to SQL, past the model's own refusal: the trigger still stops it.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry._base_manager.filter(id=first.id).update(detail="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry._base_manager.all()._raw_delete(connection.alias)  # type: ignore[attr-defined]
    assert AuditEntry.objects.count() == count
    assert AuditEntry.objects.get(id=first.id).detail == first.detail
    assert verify_command()[0] == 0


@pytest.mark.django_db
def test_a_changed_entry_is_named_by_verify(actors: dict[str, Any]) -> None:
    some_entries(actors)
    target = AuditEntry.objects.order_by("-id")[2]
    verified_before = AuditEntry.objects.filter(id__lt=target.id).count()
    without_triggers()
    AuditEntry._base_manager.filter(id=target.id).update(detail="case page of someone else")
    status, out = verify_command()
    assert status == 1
    assert f"BROKEN at entry {target.id}" in out
    assert f"content was changed ({verified_before} verified)" in out
    verdict = json.loads(verify_command("--json")[1])
    assert verdict["whole"] is False
    assert verdict["first_broken"] == {"id": target.id, "reason": "content"}


@pytest.mark.django_db
def test_a_removed_entry_breaks_the_link_of_the_next(actors: dict[str, Any]) -> None:
    some_entries(actors)
    rows = list(AuditEntry.objects.order_by("id"))
    without_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [rows[1].id])
    status, out = verify_command()
    assert status == 1
    assert f"BROKEN at entry {rows[2].id}: it does not link to the entry before it" in out


@pytest.mark.django_db
def test_a_forged_entry_with_its_own_hash_still_breaks_the_chain(actors: dict[str, Any]) -> None:
    """Recomputing the changed entry's hash is not enough: the next entry's link no longer matches."""
    some_entries(actors)
    rows = list(AuditEntry.objects.order_by("id"))
    forged = rows[1]
    forged.detail = "nothing to see"
    new_hash = chain.digest(forged)
    without_triggers()
    AuditEntry._base_manager.filter(id=forged.id).update(detail=forged.detail, hash=new_hash)
    status, out = verify_command()
    assert status == 1
    assert f"BROKEN at entry {rows[2].id}" in out


RECORDER = """
from kyphos.audit import services
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
actor = Actor.system("writer {n}")
for i in range(150):
    services.record(actor, AuditAction.VIEW, "case", i, detail="case page")
    if i % 10 == 0:
        services.record_list(actor, "case", [(j, None) for j in range(5)], detail="worklist")
"""


def test_writers_in_parallel_keep_one_chain(new_database: Callable[[], Env]) -> None:
    """Four processes appending at once (as the web threads and the worker do): one chain, nothing forked."""
    env = new_database()
    assert kyphos(env, "migrate", "--verbosity", "0").returncode == 0
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "kyphos", "shell", "-c", RECORDER.format(n=n)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for writer in writers:
        _out, errors = writer.communicate(timeout=240)
        assert writer.returncode == 0, errors
    assert sql(env, "SELECT count(*) FROM audit_auditentry")[0][0] == 4 * (150 + 15 * 5)
    verified = kyphos(env, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["verified"] == 4 * (150 + 15 * 5)
