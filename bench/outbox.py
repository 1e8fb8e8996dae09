"""The outbox under ``kill -9``: queue messages, run workers, kill them at random moments, restart them, until
every message has gone; then count what was lost and what was handed to a gateway more than once.

``python -m bench.outbox --messages 1000 --workers 1 --out FILE`` against the database the environment names
(``KYPHOS_SQLITE`` or ``DATABASE_URL``; ``bench.run`` runs it on both). The gateways here are the provider's side:
each call is appended to a log before it returns, as a provider records a request it accepted. A message handed
over twice is what a provider that cannot deduplicate would deliver twice; the HTTP SMS gateway sends the same
``Idempotency-Key`` and e-mails the same ``Message-ID`` on a repeat, so a provider that honours them delivers once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

PURPOSE = "new_link"
OCCURRENCE = "bench-{n}"
# A provider's answer takes a moment: the window in which a kill leaves a message handed over but not marked sent.
PROVIDER_MS = 4


def _calls_log() -> Path:
    return Path(os.environ["KYPHOS_VAR_DIR"]) / "gateway-calls.log"


def _record(channel: str, key: str) -> None:
    time.sleep(PROVIDER_MS / 1000)
    with _calls_log().open("a", encoding="utf-8") as log:
        log.write(f"{channel} {key}\n")


class CountingSmsGateway:
    def send(self, to: str, body: str, key: str) -> None:
        _record("sms", key)


class CountingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            _record("email", message.extra_headers["Message-ID"])
        return len(email_messages)


def seed(messages: int) -> list[tuple[str, str]]:
    """Load the demo department and queue ``messages`` due now; return (channel, the key the gateway sees)."""
    from kyphos.demo import department
    from kyphos.messaging import outbox
    from kyphos.messaging.gateways import _safe
    from kyphos.pathway.models import Case

    department.load_demo()
    cases = list(Case.objects.select_related("patient").order_by("id"))
    expected = []
    for n in range(messages):
        case = cases[n % len(cases)]
        channel = "sms" if n % 2 == 0 else "email"
        to = "+12125550100" if channel == "sms" else "patient@example.org"
        row, _new = outbox.enqueue(
            case, PURPOSE, channel, to=to, body="Your new link.", subject="Link", occurrence=OCCURRENCE.format(n=n)
        )
        expected.append((channel, row.key if channel == "sms" else f"<{_safe(row.key)}@kyphos>"))
    return expected


def remaining() -> int:
    from kyphos.messaging.models import OutboxMessage

    return OutboxMessage.objects.filter(
        purpose=PURPOSE, status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
    ).count()


def start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    """A worker, returned once it says it has started (a kill during start-up would test nothing)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "worker", "--interval", "0.2", "--derive-every", "100000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert worker.stdout is not None
    worker.stdout.readline()  # "worker started (pid …)"
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("KYPHOS_SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
    lease = 2
    env = dict(
        os.environ,
        KYPHOS_SMS_GATEWAY="bench.outbox.CountingSmsGateway",
        KYPHOS_EMAIL_BACKEND="bench.outbox.CountingEmailBackend",
        KYPHOS_OUTBOX_LEASE_SECONDS=str(lease),
        PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]),
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    expected = seed(args.messages)
    connection.close()
    _calls_log().unlink(missing_ok=True)

    rng = random.Random(args.seed)
    workers = [start_worker(env) for _ in range(args.workers)]
    kills = 0
    started = time.monotonic()
    try:
        while remaining():
            time.sleep(rng.uniform(0.05, 1.0))
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = start_worker(env)
            if time.monotonic() - started > 1800:
                raise SystemExit("the outbox did not drain in 30 minutes")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    elapsed = time.monotonic() - started

    calls = Counter(tuple(line.split(" ", 1)) for line in _calls_log().read_text().splitlines())
    by_channel: dict[str, dict[str, int]] = {}
    for channel, key in expected:
        figures = by_channel.setdefault(channel, {"messages": 0, "lost": 0, "handed_over_twice_or_more": 0})
        figures["messages"] += 1
        seen = calls.get((channel, key), 0)
        figures["lost"] += seen == 0
        figures["handed_over_twice_or_more"] += seen > 1
    result = {
        "backend": connection.vendor,
        "workers": args.workers,
        "kills": kills,
        "seconds": round(elapsed, 1),
        "lease_seconds": lease,
        "channels": by_channel,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
