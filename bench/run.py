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
GOALS = {"worklist_nurse": 100.0, "case_page": 60.0, "case_list_name_search": 100.0}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=int(os.environ.get("KYPHOS_BENCH_CASES", 1_000_000)))
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="kyphos-bench-") as tmp:
        workdir = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        base_env["KYPHOS_VAR_DIR"] = str(workdir)
        if "sqlite" in args.backends:
            env = dict(base_env, KYPHOS_SQLITE=str(workdir / "bench.sqlite3"))
            results.append(run_backend("sqlite", env, args.cases, args.repeat, workdir))
        if "postgresql" in args.backends:
            bindir = find_bin()
            if bindir is None:
                print("postgresql: not installed, skipped (apt-get install postgresql)", file=sys.stderr)
            else:
                # Durable settings (fsync on): the audit write of every request commits for real.
                server = Server(bindir, durable=True)
                url = server.start()
                try:
                    subprocess.run(
                        [
                            "psql",
                            "-q",
                            "-h",
                            "127.0.0.1",
                            "-p",
                            str(server.port),
                            "-U",
                            "postgres",
                            "-c",
                            "CREATE DATABASE kyphos",
                        ],
                        check=True,
                    )
                    results.append(
                        run_backend("postgresql", dict(base_env, DATABASE_URL=url), args.cases, args.repeat, workdir)
                    )
                finally:
                    server.stop()

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
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
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
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
