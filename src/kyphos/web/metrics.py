"""For the hospital's monitoring: ``/metrics`` in Prometheus's text format and ``/healthz``.

``/metrics`` (only from the addresses in ``KYPHOS_METRICS_ALLOW``; anyone else gets 404) gives:

- ``kyphos_http_requests_total`` and ``kyphos_http_request_duration_seconds`` by view, method and status class,
  counted by this web process since it started (Prometheus scrapes each process; ``process`` labels them);
- ``kyphos_outbox_messages`` by status and ``kyphos_outbox_oldest_due_seconds``: messages to patients waiting;
- ``kyphos_hl7_messages`` by direction and status, ``kyphos_hl7_outbound_oldest_pending_seconds``;
- ``kyphos_outside_imports`` by status (patient CDs waiting, in quarantine, failed);
- ``kyphos_workers_alive`` and ``kyphos_worker_last_beat_seconds``: the workers' heartbeats.

Counts and ages only: no patient data. Prometheus exposition format 0.0.4 ("Exposition formats", prometheus.io).

``/healthz`` answers 200 "ok" when the database answers and a worker has been heard from within
``KYPHOS_WORKER_STALE_SECONDS``; otherwise 503 with what is wrong, one line each. A server started without its
worker (``kyphos serve --no-worker``) checks the database only.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from kyphos import clock
from kyphos.interop.models import Hl7Message
from kyphos.messaging import heartbeat
from kyphos.messaging.models import OutboxMessage
from kyphos.precall.models import OutsideImport

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAITING = (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING)


class _Requests:
    """Request counts and latency histograms of this process, by (view, method, status class)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str, str], int] = {}
        self.histograms: dict[str, list[float]] = {}  # view → [bucket counts…, +Inf count, sum]

    def add(self, view: str, method: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (view, method, f"{status // 100}xx")
            self.counts[key] = self.counts.get(key, 0) + 1
            bins = self.histograms.setdefault(view, [0.0] * (len(BUCKETS) + 2))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    bins[index] += 1
            bins[len(BUCKETS)] += 1
            bins[len(BUCKETS) + 1] += seconds

    def snapshot(self) -> tuple[dict[tuple[str, str, str], int], dict[str, list[float]]]:
        with self.lock:
            return dict(self.counts), {view: list(bins) for view, bins in self.histograms.items()}


REQUESTS = _Requests()


class RequestMetricsMiddleware:
    """Times every request (first in the chain, so the whole of it) and counts it under its view's name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "unmatched"
        REQUESTS.add(view, request.method or "", response.status_code, time.perf_counter() - began)
        return response


def _allowed(request: HttpRequest) -> bool:
    address = getattr(request, "client_addr", None) or request.META.get("REMOTE_ADDR", "")
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in str(getattr(settings, "KYPHOS_METRICS_ALLOW", "127.0.0.1/32,::1/128")).split(","):
        try:
            if network.strip() and client in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _lines(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        shown = ",".join(f'{key}="{_label(text)}"' for key, text in labels.items())
        out.append(f"{name}{{{shown}}} {value:g}" if shown else f"{name} {value:g}")
    return out


def _age(moment: Any) -> float:
    return max(0.0, (clock.current() - moment).total_seconds()) if moment else 0.0


def exposition() -> str:
    process = str(os.getpid())
    counts, histograms = REQUESTS.snapshot()
    lines = _lines(
        "kyphos_http_requests_total",
        "counter",
        "Requests served by this web process, by view, method and status class.",
        [({"process": process, "view": v, "method": m, "status": s}, n) for (v, m, s), n in sorted(counts.items())],
    )
    lines += [
        "# HELP kyphos_http_request_duration_seconds Time to serve a request in this web process, by view.",
        "# TYPE kyphos_http_request_duration_seconds histogram",
    ]
    for view, bins in sorted(histograms.items()):
        base = f'process="{process}",view="{_label(view)}"'
        for bound, count in zip(BUCKETS, bins, strict=False):
            lines.append(f'kyphos_http_request_duration_seconds_bucket{{{base},le="{bound:g}"}} {count:g}')
        lines.append(f'kyphos_http_request_duration_seconds_bucket{{{base},le="+Inf"}} {bins[len(BUCKETS)]:g}')
        lines.append(f"kyphos_http_request_duration_seconds_count{{{base}}} {bins[len(BUCKETS)]:g}")
        lines.append(f"kyphos_http_request_duration_seconds_sum{{{base}}} {bins[len(BUCKETS) + 1]:.6f}")
    outbox = dict(
        OutboxMessage.objects.filter(status__in=WAITING).values_list("status").annotate(n=Count("id")).order_by()
    )
    oldest_due = OutboxMessage.objects.filter(status__in=WAITING, due_at__lte=clock.current()).aggregate(
        m=Min("due_at")
    )["m"]
    lines += _lines(
        "kyphos_outbox_messages",
        "gauge",
        "Messages to patients waiting to go or being sent.",
        [({"status": str(status)}, float(outbox.get(str(status), 0))) for status in WAITING],
    )
    lines += _lines(
        "kyphos_outbox_oldest_due_seconds",
        "gauge",
        "How long the oldest due message to a patient has been waiting (0: none).",
        [({}, _age(oldest_due))],
    )
    hl7 = Hl7Message.objects.values_list("direction", "status").annotate(n=Count("id")).order_by()
    lines += _lines(
        "kyphos_hl7_messages",
        "gauge",
        "HL7 v2 messages kept, by direction and status.",
        [({"direction": d, "status": s}, float(n)) for d, s, n in sorted(hl7)],
    )
    pending = Hl7Message.objects.filter(direction="out", status=Hl7Message.Status.PENDING).aggregate(m=Min("at"))["m"]
    lines += _lines(
        "kyphos_hl7_outbound_oldest_pending_seconds",
        "gauge",
        "How long the oldest HL7 message to the hospital has been waiting to be sent (0: none).",
        [({}, _age(pending))],
    )
    imports = OutsideImport.objects.values_list("status").annotate(n=Count("id")).order_by()
    lines += _lines(
        "kyphos_outside_imports",
        "gauge",
        "Patient CDs read in, by status (ready, quarantined, accepted, failed…).",
        [({"status": s}, float(n)) for s, n in sorted(imports)],
    )
    workers = heartbeat.workers()
    lines += _lines("kyphos_workers_alive", "gauge", "Workers heard from recently.", [({}, float(workers.alive))])
    lines += _lines(
        "kyphos_worker_last_beat_seconds",
        "gauge",
        "Seconds since the newest worker heartbeat (-1: never heard from).",
        [({}, workers.last_beat_age if workers.last_beat_age is not None else -1.0)],
    )
    return "\n".join(lines) + "\n"


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404("Not here.")
    return HttpResponse(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - whatever the database says, the answer is "not healthy"
        problems.append("database: not answering")
    if not problems and getattr(settings, "KYPHOS_HEALTH_WORKER", True):
        workers = heartbeat.workers()
        if workers.alive == 0:
            age = workers.last_beat_age
            problems.append("worker: never heard from" if age is None else f"worker: last heard from {age:.0f} s ago")
    if problems:
        return HttpResponse("\n".join(problems) + "\n", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")
