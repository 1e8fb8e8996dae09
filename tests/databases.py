"""Fresh databases for tests that run ``kyphos`` as real processes: a SQLite file in a temporary folder, or,
under tests.pgrun, a PostgreSQL database of its own on the run's server (dropped afterwards)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.test_serve import environment

Env = dict[str, str]


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], Env]]:
    """Call it for each database the test needs; each call gives the environment a command runs with."""
    made: list[str] = []
    server = urlparse(os.environ["DATABASE_URL"]) if "DATABASE_URL" in os.environ else None

    def make() -> Env:
        folder = tmp_path / f"db{len(made)}"
        folder.mkdir()
        name = f"kyphos_t_{uuid.uuid4().hex[:10]}"
        made.append(name)
        if server is None:
            return environment(folder)
        import psycopg

        with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return environment(folder, DATABASE_URL=server._replace(path=f"/{name}").geturl())

    yield make
    if server is not None:
        import psycopg

        with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
            for name in made:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def kyphos(env: Env, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kyphos", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def sql(env: Env, statement: str) -> list[tuple[object, ...]]:
    """Run one statement as an outsider would, with the database's own client library."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(statement)  # type: ignore[call-overload]
            return list(cursor.fetchall()) if cursor.description else []
    with sqlite3.connect(Path(env["KYPHOS_VAR_DIR"]) / "kyphos.sqlite3") as conn:
        return list(conn.execute(statement).fetchall())


def tables(env: Env) -> list[str]:
    if "DATABASE_URL" in env:
        rows = sql(env, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    else:
        rows = sql(env, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(str(row[0]) for row in rows)
