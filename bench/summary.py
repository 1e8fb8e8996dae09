"""Write ``bench/README.md``: the last figures of ``make bench`` (results.json) and ``make scale-test`` (scale.json)
as tables a person reads, each beside its floor and its goal, with the machine they were measured on.

``python -m bench.summary``; ``make bench`` and ``make scale-test`` run it at their end.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PAGES = {
    "worklist_nurse": "nurse's worklist (50 due + 50 upcoming)",
    "case_list_site_stage": "case list, one site and stage",
    "case_list_site_closed": "case list, one site, closed",
    "case_page": "one case page",
    "case_list_name_search": "name search (6 kinds)",
    "dashboard_site_year_cold": "dashboard, 12 months, one site, cache emptied",
    "dashboard_all_sites_year_cold": "dashboard, 12 months, every site, cache emptied",
    "dashboard_site_year": "dashboard, 12 months, one site, from its cache",
    "dashboard_all_sites_year": "dashboard, 12 months, every site, from its cache",
    "fhir_read_patient": "FHIR read Patient",
    "fhir_read_service_request": "FHIR read ServiceRequest",
    "fhir_search_page": "FHIR search, 50-entry page",
}


def machine() -> dict[str, str]:
    """What the figures were measured on (this machine: the summary is written where the bench ran)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    postgres = "not installed"
    try:
        from tests.pgrun import find_bin

        bindir = find_bin()
        if bindir is not None:
            postgres = subprocess.run(
                [str(Path(bindir) / "postgres"), "--version"], capture_output=True, text=True, check=False
            ).stdout.strip()
    except (OSError, ImportError):
        pass
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores (shared by the database, the server and the load)",
        "memory": memory,
        "system": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": f"{postgres} (durable defaults: each commit is an fsync)",
    }


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}×" if floor else "—"


