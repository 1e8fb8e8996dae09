"""``make scale-test``: Kyphos on several processes, under load, losing a web process and a worker in the middle.

Starts PostgreSQL (durable settings) on loopback, loads the demo department and queues ``--messages`` messages to
patients, then starts 3 web processes (``kyphos serve --no-worker --no-mllp``, each on its own port), 2 workers
and the HL7 v2 listener. ``--sessions`` staff sessions (signed in as the demo's scheduler, nurse, radiologist and
ward nurse) work for ``--seconds``: their worklist, a case page, and now and then a save (taking a task and giving
it back), each session on one web process and moving to the next when its process stops answering, as a proxy
would. ``--patients`` patients at home after their procedure (added to the demo) write diary entries meanwhile on
their own pages (the date-of-birth check once, then the diary form, an entry, its answer page, and a pause to
think), and two senders send ``--hl7`` lab results to the listener. Half-way, one web process and one worker are
killed with SIGKILL. Then the outbox is left to drain.

Reports requests per second, p50 and p95 latency, server errors and failed requests (a connection refused once
is retried on the next process, as a proxy retries: counted apart), HL7 messages acknowledged, and, from the
gateways' own log, messages to patients lost or handed over twice. Goal: no error the user sees, nothing lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
WEB_PROCESSES = 3
WORKERS = 2
ROLES = ("scheduler", "nurse", "radiologist", "wardnurse")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def wait_for(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a Kyphos process ended while starting ({url})")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.server_errors = 0  # a 5xx answer
        self.failed = 0  # no process answered at all
        self.failed_over = 0  # a process did not answer; the next one did
        self.cut_off = 0  # an answer cut off by the process dying (a read is asked again of the next one)
        self.refused = Counter[int]()  # 4xx: the application said no (another nurse took the task first …)

    def add(self, ms: float, status: int) -> None:
        with self.lock:
            self.latencies.append(ms)
            if status >= 500:
                self.server_errors += 1
            elif status >= 400:
                self.refused[status] += 1


class Session:
    """One person's browser: signed in once (sessions live in the database, so any web process knows it)."""

    def __init__(self, ports: list[int], start: int, username: str, password: str, results: Results) -> None:
        self.ports, self.index, self.results = ports, start, results
        self.http = requests.Session()
        self.username, self.password = username, password

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        for attempt in range(len(self.ports)):
            port = self.ports[(self.index + attempt) % len(self.ports)]
            began = time.perf_counter()
            try:
                answer = self.http.request(
                    method, f"http://127.0.0.1:{port}{path}", timeout=30, allow_redirects=False, **kwargs
                )
            except requests.ConnectionError:  # refused: the process is gone; the next one is asked, as a proxy does
                with self.results.lock:
                    self.results.failed_over += 1
                continue
            except requests.RequestException:  # the process died while it answered
                with self.results.lock:
                    self.results.cut_off += 1
                if method != "GET":
                    return None  # a save cut off half-way is not sent again blindly
                continue
            self.index = (self.index + attempt) % len(self.ports)
            self.results.add((time.perf_counter() - began) * 1000, answer.status_code)
            return answer
        with self.results.lock:
            self.results.failed += 1
        return None

    def csrf(self) -> str:
        return str(self.http.cookies.get("csrftoken", ""))

    def sign_in(self) -> None:
        self.request("GET", "/login/")
        answer = self.request(
            "POST",
            "/login/",
            data={"username": self.username, "password": self.password, "csrfmiddlewaretoken": self.csrf()},
        )
        if answer is None or answer.status_code != 302:
            raise SystemExit(f"{self.username} could not sign in")


def staff_work(session: Session, cases: list[str], tasks: list[str], until: float, rng: random.Random) -> None:
    session.sign_in()
    turn = 0
    while time.monotonic() < until:
        turn += 1
        session.request("GET", "/")
        session.request("GET", f"/cases/{rng.choice(cases)}/")
        if tasks and turn % 4 == 0:  # a save: take a task, then give it back
            task = rng.choice(tasks)
            session.request("POST", f"/tasks/{task}/claim/", data={"csrfmiddlewaretoken": session.csrf()})
            session.request("POST", f"/tasks/{task}/release/", data={"csrfmiddlewaretoken": session.csrf()})


def diary_form(flags: list[str], rng: random.Random, csrf: str) -> dict[str, str]:
    """A calm day's entry: a pain score, the recovery answers, every red-flag question answered no."""
    return {
        "pain": str(rng.randint(1, 4)),
        "pain_medicines": rng.choice(["none", "non_opioid"]),
        "walking": rng.choice(["bit_worse", "as_before"]),
        "activities": rng.choice(["bit_worse", "as_before"]),
        **{f"flag_{flag}": "no" for flag in flags},
        "admitted": "no",
        "temperature": "",
        "note": "",
        "csrfmiddlewaretoken": csrf,
    }


