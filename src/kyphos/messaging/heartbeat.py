"""The workers' heartbeats: written by ``kyphos worker`` as it runs, read by ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from kyphos import clock
from kyphos.messaging.models import WorkerBeat

BEAT_SECONDS = 10  # how often a worker writes its heartbeat


def stale_after() -> timedelta:
    """A worker not heard from for this long is taken as stopped or stuck (KYPHOS_WORKER_STALE_SECONDS)."""
    return timedelta(seconds=int(getattr(settings, "KYPHOS_WORKER_STALE_SECONDS", 120)))


def beat(name: str, started_at: datetime) -> None:
    now = clock.current()
    WorkerBeat.objects.update_or_create(
        name=name[:80], defaults={"beat_at": now, "started_at": started_at, "stopped_at": None}
    )


def stopped(name: str) -> None:
    now = clock.current()
    WorkerBeat.objects.filter(name=name[:80]).update(beat_at=now, stopped_at=now)


@dataclass(frozen=True)
class Workers:
    alive: int  # workers heard from within stale_after() and not stopped
    last_beat_age: float | None  # seconds since the newest heartbeat of any worker; None: never heard from


def workers() -> Workers:
    now = clock.current()
    running = WorkerBeat.objects.filter(stopped_at__isnull=True)
    alive = running.filter(beat_at__gte=now - stale_after()).count()
    newest = WorkerBeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    return Workers(alive, (now - newest).total_seconds() if newest else None)
