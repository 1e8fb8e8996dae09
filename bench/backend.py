"""One backend's benchmark, run in its own process (settings read DATABASE_URL at start-up).

``python -m bench.backend --cases N --out FILE`` with DATABASE_URL set (unset: a SQLite file from KYPHOS_SQLITE).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
os.environ.setdefault("KYPHOS_SECRET_KEY", "bench-only-secret")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.build import build_registry  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Recorder:
    """Collects (sql, params) of every statement a request runs, to replay them alone as the floor."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, bool]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # Transaction control is replayed by the replay's own transaction.
        if not sql.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")):
            self.statements.append((sql, params, many))
        return execute(sql, params, many, context)


def replay(statements: list[tuple[str, Any, bool]]) -> float:
    """Run the same statements in one transaction, as the page does, and fetch every row."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params, many in statements:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
    return time.perf_counter() - started


def measure(
    client: Client, urls: list[str], repeat: int, warmup: int = 10, before: Callable[[], object] | None = None
) -> dict[str, Any]:
    """Time ``repeat`` requests of ``urls`` in turn (after ``warmup`` untimed ones), each beside the replay of its
    statements; ``before`` runs untimed ahead of each timed request (emptying a cache, for instance)."""
    for url in urls[:warmup]:
        assert client.get(url).status_code == 200, url
    server, floor, queries = [], [], []
    for i in range(repeat):
        url = urls[i % len(urls)]
        if before is not None:
            before()
        recorder = Recorder()
        with connection.execute_wrapper(recorder):
            started = time.perf_counter()
            response = client.get(url)
            server.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        if before is not None:
            before()  # the replay writes what the request wrote
        floor.append(replay(recorder.statements))
        queries.append(len(recorder.statements))
    ms = 1000.0
    return {
        "requests": repeat,
        "p50_ms": round(percentile(server, 0.5) * ms, 2),
        "p95_ms": round(percentile(server, 0.95) * ms, 2),
        "sql_floor_p50_ms": round(percentile(floor, 0.5) * ms, 2),
        "sql_floor_p95_ms": round(percentile(floor, 0.95) * ms, 2),
        "queries_per_request": round(statistics.mean(queries), 1),
    }


def dashboard_pages(client: Client, now: datetime, repeat: int) -> dict[str, Any]:
    """The manager's dashboard for twelve whole months, at one site and at every site: cold (its cache emptied
    before each request, so every site's months are computed from the records) and from its cache."""
    from kyphos.reports import cache
    from kyphos.reports.models import MonthFigures
    from kyphos.scheduling.models import Site

    def empty() -> None:
        MonthFigures.objects.all().delete()

    hosp = Site.objects.get(code="HOSP").pk
    today = now.date()
    year = f"start={cache.twelve_months_to(today)}&end={today}"
    one, every = f"/dashboard/?site={hosp}&{year}", f"/dashboard/?{year}"
    cold = max(3, repeat // 40)  # the slowest page: fewer repeats
    return {
        "dashboard_site_year_cold": measure(client, [one], cold, 0, before=empty),
        "dashboard_all_sites_year_cold": measure(client, [every], cold, 0, before=empty),
        "dashboard_site_year": measure(client, [one], repeat, 1),
        "dashboard_all_sites_year": measure(client, [every], repeat, 1),
    }


def dashboard_refresh(now: datetime, cases: int) -> dict[str, Any]:
    """One change to a recent case, then the worker's refresh pass: how long, how many months recomputed (the rest
    of the kept months stay as they were)."""
    from kyphos.audit import services as audit
    from kyphos.audit.actor import Actor
    from kyphos.audit.models import AuditAction
    from kyphos.pathway.models import Case
    from kyphos.reports import cache
    from kyphos.reports.models import MonthFigures

    cache.refresh()  # reads the changes the build made: nothing kept before them
    recent = Case.objects.filter(referral_date__gte=(now - timedelta(days=20)).date()).order_by("id").first()
    assert recent is not None
    audit.record(Actor.system("bench"), AuditAction.UPDATE, "case", recent.uuid, patient_uuid=recent.patient.uuid)
    started = time.perf_counter()
    recomputed = cache.refresh()
    seconds = time.perf_counter() - started
    return {
        "months_kept": MonthFigures.objects.count(),
        "months_recomputed": recomputed,
        "seconds": round(seconds, 3),
        "what": f"one audited change to a case referred in the last 20 days, then one refresh pass (cases {cases:,})",
    }


def registry_export(now: datetime) -> dict[str, Any]:
    """``kyphos export registry`` for the last year at every site, de-identified, as the command does it (every
    patient audited): rows per second (cases and levels) and resident-memory growth, beside the floor of writing
    the same bytes to a file."""
    import tempfile
    from pathlib import Path

    from kyphos.audit.actor import Actor
    from kyphos.reports.figures import Period
    from kyphos.reports.registry import Export

    export = Export(Period(None, (now - timedelta(days=364)).date(), now.date()), deidentified=True)
    actor = Actor.system("bench")
    rss_before, rss_most = rss_mb(), 0.0

    def progress(done: int) -> None:
        nonlocal rss_most
        rss_most = max(rss_most, rss_mb())

    with tempfile.TemporaryDirectory(prefix="kyphos-registry-") as folder:
        cases_path, levels_path = Path(folder, "cases.csv"), Path(folder, "levels.csv")
        started = time.perf_counter()
        with open(cases_path, "w", newline="") as cases, open(levels_path, "w", newline="") as levels:
            written = export.write(cases, levels, actor, progress=progress)
        seconds = time.perf_counter() - started
        data = cases_path.read_bytes() + levels_path.read_bytes()
        rows = data.count(b"\n") - 2  # less the two header lines
        floor_started = time.perf_counter()
        with open(Path(folder, "again.csv"), "wb") as again:
            again.write(data)
            again.flush()
            os.fsync(again.fileno())
        floor_seconds = time.perf_counter() - floor_started
    return {
        "cases": written,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds, 1) if seconds else 0,
        "write_floor_rows_per_s": round(rows / floor_seconds, 1) if floor_seconds else 0,
        "peak_rss_growth_mb": round(rss_most - rss_before, 1),
        "goal_rows_per_s": 50000,
    }


