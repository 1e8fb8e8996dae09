"""``kill -9`` of the listener in the middle of a stream: every message the sender saw acknowledged is stored, and
stored exactly once, however often the listener dies between storing a message and sending its ACK.

Four senders send 10,000 lab results between them, each message until it is acknowledged (reconnecting after a
refused or dropped connection, as an interface engine does). The listener is killed with SIGKILL three times during
the stream and started again on the same port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.databases import Env, kyphos, new_database, sql

TOTAL = 10_000
__all__ = ["new_database"]  # the fixture
SENDERS = 4
KILLS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: Env, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "mllp", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    assert "MLLP listener on" in process.stdout.readline()
    return process


def message(n: int) -> bytes:
    return (
        f"MSH|^~\\&|SUNQUEST|RIVERSIDE|KYPHOS|HOSP|20261203101500||ORU^R01|K{n}|P|2.5.1\r"
        f"PID|1||H{n:07d}^^^HOSP^MR||Lab^Stream||19500101|F\r"
        "OBR|1||LAB1|COAG^Coagulation^L\r"
        "OBX|1|NM|6301-6^INR^LN||1.1|{INR}|||||F|||202612030800\r"
    ).encode()


def send_until_acknowledged(port: int, numbers: range, acked: list[str], stop: Callable[[], bool]) -> None:
    conn: socket.socket | None = None
    for n in numbers:
        data = message(n)
        while not stop():
            try:
                if conn is None:
                    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                conn.sendall(b"\x0b" + data + b"\x1c\r")
                answer = b""
                while not answer.endswith(b"\x1c\r"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        raise ConnectionResetError
                    answer += chunk
            except OSError:
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)
                continue
            msa = next(s for s in answer.strip(b"\x0b\x1c\r").split(b"\r") if s.startswith(b"MSA")).split(b"|")
            assert msa[1] == b"AA" and msa[2] == f"K{n}".encode()
            acked.append(msa[2].decode())
            break
    if conn is not None:
        conn.close()


def test_every_acknowledged_message_is_stored_exactly_once_through_kill_9(new_database: Any) -> None:
    env = new_database()
    assert kyphos(env, "migrate", "--verbosity", "0").returncode == 0
    port = free_port()
    listener = start(env, port)
    acked: list[str] = []
    deadline = time.monotonic() + 600
    share = TOTAL // SENDERS
    senders = [
        threading.Thread(
            target=send_until_acknowledged,
            args=(port, range(i * share, (i + 1) * share), acked, lambda: time.monotonic() > deadline),
        )
        for i in range(SENDERS)
    ]
    for thread in senders:
        thread.start()
    try:
        for k in range(1, KILLS + 1):
            while len(acked) < TOTAL * k // (KILLS + 1) and any(t.is_alive() for t in senders):
                time.sleep(0.01)
            os.kill(listener.pid, signal.SIGKILL)
            listener.wait()
            time.sleep(0.2)
            listener = start(env, port)
        for thread in senders:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        listener.kill()
        listener.wait()
    assert len(acked) == TOTAL and len(set(acked)) == TOTAL, "every message was acknowledged, once per sender"
    stored = sql(env, "SELECT control_id, COUNT(*) FROM interop_hl7message WHERE direction = 'in' GROUP BY control_id")
    counts = {str(control): int(n) for control, n in stored}
    assert set(counts) == set(acked)  # every acknowledged message is there, and nothing else
    assert set(counts.values()) == {1}  # exactly once
    statuses = sql(env, "SELECT DISTINCT status FROM interop_hl7message")
    assert statuses == [("held",)]  # each was processed: unknown patients' results, kept for review
