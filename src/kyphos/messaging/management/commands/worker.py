"""``kyphos worker [--once] [--interval 5]``: derive due messages and tasks, send from the outbox one row at a time.

Each tick first runs the jobs the rooms registered (``messaging.jobs``: reminders, missed visits …; each is
idempotent, so two workers may run them at once), then sends due rows until none is left. Stops cleanly on
SIGTERM or SIGINT after the row in hand. Safe to run as several processes on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Any

from django.core.management.base import CommandParser

from kyphos import clock
from kyphos.commands import KyphosCommand
from kyphos.messaging import heartbeat, jobs, reminders
from kyphos.messaging.outbox import process_one

log = logging.getLogger("kyphos.worker")


class Command(KyphosCommand):
    help = "Send due messages from the outbox (runs until stopped; --once to drain and exit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds to wait when nothing is due")
        parser.add_argument(
            "--derive-every",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="how often to derive due messages and tasks (they are timed to the minute)",
        )
        parser.add_argument(
            "--exit-with",
            type=int,
            default=0,
            metavar="PID",
            help="stop when this process ends (kyphos serve starts its worker this way)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = {"now": False}

        def stop(signum: int, frame: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        name = f"{socket.gethostname()}:{os.getpid()}"
        self.stdout.write(f"worker started (pid {os.getpid()})")
        self.stdout.flush()  # a supervisor (or a test) may wait for this line before it signals
        sent = failed = 0
        parent = options["exit_with"]
        ticks = jobs.registered()
        derived_at = beat_at = 0.0
        started_at = clock.current()
        while not stopping["now"] and not (parent and not _alive(parent)):
            if time.monotonic() - beat_at >= heartbeat.BEAT_SECONDS:  # for /healthz and /metrics
                heartbeat.beat(name, started_at)
                beat_at = time.monotonic()
            # Deriving scans the coming weeks' appointments and visits: once a minute, not on every pass.
            if not derived_at or time.monotonic() - derived_at >= options["derive_every"]:
                run_ticks(ticks)
                derived_at = time.monotonic()
            row = process_one(name, check=reminders.current_message)
            busy = run_senders(name)
            if row is None:
                if busy:
                    continue
                if options["once"]:
                    break
                _nap(options["interval"], stopping)
                continue
            # Counts only: no patient data in the logs.
            if row.status == "sent":
                sent += 1
            else:
                failed += 1
                log.warning("outbox row %s not sent (attempt %s)", row.pk, row.attempts)
        heartbeat.stopped(name)
        self.stdout.write(f"worker stopped: {sent} sent, {failed} not sent")


def run_ticks(ticks: list[jobs.Job]) -> None:
    """Run each job; one that fails is logged (its name and error type only) and the others still run."""
    for job in ticks:
        try:
            job.run()
        except Exception as exc:  # noqa: BLE001 - the worker must keep sending
            log.error("worker job %s failed: %s", job.name, type(exc).__name__)


def run_senders(worker: str) -> bool:
    """Give each registered sender one turn; one that fails is logged (its name and error type) and skipped."""
    busy = False
    for send in jobs.senders():
        try:
            busy = send(worker) or busy
        except Exception as exc:  # noqa: BLE001 - the worker must keep sending
            log.error("worker sender failed: %s", type(exc).__name__)
    return busy


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _nap(seconds: float, stopping: dict[str, bool]) -> None:
    """Sleep in short steps so a stop request or the parent's end is noticed within half a second."""
    deadline = time.monotonic() + seconds
    while not stopping["now"] and time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
