"""Run the test suite against a real PostgreSQL started on loopback for the run, then stop it.

``python -m tests.pgrun [pytest args]``. Without PostgreSQL's binaries the run is skipped with a message,
except under ``CI=true``, where it fails (the Makefile installs Debian's ``postgresql``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def find_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(found[0]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A throwaway PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path, durable: bool = False) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="kyphos-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.durable = durable
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options, "start")
        return f"postgres://postgres@127.0.0.1:{self.port}/kyphos"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def main(argv: list[str]) -> int:
    bindir = find_bin()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql): the PostgreSQL run is skipped."
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAIL: {message}", file=sys.stderr)
            return 1
        print(f"SKIP: {message}", file=sys.stderr)
        return 0
    server = Server(bindir)
    url = server.start()
    try:
        env = dict(os.environ, DATABASE_URL=url)
        print(f"PostgreSQL test server on 127.0.0.1:{server.port}", flush=True)
        return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
