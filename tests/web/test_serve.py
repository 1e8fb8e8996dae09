"""`kyphos serve` started for real is safe by default: no demo, no user, no secret printed, and no start at all on
settings a security review fails; demo mode stays on loopback. Real processes on a temporary var directory."""

import os
import secrets
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hl7.client import MLLPClient

STRONG_KEY = secrets.token_urlsafe(50)


def environment(var: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KYPHOS_", "DATABASE_URL", "DJANGO_"))}
    return {**env, "KYPHOS_VAR_DIR": str(var), "KYPHOS_SECRET_KEY": STRONG_KEY, **changes}


def serve(var: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kyphos", "serve", "--no-worker", *args],
        env=environment(var, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args,env,reason",
    [
        ((), {"KYPHOS_SECRET_KEY": "x"}, "security.W009"),
        ((), {"KYPHOS_DEBUG": "1"}, "security.W018"),
        (("--demo", "--host", "0.0.0.0"), {}, "demo mode serves on loopback only"),  # noqa: S104
    ],
)
def test_unsafe_starts_are_refused_in_one_line(tmp_path: Path, args: Any, env: dict[str, str], reason: str) -> None:
    done = serve(tmp_path, *args, **env)
    assert done.returncode == 2
    assert done.stderr.startswith("kyphos serve: ") and reason in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "kyphos.sqlite3").exists()  # refused before anything was written


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_real_start_creates_no_user_and_prints_no_secret(tmp_path: Path) -> None:
    port, mllp = free_port(), free_port()
    (tmp_path / "mail").mkdir(mode=0o755)
    (tmp_path / "mail" / "older.eml").write_text("left by an older version")
    (tmp_path / "mail" / "older.eml").chmod(0o644)
    process = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "serve", "--no-worker", "--port", str(port), "--mllp-port", str(mllp)],
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                    assert answer.status == 200
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        # The HL7 v2 listener came up beside the web, on the same host.
        while True:
            try:
                with MLLPClient("127.0.0.1", mllp) as client:
                    ack = client.send_message(b"MSH|^~\\&|EPIC|H|KYPHOS|H|20261203||ORM^O01|S-1|P|2.5\rPID|||1\r")
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert b"MSA|AA|S-1" in ack
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "No user yet: create the first administrator with `kyphos createsuperuser`." in output
    assert "Served over plain HTTP" in output
    assert "password" not in output.lower() and "/p/" not in output and STRONG_KEY not in output
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path, tmp_path / "mail", tmp_path / "kyphos.sqlite3")}
    assert modes == {tmp_path.name: 0o700, "mail": 0o700, "kyphos.sqlite3": 0o600}
    assert stat.S_IMODE((tmp_path / "mail" / "older.eml").stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "kyphos.sqlite3") as db:
        assert db.execute("select count(*) from auth_user").fetchone() == (0,)
        assert db.execute("select count(*) from patients_patient").fetchone() == (0,)
