"""The hospital's monitoring: /healthz says whether the database answers and a worker is alive; /metrics gives
request counts and latency by view, what waits in the outbox and the HL7 queue, patient CDs by status and the
workers' heartbeats, in Prometheus's text format, only to the allowed addresses, without patient data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from kyphos import clock
from kyphos.messaging import heartbeat
from kyphos.messaging.models import WorkerBeat
from tests.accounts import sign_in

# One sample line of the exposition format: a name, optional {labels}, a number.
SAMPLE = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+(Inf)?$')


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        named = line.startswith(name + "{") or line.startswith(name + " ")
        if named and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in the metrics")


def test_healthz_follows_the_workers_heartbeat(db: Any, settings: Any) -> None:
    client = Client()
    never = client.get("/healthz")
    assert never.status_code == 503 and never.content == b"worker: never heard from\n"
    started = clock.current()
    heartbeat.beat("ward-host:4242", started)
    assert client.get("/healthz").status_code == 200
    with time_machine.travel(started + timedelta(seconds=300)):
        stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.content.startswith(b"worker: last heard from 300 s ago")
    heartbeat.stopped("ward-host:4242")
    assert client.get("/healthz").status_code == 503
    settings.KYPHOS_HEALTH_WORKER = False  # kyphos serve --no-worker
    assert client.get("/healthz").content == b"ok"


def test_the_worker_beats_while_it_runs_and_says_when_it_stops(db: Any) -> None:
    call_command("worker", "--once")
    (beat,) = WorkerBeat.objects.all()
    assert beat.stopped_at is not None and beat.beat_at >= beat.started_at
    assert heartbeat.workers().alive == 0


def test_metrics_count_requests_queues_and_workers_in_prometheus_format(people: dict[str, Any], make_case: Any) -> None:
    case = make_case("scheduled")
    heartbeat.beat("ward-host:1", clock.current())
    nurse = sign_in(Client(), people["nurse"])
    for _ in range(3):
        assert nurse.get(f"/cases/{case.uuid}/").status_code == 200
    assert nurse.get("/cases/00000000-0000-4000-8000-000000000000/").status_code == 404
    before = Client().get("/metrics")
    assert before.status_code == 200 and before["Content-Type"].startswith("text/plain; version=0.0.4")
    text = before.content.decode()
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line
    seen = metric(text, "kyphos_http_requests_total", view="case_detail", method="GET", status="2xx")
    assert seen >= 3 and metric(text, "kyphos_http_requests_total", view="case_detail", status="4xx") >= 1
    assert metric(text, "kyphos_http_request_duration_seconds_bucket", view="case_detail", le="+Inf") >= 4
    assert metric(text, "kyphos_workers_alive") == 1 and 0 <= metric(text, "kyphos_worker_last_beat_seconds") < 5
    assert metric(text, "kyphos_outbox_messages", status="pending") >= 0
    nurse.get(f"/cases/{case.uuid}/")
    after = Client().get("/metrics").content.decode()
    assert metric(after, "kyphos_http_requests_total", view="case_detail", method="GET", status="2xx") == seen + 1
    # Counts and ages only: the patient's name and MRN are nowhere in it.
    assert case.patient.family_name not in after and case.patient.mrn not in after


@pytest.mark.parametrize("allow,address,status", [("", "10.1.2.3", 404), ("10.0.0.0/8", "10.1.2.3", 200)])
def test_metrics_are_read_only_from_the_allowed_addresses(
    db: Any, settings: Any, allow: str, address: str, status: int
) -> None:
    if allow:
        settings.KYPHOS_METRICS_ALLOW = allow
    assert Client(REMOTE_ADDR=address).get("/metrics").status_code == status
