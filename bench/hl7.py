"""HL7 ingest: lab results (ORU^R01) from several concurrent senders into a real ``kyphos mllp`` process, each
committed before its ACK leaves, filed on the demo department's open cases through the labs room's service.

``python -m bench.hl7 --messages 4000 --senders 4 --out FILE`` against the database the environment names
(``KYPHOS_SQLITE`` or ``DATABASE_URL``; ``bench.run`` runs it on both). Reports:

- ``ingest_per_s``: messages acknowledged per second with every sender sending as fast as the ACKs come back;
- ``ack_p50_ms`` / ``ack_p99_ms`` at that load, and ``paced_p99_ms`` with the messages sent at 100 per second;
- ``parse_floor_per_s``: python-hl7 parsing the same messages in one process: the floor no ingest can beat.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import django


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def seed() -> list[tuple[str, str]]:
    """The demo department; (MRN, assigning authority) of each patient with exactly one open case."""
    from kyphos.demo import department
    from kyphos.pathway.models import Case
    from kyphos.pathway.stages import TERMINAL

    department.load_demo()
    open_cases = Case.objects.exclude(stage__in=TERMINAL).values_list("patient__mrn", "patient__assigning_authority")
    counts: dict[tuple[str, str], int] = {}
    for key in open_cases:
        counts[key] = counts.get(key, 0) + 1
    return [key for key, n in counts.items() if n == 1]


def message(n: int, patient: tuple[str, str], stamp: str) -> bytes:
    mrn, authority = patient
    return (
        f"MSH|^~\\&|SUNQUEST|RIVERSIDE|KYPHOS|HOSP|{stamp}||ORU^R01^ORU_R01|B{n}|P|2.5.1\r"
        f"PID|1||{mrn}^^^{authority}^MR\r"
        f"OBR|1||ORD{n}|COAG^Coagulation^L|||{stamp}\r"
        f"OBX|1|NM|6301-6^INR^LN||1.{n % 5}|{{INR}}|0.8-1.2||||F|||{stamp}\r"
        f"OBX|2|NM|777-3^Platelets^LN||{150 + n % 100}|10*3/uL|||||F|||{stamp}\r"
    ).encode()


def exchange(conn: socket.socket, data: bytes) -> bytes:
    conn.sendall(b"\x0b" + data + b"\x1c\r")
    answer = b""
    while not answer.endswith(b"\x1c\r"):
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        answer += chunk
    return answer


def send_all(port: int, batch: list[bytes], latencies: list[float], pace: float = 0.0) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        next_at = time.perf_counter()
        for data in batch:
            if pace:
                next_at += pace
                time.sleep(max(0.0, next_at - time.perf_counter()))
            began = time.perf_counter()
            answer = exchange(conn, data)
            latencies.append((time.perf_counter() - began) * 1000)
            if b"MSA|AA|" not in answer:
                raise AssertionError(answer[:300])


def run(port: int, messages: list[bytes], senders: int, pace: float = 0.0) -> tuple[float, list[float]]:
    latencies: list[float] = []
    failures: list[BaseException] = []

    def sender(share: list[bytes]) -> None:
        try:
            send_all(port, share, latencies, pace)
        except BaseException as exc:  # noqa: BLE001 - reported after the run: the figures would be wrong
            failures.append(exc)

    shares = [messages[i::senders] for i in range(senders)]
    threads = [threading.Thread(target=sender, args=(share,)) for share in shares]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"a sender failed: {failures[0]!r}"[:500])
    return time.perf_counter() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--paced", type=int, default=1000, help="messages sent at 100/s for the latency figure")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
    django.setup()
    import hl7
    from django.core.management import call_command

    from kyphos import clock

    call_command("migrate", verbosity=0)
    patients = seed()
    stamp = (clock.current()).strftime("%Y%m%d%H%M+0000")
    total = args.messages + args.paced
    messages = [message(n, patients[n % len(patients)], stamp) for n in range(total)]
    began = time.perf_counter()
    for data in messages[: args.messages]:
        hl7.parse(data.decode())
    floor = args.messages / (time.perf_counter() - began)

    from django.db import connections

    connections.close_all()
    process = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "mllp", "--port", "0"], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    assert process.stdout is not None
    port = int(process.stdout.readline().split(":")[1].split()[0])
    try:
        seconds, latencies = run(port, messages[: args.messages], args.senders)
        _paced_seconds, paced = run(port, messages[args.messages :], args.senders, pace=args.senders / 100)
    finally:
        process.terminate()
        process.wait(timeout=30)
    result = {
        "backend": args.backend,
        "messages": args.messages,
        "senders": args.senders,
        "patients": len(patients),
        "ingest_per_s": round(args.messages / seconds, 1),
        "ack_p50_ms": round(percentile(latencies, 0.50), 2),
        "ack_p99_ms": round(percentile(latencies, 0.99), 2),
        "paced_per_s": 100,
        "paced_p50_ms": round(percentile(paced, 0.50), 2),
        "paced_p99_ms": round(percentile(paced, 0.99), 2),
        "parse_floor_per_s": round(floor, 1),
        "goals": {"ingest_per_s": 1000, "paced_p99_ms": 50},
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
