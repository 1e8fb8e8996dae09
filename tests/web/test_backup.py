"""`kyphos backup` while Kyphos writes, `kyphos restore` into an empty database: the restored database is one
consistent moment of the original (every row it holds is the original's, its audit chain verifies), and the
commands refuse what would lose data. Real processes on SQLite files, or PostgreSQL databases under tests.pgrun."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.databases import Env, kyphos, new_database, sql, tables

__all__ = ["new_database"]  # the fixture

# Registers patients through the real service (each with its audit entry) until the stop file appears.
WRITER = """
import itertools, pathlib
from datetime import date
from kyphos.audit.actor import Actor
from kyphos.patients.services import PatientDetails, register_patient
stop = pathlib.Path({stop!r})
actor = Actor.system("backup test writer")
for n in itertools.count():
    if stop.exists():
        break
    register_patient(actor, PatientDetails("HOSP", f"B{{n:06d}}", "Writer", f"Patient{{n}}", date(1950, 1, 1)))
"""


def count(env: Env, table: str) -> int:
    return int(sql(env, f"SELECT count(*) FROM {table}")[0][0])  # type: ignore[call-overload]  # noqa: S608


def wait_for(env: Env, table: str, at_least: int) -> int:
    deadline = time.monotonic() + 120
    while (seen := count(env, table)) < at_least:
        assert time.monotonic() < deadline, f"the writer stopped at {seen} rows"
        time.sleep(0.2)
    return seen


def rows(env: Env, table: str) -> set[tuple[object, ...]]:
    return set(sql(env, f"SELECT * FROM {table}"))  # noqa: S608  (table names from the database itself)


def test_a_backup_taken_during_writes_restores_to_one_consistent_moment(
    new_database: Callable[[], Env], tmp_path: Path
) -> None:
    source, target = new_database(), new_database()
    assert kyphos(source, "migrate", "--verbosity", "0").returncode == 0
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "shell", "-c", WRITER.format(stop=str(stop))],
        env=source,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(source, "patients_patient", 30)
        file = tmp_path / "kyphos.backup"
        done = kyphos(source, "backup", str(file))
        assert done.returncode == 0, done.stderr
        assert "Backed up to" in done.stdout
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        at_backup = count(source, "patients_patient")
        wait_for(source, "patients_patient", at_backup + 20)  # the writes went on after the copy
    finally:
        stop.touch()
        _out, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors

    done = kyphos(target, "restore", str(file))
    assert done.returncode == 0, done.stderr
    assert "Audit chain whole" in done.stdout

    assert tables(target) == tables(source)
    for table in tables(source):
        restored, original = rows(target, table), rows(source, table)
        assert restored <= original, f"{table}: rows the original never had"
        if table not in {"patients_patient", "audit_auditentry"}:
            assert restored == original, f"{table} differs"
    restored_patients = count(target, "patients_patient")
    assert 30 <= restored_patients < count(source, "patients_patient")
    # One moment: every restored patient has its registration's audit entry, and no entry names a later patient.
    created = sql(target, "SELECT count(DISTINCT patient_uuid) FROM audit_auditentry WHERE action = 'create'")
    assert created[0][0] == restored_patients
    assert kyphos(target, "audit", "verify").returncode == 0


def test_backup_and_restore_refuse_what_would_lose_data(new_database: Callable[[], Env], tmp_path: Path) -> None:
    source, other = new_database(), new_database()
    assert kyphos(source, "migrate", "--verbosity", "0").returncode == 0
    file = tmp_path / "kyphos.backup"
    file.write_text("an older backup")
    refusals = [
        (kyphos(source, "backup", str(file)), "already exists; a backup never overwrites a file"),
        (kyphos(source, "backup", str(tmp_path / "no-such-folder" / "b")), "There is no folder"),
        (kyphos(other, "restore", str(file)), "is not a Kyphos backup"),
        (kyphos(other, "restore", str(tmp_path / "missing.backup")), "There is no file"),
    ]
    file.unlink()
    assert kyphos(source, "backup", str(file)).returncode == 0
    # A database that already has tables (here: migrated) is never overwritten by a restore.
    refusals.append((kyphos(source, "restore", str(file)), "restored into an empty database only"))
    for done, reason in refusals:
        assert done.returncode == 2, done.stderr
        assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert file.read_bytes()[:5] in {b"SQLit", b"PGDMP"}
