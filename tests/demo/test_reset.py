"""`kyphos demo --reset` replaces a demo database with a new one, audit trail and all, and refuses any other
database. Real processes on a temporary database: a SQLite file, and under tests.pgrun a PostgreSQL database of
its own on the same server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.test_serve import environment


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a command on a fresh database of the kind this run tests (tests.pgrun sets DATABASE_URL)."""
    if "DATABASE_URL" not in os.environ:
        yield environment(tmp_path)
        return
    import psycopg

    server = urlparse(os.environ["DATABASE_URL"])
    name = f"kyphos_reset_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield environment(tmp_path, DATABASE_URL=server._replace(path=f"/{name}").geturl())
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def kyphos(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kyphos", *args], env=env, capture_output=True, text=True, timeout=300)


def sql(env: dict[str, str], statement: str) -> list[tuple[object, ...]]:
    """Run one statement as an outsider would, with the database's own client library."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
    with sqlite3.connect(Path(env["KYPHOS_VAR_DIR"]) / "kyphos.sqlite3") as conn:
        return list(conn.execute(statement).fetchall())


def test_reset_replaces_a_demo_database_with_a_new_one(database: dict[str, str]) -> None:
    assert kyphos(database, "migrate", "--verbosity", "0").returncode == 0
    assert kyphos(database, "demo").returncode == 0
    patients = sql(database, "SELECT count(*) FROM patients_patient")[0][0]
    sql(database, "UPDATE patients_patient SET family_name = 'Changed-by-hand'")
    assert kyphos(database, "audit", "verify").returncode == 0
    done = kyphos(database, "demo", "--reset")
    assert done.returncode == 0, done.stderr
    assert "Demo department loaded." in done.stdout
    assert sql(database, "SELECT count(*) FROM patients_patient")[0][0] == patients
    assert sql(database, "SELECT count(*) FROM patients_patient WHERE family_name = 'Changed-by-hand'")[0][0] == 0
    assert sql(database, "SELECT count(*) FROM demo_demomark")[0][0] == 1
    verified = kyphos(database, "audit", "verify")
    assert verified.returncode == 0 and "Audit chain whole" in verified.stdout


def test_reset_refuses_a_database_that_is_not_a_demo(database: dict[str, str]) -> None:
    assert kyphos(database, "migrate", "--verbosity", "0").returncode == 0
    made = kyphos(
        database,
        "shell",
        "-c",
        "from kyphos.scheduling.models import Site; "
        "Site.objects.create(code='MAIN', name='A hospital', time_zone='America/Chicago', phone='+1 312 555 0100')",
    )
    assert made.returncode == 0, made.stderr
    sites = sql(database, "SELECT code FROM scheduling_site")
    entries = sql(database, "SELECT count(*) FROM audit_auditentry")[0][0]
    done = kyphos(database, "demo", "--reset")
    assert done.returncode == 2
    assert done.stderr.startswith("kyphos demo: This database holds data that was not loaded as the demo")
    assert len(done.stderr.strip().splitlines()) == 1
    assert sql(database, "SELECT code FROM scheduling_site") == sites == [("MAIN",)]
    assert sql(database, "SELECT count(*) FROM audit_auditentry")[0][0] == entries
    served = kyphos(database, "serve", "--demo", "--no-worker")
    assert served.returncode == 2 and "demo mode serves a demo database only" in served.stderr
