"""``make bench``: build the synthetic registry on SQLite and on PostgreSQL and time the busiest pages.

Prints the figures and writes them to bench/results.json. ``python -m bench.run --cases 1000000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.pgrun import Server, find_bin

HERE = Path(__file__).resolve().parent
GOALS = {
    "worklist_nurse": 100.0,
    "case_page": 60.0,
    "case_list_name_search": 100.0,
    "fhir_read_patient": 50.0,
    "fhir_read_service_request": 50.0,
    "fhir_search_page": 200.0,
    # issue 17: twelve months of the dashboard, cold (its cache emptied) and from its cache
    "dashboard_site_year_cold": 500.0,
    "dashboard_all_sites_year_cold": 500.0,
    "dashboard_site_year": 100.0,
    "dashboard_all_sites_year": 100.0,
}


def run_backend(name: str, env: dict[str, str], cases: int, repeat: int, workdir: Path) -> dict[str, object]:
    out = workdir / f"{name}.json"
    print(f"{name}: building {cases:,} cases…", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.backend",
            "--cases",
            str(cases),
            "--repeat",
            str(repeat),
            "--out",
            str(out),
        ],
        env=env,
        check=True,
    )
    return dict(json.loads(out.read_text()))


def run_outbox(name: str, env: dict[str, str], messages: int, workers: int, workdir: Path) -> dict[str, object]:
    out = workdir / f"outbox-{name}.json"
    print(f"{name}: outbox under kill -9 ({messages:,} messages, {workers} worker(s))…", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.outbox",
            "--messages",
            str(messages),
            "--workers",
            str(workers),
            "--out",
            str(out),
        ],
        env=env,
        check=True,
    )
    return dict(json.loads(out.read_text()))


def run_hl7(name: str, env: dict[str, str], messages: int, workdir: Path) -> dict[str, object]:
    out = workdir / f"hl7-{name}.json"
    print(f"{name}: HL7 ingest ({messages:,} ORU messages, 4 senders)…", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bench.hl7", "--messages", str(messages), "--backend", name, "--out", str(out)],
        env=env,
        check=True,
    )
    return dict(json.loads(out.read_text()))


def run_dicom(env: dict[str, str], images: int, workdir: Path) -> dict[str, object]:
    out = workdir / "dicom.json"
    print(f"sqlite: outside imaging ({images:,}-image CD)…", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bench.dicom", "--images", str(images), "--out", str(out)], env=env, check=True
    )
    return dict(json.loads(out.read_text()))


def create_database(port: int, name: str) -> None:
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=int(os.environ.get("KYPHOS_BENCH_CASES", 1_000_000)))
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--outbox-messages", type=int, default=1000, help="messages for the kill -9 run (0: skip)")
    parser.add_argument("--hl7-messages", type=int, default=4000, help="ORU messages for the HL7 ingest run (0: skip)")
    parser.add_argument(
        "--only-hl7",
        action="store_true",
        help="run only the HL7 ingest and replace its figures in the results file",
    )
    parser.add_argument(
        "--only-outbox",
        action="store_true",
        help="run only the kill -9 outbox run and replace its figures in the results file (pages untouched)",
    )
    parser.add_argument("--dicom-images", type=int, default=2000, help="images on the CD of the import run (0: skip)")
    parser.add_argument(
        "--only-dicom",
        action="store_true",
        help="run only the outside-imaging import and replace its figures in the results file",
    )
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()

    results = []
    outbox_runs = []
    hl7_runs = []
    dicom_run: dict[str, object] = {}
    only = args.only_outbox or args.only_hl7 or args.only_dicom
    with tempfile.TemporaryDirectory(prefix="kyphos-bench-") as tmp:
        workdir = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        base_env["KYPHOS_VAR_DIR"] = str(workdir)
        if "sqlite" in args.backends:
            env = dict(base_env, KYPHOS_SQLITE=str(workdir / "bench.sqlite3"))
            if not only:
                results.append(run_backend("sqlite", env, args.cases, args.repeat, workdir))
            if args.outbox_messages and not (args.only_hl7 or args.only_dicom):
                env = dict(base_env, KYPHOS_SQLITE=str(workdir / "outbox.sqlite3"))
                outbox_runs.append(run_outbox("sqlite", env, args.outbox_messages, 1, workdir))
            if args.hl7_messages and not (args.only_outbox or args.only_dicom):
                env = dict(base_env, KYPHOS_SQLITE=str(workdir / "hl7.sqlite3"))
                hl7_runs.append(run_hl7("sqlite", env, args.hl7_messages, workdir))
            if args.dicom_images and not (args.only_outbox or args.only_hl7):
                env = dict(base_env, KYPHOS_SQLITE=str(workdir / "dicom.sqlite3"))
                dicom_run = run_dicom(env, args.dicom_images, workdir)
        if "postgresql" in args.backends and not args.only_dicom:
            bindir = find_bin()
            if bindir is None:
                print("postgresql: not installed, skipped (apt-get install postgresql)", file=sys.stderr)
            else:
                # Durable settings (fsync on): the audit write of every request commits for real.
                server = Server(bindir, durable=True)
                url = server.start()
                try:
                    if not only:
                        create_database(server.port, "kyphos")
                        results.append(
                            run_backend(
                                "postgresql", dict(base_env, DATABASE_URL=url), args.cases, args.repeat, workdir
                            )
                        )
                    if args.outbox_messages and not args.only_hl7:
                        create_database(server.port, "kyphos_outbox")
                        env = dict(base_env, DATABASE_URL=url.rsplit("/", 1)[0] + "/kyphos_outbox")
                        outbox_runs.append(run_outbox("postgresql", env, args.outbox_messages, 2, workdir))
                    if args.hl7_messages and not args.only_outbox:
                        create_database(server.port, "kyphos_hl7")
                        env = dict(base_env, DATABASE_URL=url.rsplit("/", 1)[0] + "/kyphos_hl7")
                        hl7_runs.append(run_hl7("postgresql", env, args.hl7_messages, workdir))
                finally:
                    server.stop()

    outbox_report = {
        "what": "workers killed with SIGKILL at random moments and restarted until every queued message was "
        "handed over; lost = never handed to a gateway; twice = handed over more than once (a provider that "
        "honours the Idempotency-Key / Message-ID delivers it once). Goal: 0 lost.",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": outbox_runs,
    }
    hl7_report = {
        "what": "ORU^R01 lab results (INR and platelets) from 4 concurrent MLLP senders into a kyphos mllp process, "
        "each stored, filed on an open case through labs.record_lab (audit, timeline, findings) and committed "
        "before its ACK; parse_floor = python-hl7 parsing the same messages in one process",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": hl7_runs,
    }
    dicom_report = {
        "what": "a CD copy of CT images (pydicom's CT_small, one patient, four studies) read in for a demo case "
        "(import_s: read, identity check, import and studies recorded) beside pydicom reading the same files whole "
        "(raw_read_s); then stored in Kyphos's own storage (keep_per_s) and to Orthanc by C-STORE (cstore_per_s) "
        "beside pynetdicom sending the same files with nothing recorded (cstore_floor_per_s)",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": dicom_run,
    }
    if only:
        report = json.loads(Path(args.out).read_text())
        if args.only_outbox:
            report["outbox_kill9"] = outbox_report
        if args.only_hl7:
            report["hl7_ingest"] = hl7_report
        if args.only_dicom:
            report["outside_imaging"] = dicom_report
        results = report["results"]
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "what": "server time of whole requests (middleware, session auth, audit write, rendering) via Django's "
        "test client in-process; sql_floor = the same statements replayed alone in one transaction",
        "goals_p95_ms": GOALS,
        "results": results,
        "outbox_kill9": outbox_report,
        "hl7_ingest": hl7_report,
        "outside_imaging": dicom_report,
    }
    if not only:
        # A run told to skip a part (0 messages, 0 images) keeps that part's figures from the last run.
        previous = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
        for key, skipped in (
            ("outbox_kill9", not args.outbox_messages),
            ("hl7_ingest", not args.hl7_messages),
            ("outside_imaging", not args.dicom_images),
        ):
            if skipped and key in previous:
                report[key] = previous[key]
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    if dicom_run:
        ratio = dicom_run["import_vs_raw"]
        print(
            f"Outside imaging ({dicom_run['images']} images): import {ratio} x raw pydicom read "  # type: ignore[index]
            f"({dicom_run['raw_read_s']} s; goal 1.2 x); Kyphos storage {dicom_run['keep_per_s']}/s; "
            f"C-STORE {dicom_run.get('cstore_per_s', 'not measured')}/s (goal 80; pynetdicom alone "
            f"{dicom_run.get('cstore_floor_per_s', '-')}/s)"
        )
    for run in hl7_runs:
        print(
            f"HL7 {run['backend']}: {run['ingest_per_s']} messages/s (goal {run['goals']['ingest_per_s']}; parse-only "
            f"floor {run['parse_floor_per_s']}/s); ACK p99 at 100/s {run['paced_p99_ms']} ms "
            f"(goal {run['goals']['paced_p99_ms']} ms)"
        )
    print()
    print(f"{'backend':<11} {'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8} {'SQL p95':>8} {'queries':>8}")
    for result in results:
        for page, figures in result["pages"].items():  # type: ignore[attr-defined]
            goal = GOALS.get(page)
            mark = "" if goal is None else ("  ok" if figures["p95_ms"] <= goal else f"  over {goal:.0f} ms goal")
            print(
                f"{result['backend']:<11} {page:<22} {figures['p50_ms']:>8} {figures['p95_ms']:>8} "
                f"{figures['sql_floor_p50_ms']:>8} {figures['sql_floor_p95_ms']:>8} "
                f"{figures['queries_per_request']:>8}{mark}"
            )
    for result in results:
        export = result.get("fhir_export")  # type: ignore[attr-defined]
        if export:
            print(
                f"FHIR $export {result['backend']}: {export['resources_per_s']} resources/s "
                f"over {export['resources']:,} (goal {export['goal_per_s']}; "
                f"JSON-and-write floor {export['serialisation_floor_per_s']}/s); "
                f"peak memory growth {export['peak_rss_growth_mb']} MB"
            )
    for result in results:
        registry = result.get("registry_export")  # type: ignore[attr-defined]
        if registry:
            print(
                f"registry export {result['backend']}: {registry['rows_per_s']} rows/s over {registry['rows']:,} rows "
                f"(goal {registry['goal_rows_per_s']}; write floor {registry['write_floor_rows_per_s']}/s); "
                f"peak memory growth {registry['peak_rss_growth_mb']} MB"
            )
    for result in results:
        refresh = result.get("dashboard_refresh")  # type: ignore[attr-defined]
        if refresh:
            print(
                f"dashboard refresh {result['backend']}: one change -> {refresh['months_recomputed']} of "
                f"{refresh['months_kept']} kept months recomputed in {refresh['seconds']} s"
            )
    for run in outbox_runs:
        for channel, figures in run["channels"].items():  # type: ignore[attr-defined]
            mark = "ok" if figures["lost"] == 0 else "LOST MESSAGES"
            print(
                f"outbox {run['backend']:<11} {channel:<6} {figures['messages']:>6} messages, {run['kills']:>4} kills "
                f"({run['workers']} worker(s)): {figures['lost']} lost, {figures['handed_over_twice_or_more']} "
                f"handed over twice  {mark}"
            )
    print(f"\nwritten to {args.out}")
    if Path(args.out).resolve() == (HERE / "results.json").resolve():
        from bench import summary

        summary.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