def fhir_client() -> Client:
    """A FHIR API client of every site with read scopes on everything, and its bearer token."""
    from kyphos.audit.actor import Actor
    from kyphos.interop.fhir import clients

    actor = Actor.system("bench")
    client = clients.create_client(actor, "bench", "system/*.rs", ["manager"], [], {"keys": []})
    return Client(HTTP_AUTHORIZATION=f"Bearer {clients.issue_script_token(actor, client, 1)}")


def fhir_pages(case_ids: list[int], repeat: int) -> dict[str, Any]:
    """Reads of single resources and 50-entry search pages through the whole API (token, scope, audit)."""
    from kyphos.pathway.models import Case

    api = fhir_client()
    cases = list(Case.objects.filter(id__in=case_ids).values_list("uuid", "patient__uuid"))
    return {
        "fhir_read_patient": measure(api, [f"/fhir/Patient/{p}" for _c, p in cases], repeat),
        "fhir_read_service_request": measure(api, [f"/fhir/ServiceRequest/{c}" for c, _p in cases], repeat),
        "fhir_search_page": measure(
            api,
            [
                "/fhir/ServiceRequest?status=active&_count=50",
                "/fhir/Patient?family=garc&_count=50",
                "/fhir/Condition?body-site=L1&_count=50",
                f"/fhir/Condition?patient=Patient/{cases[0][1]}",
            ],
            repeat,
        ),
    }


