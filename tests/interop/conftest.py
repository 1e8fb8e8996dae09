"""A real `kyphos mllp` process for each test module, on a fresh database of this run's kind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.databases import kyphos
from tests.web.test_serve import environment

MAX_BYTES = 8192


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A migrated database of this run's kind and a `kyphos mllp` process on a free loopback port."""
    folder = tmp_path_factory.mktemp("mllp")
    name = ""
    if "DATABASE_URL" in os.environ:
        import psycopg

        server = urlparse(os.environ["DATABASE_URL"])
        name = f"kyphos_mllp_{os.getpid()}"
        with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        env = environment(folder, DATABASE_URL=server._replace(path=f"/{name}").geturl())
    else:
        env = environment(folder)
    env["KYPHOS_HL7_MAX_BYTES"] = str(MAX_BYTES)
    assert kyphos(env, "migrate", "--verbosity", "0").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "mllp", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "MLLP listener on 127.0.0.1:" in line, process.stderr.read() if process.stderr else line
    port = int(line.split(":")[1].split()[0])
    yield {"env": env, "port": port, "process": process}
    process.terminate()
    process.wait(timeout=20)
    if name:
        import psycopg

        with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