def patient_work(
    session: Session, path: str, born: Any, flags: list[str], until: float, rng: random.Random, saved: Counter[str]
) -> None:
    """A patient at home: through the date-of-birth check once, then an entry now and then."""
    session.request("GET", path)
    dob = {"dob_day": str(born.day), "dob_month": str(born.month), "dob_year": str(born.year), "next": path}
    session.request("POST", path, data={**dob, "csrfmiddlewaretoken": session.csrf()})
    time.sleep(rng.uniform(0, 3))  # patients do not all open their diary in the same second
    while time.monotonic() < until:
        session.request("GET", f"{path}diary/")
        answer = session.request("POST", f"{path}diary/", data=diary_form(flags, rng, session.csrf()))
        if answer is not None and answer.status_code == 302:
            saved["entries"] += 1
            session.request("GET", answer.headers["Location"])
        elif answer is not None:
            saved[f"refused {answer.status_code}"] += 1
        time.sleep(rng.uniform(2, 6))  # reading, thinking, typing


def hl7_sender(port: int, batch: list[bytes], until: float, acks: Counter[str]) -> None:
    from bench.hl7 import exchange

    pace = max(0.001, (until - time.monotonic()) / max(len(batch), 1))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        for data in batch:
            answer = exchange(conn, data)
            code = "AA" if b"MSA|AA|" in answer else "other"
            acks[code] += 1
            time.sleep(pace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--hl7", type=int, default=400)
    parser.add_argument("--patients", type=int, default=100, help="patients writing diary entries")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "scale.json"))
    args = parser.parse_args()

    sys.path.insert(0, str(HERE.parent))
    from tests.pgrun import Server, find_bin, free_port

    bindir = find_bin()
    if bindir is None:
        raise SystemExit("make scale-test needs PostgreSQL (apt-get install postgresql)")
    var = Path(tempfile.mkdtemp(prefix="kyphos-scale-"))
    server = Server(bindir, durable=True)
    url = server.start()
    processes: list[subprocess.Popen[Any]] = []
    try:
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-c", "CREATE DATABASE scale"],
            check=True,
        )
        env = dict(
            os.environ,
            DATABASE_URL=url.rsplit("/", 1)[0] + "/scale",
            KYPHOS_VAR_DIR=str(var),
            KYPHOS_SECRET_KEY="scale-test-only-" + "k" * 40,
            KYPHOS_SMS_GATEWAY="bench.outbox.CountingSmsGateway",
            KYPHOS_EMAIL_BACKEND="bench.outbox.CountingEmailBackend",
            KYPHOS_OUTBOX_LEASE_SECONDS="2",
            KYPHOS_LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
        )
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from bench.hl7 import message
        from bench.outbox import _calls_log, remaining, seed, start_worker
        from kyphos.aftercare.models import DiaryEntry
        from kyphos.audit.actor import Actor
        from kyphos.demo.department import add_recovering, demo_password
        from kyphos.messaging import links
        from kyphos.pathway.models import Case, Task, TaskStatus
        from kyphos.pathway.stages import TERMINAL
        from kyphos.rules import redflags

        call_command("migrate", interactive=False, verbosity=0)
        expected = seed(args.messages)
        print(f"scale: adding {args.patients} patients at home to write their diaries…", flush=True)
        at_home = [
            (links.path_for(links.issue(Actor.system("scale test"), case)), case.patient.date_of_birth)
            for case in add_recovering(args.patients)
        ]
        flags = list(redflags.flags())
        entries_before = DiaryEntry.objects.count()
        cases = [str(u) for u in Case.objects.values_list("uuid", flat=True)]
        tasks: dict[str, list[str]] = {}
        for uuid, role in Task.objects.filter(status=TaskStatus.OPEN).values_list("uuid", "role"):
            tasks.setdefault(role, []).append(str(uuid))
        open_cases = Case.objects.exclude(stage__in=TERMINAL)
        counts = Counter(open_cases.values_list("patient__mrn", "patient__assigning_authority"))
        patients = [key for key, n in counts.items() if n == 1]
        connection.close()
        _calls_log().unlink(missing_ok=True)

        print(f"scale: starting {WEB_PROCESSES} web processes, {WORKERS} workers and the HL7 listener…", flush=True)
        ports = [free_port() for _ in range(WEB_PROCESSES)]
        webs = []
        for port in ports:
            web = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "kyphos", "serve", "--demo", "--port", str(port), "--no-worker", "--no-mllp"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            webs.append(web)
            processes.append(web)
        for port, web in zip(ports, webs, strict=True):
            wait_for(f"http://127.0.0.1:{port}/healthz", web)
        workers = [start_worker(env) for _ in range(WORKERS)]
        processes += workers
        listener = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "kyphos", "mllp", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
        )
        processes.append(listener)
        assert listener.stdout is not None
        line = listener.stdout.readline()
        found = re.search(r":(\d+)", line)
        if found is None:
            raise SystemExit(f"the HL7 listener did not start: {line!r}")
        mllp_port = int(found.group(1))

        results, patient_results = Results(), Results()
        saved: Counter[str] = Counter()
        rng = random.Random(args.seed)
        began = time.monotonic()
        until = began + args.seconds
        threads = []
        for n in range(args.sessions):
            username = ROLES[n % len(ROLES)]
            session = Session(ports, n % len(ports), username, demo_password(username), results)
            thread_rng = random.Random(rng.random())
            role = "ward_nurse" if username == "wardnurse" else username
            work = (session, cases, tasks.get(role, []), until, thread_rng)
            threads.append(threading.Thread(target=staff_work, args=work))
        for n, (path, born) in enumerate(at_home):
            session = Session(ports, n % len(ports), "", "", patient_results)
            work = (session, path, born, flags, until, random.Random(rng.random()), saved)
            threads.append(threading.Thread(target=patient_work, args=work))
        stamp = time.strftime("%Y%m%d%H%M+0000", time.gmtime())  # with its offset: the site is elsewhere
        batch = [message(n, patients[n % len(patients)], stamp) for n in range(args.hl7)]
        acks: Counter[str] = Counter()
        for share in (batch[0::2], batch[1::2]):
            threads.append(threading.Thread(target=hl7_sender, args=(mllp_port, share, until, acks)))
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 2)
        webs[1].send_signal(signal.SIGKILL)  # half-way: one web process …
        workers[0].send_signal(signal.SIGKILL)  # … and one worker die without a word
        killed_at = round(time.monotonic() - began, 1)
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        drained = time.monotonic()
        while remaining() and time.monotonic() - drained < 300:
            time.sleep(0.5)
        calls = Counter(tuple(line.split(" ", 1)) for line in _calls_log().read_text().splitlines())
        lost = sum(1 for channel, key in expected if calls.get((channel, key), 0) == 0)
        entries_written = DiaryEntry.objects.count() - entries_before
        twice = sum(1 for channel, key in expected if calls.get((channel, key), 0) > 1)
        result = {
            "web_processes": WEB_PROCESSES,
            "workers": WORKERS,
            "sessions": args.sessions,
            "seconds": round(elapsed, 1),
            "killed_at_s": killed_at,
            "requests": len(results.latencies),
            "requests_per_s": round(len(results.latencies) / elapsed, 1),
            "p50_ms": percentile(results.latencies, 0.5),
            "p95_ms": percentile(results.latencies, 0.95),
            "server_errors": results.server_errors,
            "failed": results.failed,
            "failed_over_to_another_process": results.failed_over,
            "cut_off_in_flight": results.cut_off,
            "refused_4xx": dict(results.refused),
            "patients": {
                "patients": len(at_home),
                "requests": len(patient_results.latencies),
                "requests_per_s": round(len(patient_results.latencies) / elapsed, 1),
                "p50_ms": percentile(patient_results.latencies, 0.5),
                "p95_ms": percentile(patient_results.latencies, 0.95),
                "server_errors": patient_results.server_errors,
                "failed": patient_results.failed,
                "refused_4xx": dict(patient_results.refused),
                "diary_entries_answered_saved": saved["entries"],
                "diary_entries_in_the_database": entries_written,
                "diary_entries_refused": {k: v for k, v in saved.items() if k != "entries"},
            },
            "hl7": {"sent": len(batch), "acknowledged_aa": acks["AA"], "other": acks["other"]},
            "outbox": {"messages": len(expected), "lost": lost, "handed_over_twice": twice},
        }
        result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        from bench.summary import load_scale

        kept = load_scale(Path(args.out))  # one run per number of sessions and patients: this one replaces its own

        def key(run: dict[str, Any]) -> tuple[int, int]:
            return run["sessions"], run.get("patients", {}).get("patients", 0)

        kept["runs"] = sorted([*(r for r in kept["runs"] if key(r) != key(result)), result], key=key)
        Path(args.out).write_text(json.dumps(kept, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        if Path(args.out).resolve() == (HERE / "scale.json").resolve():
            from bench import summary

            summary.main()
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        server.stop()


if __name__ == "__main__":
    main()