def pages(report: dict[str, Any]) -> list[str]:
    goals = report.get("goals_p95_ms", {})
    lines = [
        "| page | backend | p50 ms | p95 ms | SQL floor p50 | p50 ÷ floor | queries | p95 goal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in PAGES.items():
        for result in report.get("results", []):
            found = result["pages"].get(name)
            if found is None:
                continue
            goal = goals.get(name)
            mark = "" if goal is None else (f"{goal:g} ✓" if found["p95_ms"] <= goal else f"{goal:g} **over**")
            lines.append(
                f"| {label} | {result['backend']} | {found['p50_ms']} | {found['p95_ms']} | "
                f"{found['sql_floor_p50_ms']} | {_ratio(found['p50_ms'], found['sql_floor_p50_ms'])} | "
                f"{found['queries_per_request']} | {mark} |"
            )
    return lines


def render(report: dict[str, Any], scale: dict[str, Any]) -> str:
    out = [
        "# Bench figures",
        "",
        "Written by `python -m bench.summary` from `results.json` (`make bench`) and `scale.json` "
        "(`make scale-test`); do not edit by hand. How each figure is taken: the README's *Speed* section.",
        "",
        "## The machine",
        "",
    ]
    out += [f"- {key}: {value}" for key, value in machine().items()]
    out += ["", f"## Pages and APIs (measured {report.get('measured_at', '?')})", ""]
    for result in report.get("results", []):
        rows = ", ".join(f"{name} {n:,}" for name, n in result.get("rows", {}).items())
        out.append(f"- {result['backend']}: {result['cases']:,} cases built in {result['build_seconds']} s ({rows})")
    out += ["", *pages(report), ""]
    out += ["Whole requests through Django's test client in-process (middleware, sign-in, audit write, rendering); "]
    out[-1] += "the SQL floor is the same statements replayed alone in one transaction."
    extra = []
    for result in report.get("results", []):
        backend = result["backend"]
        if refresh := result.get("dashboard_refresh"):
            extra.append(
                f"- Dashboard cache, {backend}: one change to a recent case → {refresh['months_recomputed']} of "
                f"{refresh['months_kept']} kept site-months recomputed in {refresh['seconds']} s."
            )
        if registry := result.get("registry_export"):
            extra.append(
                f"- Registry export (a year, every site, de-identified, every patient audited), {backend}: "
                f"**{registry['rows_per_s']:,} rows/s** over {registry['rows']:,} rows (goal "
                f"{registry['goal_rows_per_s']:,}; writing the same bytes: {registry['write_floor_rows_per_s']:,} "
                f"rows/s); memory growth {registry['peak_rss_growth_mb']} MB."
            )
        if export := result.get("fhir_export"):
            extra.append(
                f"- FHIR `$export`, {backend}: **{export['resources_per_s']:,} resources/s** over "
                f"{export['resources']:,} (goal {export['goal_per_s']:,}; JSON-and-write floor "
                f"{export['serialisation_floor_per_s']:,}/s); memory growth {export['peak_rss_growth_mb']} MB."
            )
    if extra:
        out += ["", "## Dashboard cache, registry export, FHIR export", "", *extra]
    hl7 = report.get("hl7_ingest", {})
    if hl7.get("runs"):
        out += ["", f"## HL7 v2 ingest (measured {hl7.get('measured_at', '?')})", "", hl7.get("what", ""), ""]
        out += ["| backend | messages/s | goal | parse floor/s | ACK p99 at 100/s | goal |"]
        out += ["| --- | --- | --- | --- | --- | --- |"]
        for run in hl7["runs"]:
            out.append(
                f"| {run['backend']} | {run['ingest_per_s']} | {run['goals']['ingest_per_s']} | "
                f"{run['parse_floor_per_s']} | {run['paced_p99_ms']} ms | {run['goals']['paced_p99_ms']} ms |"
            )
    outbox = report.get("outbox_kill9", {})
    if outbox.get("runs"):
        out += ["", f"## Messages to patients under kill -9 (measured {outbox.get('measured_at', '?')})", ""]
        out += [outbox.get("what", ""), "", "| backend | workers | kills | channel | messages | lost | twice |"]
        out += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for run in outbox["runs"]:
            for channel, figures in run["channels"].items():
                out.append(
                    f"| {run['backend']} | {run['workers']} | {run['kills']} | {channel} | {figures['messages']} | "
                    f"{figures['lost']} | {figures['handed_over_twice_or_more']} |"
                )
    imaging = report.get("outside_imaging", {}).get("run")
    if imaging:
        out += ["", f"## Outside imaging (measured {report['outside_imaging'].get('measured_at', '?')})", ""]
        out += [
            f"- {imaging['images']:,}-image CD ({imaging['disc_mb']} MB): import by DICOMDIR "
            f"{imaging['import_vs_raw']['dicomdir']}× and file by file {imaging['import_vs_raw']['scan']}× "
            f"pydicom's raw read ({imaging['raw_read_s']} s); goal ≤ {imaging['goals']['import_vs_raw']}×.",
            f"- C-STORE to Orthanc {imaging.get('cstore_per_s', '—')} images/s (pynetdicom alone "
            f"{imaging.get('cstore_floor_per_s', '—')}/s); Kyphos's own storage {imaging['keep_per_s']}/s.",
        ]
    runs = scale.get("runs", [])
    if runs:
        out += ["", "## Several processes under load (`make scale-test`)", ""]
        out += [
            "| staff sessions | patients | seconds | staff requests/s | staff p50 | staff p95 | patient requests/s | "
            "patient p95 | diary entries saved (in the database) | server errors | unanswered | HL7 ACKed | "
            "messages lost / twice | measured |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for run in runs:
            patients = run.get("patients", {})
            errors = run["server_errors"] + patients.get("server_errors", 0)
            failed = run["failed"] + patients.get("failed", 0)
            out.append(
                f"| {run['sessions']} | {patients.get('patients', 0)} | {run['seconds']} | {run['requests_per_s']} | "
                f"{run['p50_ms']} ms | {run['p95_ms']} ms | {patients.get('requests_per_s', '—')} | "
                f"{patients.get('p95_ms', '—')} ms | {patients.get('diary_entries_answered_saved', '—')} "
                f"({patients.get('diary_entries_in_the_database', '—')}) | {errors} | {failed} | "
                f"{run['hl7']['acknowledged_aa']} of {run['hl7']['sent']} | {run['outbox']['lost']} / "
                f"{run['outbox']['handed_over_twice']} | {run.get('measured_at', '?')} |"
            )
    return "\n".join(out) + "\n"


def load_scale(path: Path) -> dict[str, Any]:
    """scale.json: ``{"runs": [...]}`` (an older file held one run)."""
    if not path.exists():
        return {"runs": []}
    data = json.loads(path.read_text())
    return data if "runs" in data else {"runs": [data]}


def main() -> None:
    report = json.loads((HERE / "results.json").read_text()) if (HERE / "results.json").exists() else {}
    (HERE / "README.md").write_text(render(report, load_scale(HERE / "scale.json")))
    print(f"written to {HERE / 'README.md'}")


if __name__ == "__main__":
    main()
