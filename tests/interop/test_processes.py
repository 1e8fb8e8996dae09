"""The listener as several processes on one port (PostgreSQL's default): every message is answered whichever
process takes the connection; a process that dies is replaced; when the supervisor is killed, the others end too, so
the port is free for the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.databases import kyphos, new_database
from tests.interop.test_kill import send_until_acknowledged

__all__ = ["new_database"]  # the fixture


def children(pid: int) -> set[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in found.read_text().split()} if found.exists() else set()


def test_processes_share_the_port_and_are_replaced(new_database: Any) -> None:
    env = new_database()
    assert kyphos(env, "migrate", "--verbosity", "0").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "mllp", "--port", "0", "--processes", "2"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "2 processes" in line, line
        port = int(line.split(":")[1].split()[0])
        workers = children(process.pid)
        assert len(workers) == 2
        acked: list[str] = []
        send_until_acknowledged(port, range(0, 20), acked, lambda: False)
        os.kill(next(iter(workers)), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while len(children(process.pid)) != 2 or children(process.pid) == workers:
            assert time.monotonic() < deadline, "the dead process was not replaced"
            time.sleep(0.1)
        send_until_acknowledged(port, range(20, 40), acked, lambda: False)
        assert len(set(acked)) == 40
        survivors = children(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in survivors):
            assert time.monotonic() < deadline, "the processes outlived their supervisor"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
