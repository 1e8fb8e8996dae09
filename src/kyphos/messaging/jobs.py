"""The worker's periodic jobs: each room registers its own when Django starts (in its ``AppConfig.ready``).

The ``kyphos worker`` command lives in messaging/, which may not import the rooms above it; a room that has work
to derive once a minute (aftercare's missed visits, for instance) registers it here instead, and the worker runs
every registered job in the order the rooms are installed. Every job must be idempotent: two workers may run it
at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]


_jobs: dict[str, Job] = {}


def register(name: str, run: Callable[[], object]) -> None:
    """Add (or replace, when Django starts twice in one process) the periodic job ``name``."""
    _jobs[name] = Job(name, run)


def registered() -> list[Job]:
    return list(_jobs.values())


_senders: dict[str, Callable[[str], bool]] = {}


def register_sender(name: str, send: Callable[[str], bool]) -> None:
    """Add a sender the worker calls on every pass (HL7 to the hospital's systems, for instance): ``send(worker)``
    sends at most one message and says whether it did anything; the worker naps only when no sender did."""
    _senders[name] = send


def senders() -> list[Callable[[str], bool]]:
    return list(_senders.values())
