"""The outbox sends each message once, records failures per row and goes on; the worker stops on SIGTERM."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail

from kyphos import clock
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.errors import InvalidInput, Refused
from kyphos.messaging import outbox
from kyphos.messaging.gateways import FileSmsGateway
from kyphos.messaging.models import OutboxMessage
from tests.accounts import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any, tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.KYPHOS_SMS_DIR = str(tmp_path / "sms")


def test_a_message_is_queued_once_per_case_purpose_and_channel(make_case: Any) -> None:
    case = make_case()
    first, created = outbox.enqueue(case, "booking", "email", to="ada@example.org", body="Hello")
    again, created_again = outbox.enqueue(case, "booking", "email", to="ada@example.org", body="Hello")
    assert created and not created_again and first.pk == again.pk
    outbox.enqueue(case, "booking", "sms", to="+15550100", body="Hello")
    assert OutboxMessage.objects.count() == 2


def test_it_sends_each_due_message_once(make_case: Any) -> None:
    case = make_case()
    outbox.enqueue(case, "booking", "email", to="ada@example.org", subject="Your booking", body="See you")
    outbox.enqueue(
        case,
        "reminder",
        "email",
        to="ada@example.org",
        body="Tomorrow",
        due_at=clock.current() + timedelta(days=1),
    )
    assert outbox.process_one().status == "sent"
    assert outbox.process_one() is None  # the reminder is not due yet
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Your booking"
    assert mail.outbox[0].extra_headers["Message-ID"].endswith("@kyphos>")


def test_a_patient_without_a_phone_does_not_stop_the_others(make_case: Any, tmp_path: Path) -> None:
    no_phone, with_phone = make_case(), make_case()
    outbox.enqueue(no_phone, "reminder", "sms", to="", body="Tomorrow 08:00")
    outbox.enqueue(with_phone, "reminder", "sms", to="+15550123", body="Tomorrow 09:00")
    first, second = outbox.process_one(), outbox.process_one()
    assert first.status == "failed" and "No text message address" in first.last_error
    assert second.status == "sent"
    assert list(outbox.not_sent()) == [first]
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 1


def test_a_gateway_error_is_retried_then_reported(make_case: Any, settings: Any) -> None:
    settings.KYPHOS_SMS_GATEWAY = "tests.messaging.test_outbox.BrokenGateway"
    case = make_case()
    outbox.enqueue(case, "reminder", "sms", to="+15550123", body="Tomorrow")
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        with time_machine.travel(clock.now() + attempt * outbox.RETRY_AFTER * 2):
            row = outbox.process_one()
        assert row is not None and row.attempts == attempt
    assert row.status == "failed" and "gateway down" in row.last_error


class BrokenGateway:
    def send(self, to: str, body: str, key: str) -> None:
        raise ConnectionError("gateway down")


def test_a_worker_that_died_mid_send_is_taken_over_after_the_lease(make_case: Any, tmp_path: Path) -> None:
    case = make_case()
    outbox.enqueue(case, "reminder", "sms", to="+15550123", body="Tomorrow")
    claimed = outbox.claim_next("worker-that-dies")
    assert claimed is not None and outbox.claim_next("other") is None  # held while the lease runs
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(minutes=1)):
        row = outbox.process_one("other")
    assert row.status == "sent" and row.attempts == 2
    # The gateway files by key: the repeat replaced, not duplicated, the message.
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 1


def test_file_gateway_writes_atomically(tmp_path: Path) -> None:
    FileSmsGateway(tmp_path).send("+1555", "Hello", "k1")
    FileSmsGateway(tmp_path).send("+1555", "Hello", "k1")
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].read_text().startswith("To: +1555")


def test_the_worker_command_stops_on_sigterm(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        KYPHOS_SQLITE=str(tmp_path / "w.sqlite3"),
        KYPHOS_VAR_DIR=str(tmp_path),
        KYPHOS_SECRET_KEY="x",
    )
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "kyphos", "migrate", "-v0"], env=env, check=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None and worker.stdout.readline().startswith("worker started")  # ready for signals
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=10)
    assert worker.returncode == 0 and "worker stopped: 0 sent, 0 not sent" in out


def test_the_worker_ends_with_its_parent(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        KYPHOS_SQLITE=str(tmp_path / "w.sqlite3"),
        KYPHOS_VAR_DIR=str(tmp_path),
        KYPHOS_SECRET_KEY="x",
    )
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "kyphos", "migrate", "-v0"], env=env, check=True)
    parent = subprocess.Popen(["sleep", "1"])
    worker = subprocess.Popen(
        [sys.executable, "-m", "kyphos", "worker", "--exit-with", str(parent.pid)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    parent.wait()
    out, _ = worker.communicate(timeout=15)
    assert worker.returncode == 0 and "worker stopped" in out


def test_staff_correct_the_address_and_send_again(make_case: Any, people: dict[str, Any], tmp_path: Path) -> None:
    from django.test import Client

    case = make_case()
    outbox.enqueue(case, "reminder", "sms", to="", body="Tomorrow 08:00")
    row = outbox.process_one()
    nurse = Client()
    sign_in(nurse, people["nurse"])
    page = nurse.get("/messages/not-sent/").content.decode()
    assert "No text message address" in page and "TESTWOMAN, Ada" in page
    assert Client().get("/messages/not-sent/").status_code == 302  # sign-in first
    outsider = Client()
    sign_in(outsider, people["outsider"])
    assert outsider.get("/messages/not-sent/").status_code == 403
    old_phone = case.patient.phone_mobile
    nurse.post("/messages/not-sent/", {"row": row.pk, "to": "+1 212 555 0142"})
    assert outbox.process_one().status == "sent"
    assert "Every message went out" in nurse.get("/messages/not-sent/").content.decode()
    retried = AuditEntry.objects.filter(
        action=AuditAction.UPDATE, object_type="outbox", detail="message sent again by sms to +12125550142"
    )
    assert retried.count() == 1
    case.patient.refresh_from_db()
    assert case.patient.phone_mobile == "+12125550142"  # the corrected number is the patient's from now on
    assert AuditEntry.objects.filter(
        object_type="patient", detail=f"mobile phone changed from {old_phone} to +12125550142"
    ).exists()
    with pytest.raises(Refused, match="did not go out"):  # a sent message is not sent again
        outbox.retry(Actor(people["nurse"]), OutboxMessage.objects.get(pk=row.pk))
    assert retried.count() == 1


def test_a_crash_after_sending_but_before_the_commit_repeats_with_the_same_key(
    make_case: Any, tmp_path: Path, settings: Any
) -> None:
    case = make_case()
    outbox.enqueue(case, "reminder", "sms", to="+15550123", body="Tomorrow")
    outbox.enqueue(case, "reminder", "email", to="ada@example.org", body="Tomorrow")
    for _ in range(2):
        row = outbox.claim_next("worker-that-dies")
        outbox.deliver(row)  # sent … and the process dies before it records "sent"
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(minutes=1)):
        assert outbox.process_one("other").status == "sent"
        assert outbox.process_one("other").status == "sent"
    # The text gateway keeps one message per key; the two e-mails carry one Message-ID, which mail clients
    # and servers treat as the same message.
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 1
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 1 and len(mail.outbox) == 2


def test_two_workers_at_once_send_each_message_once(transactional_db: Any, make_case: Any, tmp_path: Path) -> None:
    import threading

    from django.db import connection

    from kyphos.messaging import reminders

    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; this runs in the PostgreSQL pass of make test")
    case = make_case("scheduled")
    for n in range(40):
        outbox.enqueue(case, f"purpose-{n}", "sms", to="+15550123", body=f"Message {n}")
    handled: dict[str, list[int]] = {"a": [], "b": []}
    derived: list[int] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            start.wait()
            derived.append(reminders.derive())
            while (row := outbox.process_one(name)) is not None:
                handled[name].append(row.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in handled]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = handled["a"] + handled["b"]
    assert len(sent) == len(set(sent)) == 41  # 40 queued + one booking confirmation derived once
    assert sorted(derived) == [0, 1]
    assert handled["a"] and handled["b"]  # both did share the work
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert len(list((tmp_path / "sms").glob("*.txt"))) == 41


class _Provider:
    """A stand-in SMS provider on loopback that records what it was sent and answers with a chosen status."""

    def __init__(self, status: int) -> None:
        import http.server
        import threading

        self.requests: list[dict[str, Any]] = []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                import json

                length = int(self.headers["Content-Length"])
                provider.requests.append({"headers": dict(self.headers), "json": json.loads(self.rfile.read(length))})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status,outcome", [(202, "sent"), (500, "pending"), (401, "pending")])
def test_the_http_sms_gateway(make_case: Any, settings: Any, status: int, outcome: str) -> None:
    provider = _Provider(status)
    try:
        settings.KYPHOS_SMS_GATEWAY = "kyphos.messaging.gateways.HttpSmsGateway"
        settings.KYPHOS_SMS_URL, settings.KYPHOS_SMS_TOKEN = provider.url, "secret-token"
        case = make_case()
        outbox.enqueue(case, "reminder", "sms", to="+15550123", body="Tomorrow 08:00")
        row = outbox.process_one()
    finally:
        provider.close()
    assert row.status == outcome
    (sent,) = provider.requests
    assert sent["json"]["to"] == "+15550123" and sent["json"]["body"] == "Tomorrow 08:00"
    assert sent["headers"]["Authorization"] == "Bearer secret-token"
    assert sent["headers"]["Idempotency-Key"] == sent["json"]["reference"]
    if outcome != "sent":
        assert row.last_error == f"DeliveryError: The SMS gateway answered HTTP {status}."


@pytest.mark.parametrize("persona", ["manager", "anesthesia"])
def test_only_staff_who_contact_patients_send_again(make_case: Any, people: dict[str, Any], persona: str) -> None:
    from django.test import Client

    case = make_case()
    outbox.enqueue(case, "reminder", "sms", to="", body="Tomorrow 08:00")
    row = outbox.process_one()
    client = Client()
    sign_in(client, people[persona])
    page = client.get("/messages/not-sent/").content.decode()
    assert "TESTWOMAN, Ada" in page and 'name="to"' not in page
    assert client.post("/messages/not-sent/", {"row": row.pk, "to": "someone@example.org"}).status_code == 403
    assert OutboxMessage.objects.get(pk=row.pk).status == "failed"


@pytest.mark.parametrize(
    "channel,typed,message",
    [
        ("sms", "someone@example.org", "international form"),
        ("sms", "555-0142", "international form"),
        ("email", "+12125550142", "Enter an e-mail address"),
    ],
)
def test_the_address_must_fit_the_channel(
    make_case: Any, people: dict[str, Any], channel: str, typed: str, message: str
) -> None:
    case = make_case()
    outbox.enqueue(case, "reminder", channel, to="", body="Tomorrow 08:00")
    row = outbox.process_one()
    with pytest.raises(InvalidInput, match=message):
        outbox.retry(Actor(people["nurse"]), row, typed)
    row.refresh_from_db()
    case.patient.refresh_from_db()
    assert row.status == "failed" and row.to_address == ""
    assert typed not in (case.patient.phone_mobile, case.patient.email)