def rss_mb() -> float:
    """The process's resident memory now (Linux), not its peak: the peak would include building the registry."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fhir_export(limit: int) -> dict[str, Any]:
    """A system $export of Patient and ServiceRequest through the worker's slices, stopped after ``limit``
    resources: resources/s end to end (query, mapping, JSON, file, audit) and memory growth (resident memory after
    the largest slice against before the first), beside the floor of writing the same resources' JSON to a file."""
    import tempfile

    from django.conf import settings

    from kyphos.interop.fhir import bulk, kinds
    from kyphos.interop.models import ApiClient, BulkExport

    settings.KYPHOS_FHIR_EXPORT_DIR = tempfile.mkdtemp(prefix="kyphos-export-")
    export = BulkExport.objects.create(
        client=ApiClient.objects.get(name="bench"),
        request_url="bench",
        level="system",
        types=["Patient", "ServiceRequest"],
        transaction_time=datetime.now(UTC),
        state={"index": 0, "after": None, "sizes": {}, "counts": {}},
    )
    rss_before, rss_most = rss_mb(), 0.0
    started, written = time.perf_counter(), 0
    while written < limit:
        export.refresh_from_db()
        if export.status == BulkExport.Status.COMPLETE:
            break
        bulk.run_slice(export)
        export.refresh_from_db()
        written = sum(export.state.get("counts", {}).values())
        rss_most = max(rss_most, rss_mb())
    seconds = time.perf_counter() - started
    # The floor: the same kinds of resources already built, only turned into JSON lines and written.
    rows = list(kinds.REGISTRY["Patient"].visible(ApiClient.objects.get(name="bench").user).order_by("pk")[:20000])
    sample = kinds.REGISTRY["Patient"].serve(rows)
    floor_started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        for item in sample:
            out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    floor = len(sample) / (time.perf_counter() - floor_started)
    return {
        "resources": written,
        "seconds": round(seconds, 1),
        "resources_per_s": round(written / seconds, 1) if seconds else 0,
        "serialisation_floor_per_s": round(floor, 1),
        "peak_rss_growth_mb": round(rss_most - rss_before, 1),
        "goal_per_s": 20000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    setup_test_environment()  # lets the test client run outside pytest
    call_command("migrate", interactive=False, verbosity=0)
    from tests.accounts import sign_in

    from kyphos.demo.department import create_sites

    create_sites_result = create_sites()
    nurse = User.objects.create_user("bench_nurse", password="x")
    nurse.groups.add(Group.objects.get_or_create(name="nurse")[0])
    manager = User.objects.create_user("bench_manager", password="x")
    manager.groups.add(Group.objects.get_or_create(name="manager")[0])
    for each_site in create_sites_result:
        each_site.staff.add(nurse, manager)  # they work at every site: no site filter on their pages

    now = datetime.now(UTC)
    started = time.perf_counter()
    counts = build_registry(args.cases, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    build_seconds = time.perf_counter() - started
    print(f"  {connection.vendor}: built {counts} in {build_seconds:.0f} s", flush=True)

    from kyphos.pathway.models import Case, Task

    due_now = Task.objects.filter(status="open", role="nurse", due_start__lte=now).count()
    rng = random.Random(5)
    case_ids = [rng.randint(1, args.cases) for _ in range(args.repeat)]
    case_urls = [f"/cases/{u}/" for u in Case.objects.filter(id__in=case_ids).values_list("uuid", flat=True)]

    nurse_client, manager_client = Client(), Client()
    sign_in(nurse_client, nurse)
    sign_in(manager_client, manager)  # with the second factor a manager's role needs
    pages = {
        "worklist_nurse": measure(nurse_client, ["/"], args.repeat),
        "case_list_site_stage": measure(
            manager_client,
            ["/cases/?site=HOSP&stage=scheduled", "/cases/?site=ASC&stage=scheduled"],
            args.repeat,
        ),
        "case_list_site_closed": measure(
            manager_client, ["/cases/?site=HOSP&stage=closed", "/cases/?site=ASC&stage=closed"], args.repeat
        ),
        "case_page": measure(nurse_client, case_urls, args.repeat),
        # Name search: accent- and case-blind prefixes, rare and common names, family and given, an MRN.
        "case_list_name_search": measure(
            manager_client,
            [
                "/cases/?text=munoz",
                "/cases/?text=MU%C3%91OZ%2C+an",
                "/cases/?text=garc",
                "/cases/?text=Marfordley",
                "/cases/?text=nguyen%2C+thi",
                "/cases/?text=B00012345",
            ],
            args.repeat,
        ),
    }
    pages.update(dashboard_pages(manager_client, now, args.repeat))
    pages.update(fhir_pages(case_ids, args.repeat))
    refresh = dashboard_refresh(now, args.cases)
    registry = registry_export(now)
    export = fhir_export(min(200_000, 2 * args.cases))
    result = {
        "backend": connection.vendor,
        "cases": args.cases,
        "rows": counts,
        "nurse_calls_due_now": due_now,
        "build_seconds": round(build_seconds, 1),
        "pages": pages,
        "fhir_export": export,
        "dashboard_refresh": refresh,
        "registry_export": registry,
    }
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
