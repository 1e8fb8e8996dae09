"""``kyphos serve [--host 127.0.0.1] [--port 8000]``: migrate, load the demo if empty, and serve."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandParser
from waitress import serve

from kyphos.commands import KyphosCommand
from kyphos.demo import department as demo
from kyphos.wsgi import application

log = logging.getLogger("kyphos.serve")


def adopt_base_url(url: str) -> str:
    """Links in messages point where the service is reached: the served address, unless KYPHOS_BASE_URL says
    otherwise (behind a proxy). Set for this process and for the worker it starts."""
    chosen = os.environ.get("KYPHOS_BASE_URL") or url
    os.environ["KYPHOS_BASE_URL"] = chosen
    settings.KYPHOS_BASE_URL = chosen.rstrip("/")
    return settings.KYPHOS_BASE_URL


class Command(KyphosCommand):
    help = "Prepare the database and serve Kyphos (web; later also the worker and the HL7 listener)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo into an empty database")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="do not start the outbox worker beside the web")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"] and demo.is_empty():
            self.stdout.write("Empty database: loading the demo department…")
            demo.load_demo()
        url = f"http://{options['host']}:{options['port']}"
        adopt_base_url(url)
        if User.objects.filter(username="scheduler").exists():
            for line in demo.sign_in_lines():
                self.stdout.write(line)
            self.stdout.write("Demo patients' own pages (no sign-in):")
            for label, link in demo.patient_pages(url):
                self.stdout.write(f"  {label}: {link}")
        self.stdout.write(self.style.SUCCESS(f"Kyphos is serving on {url}  (Ctrl-C stops it)"))
        # The outbox worker runs as its own process beside the web server and stops with it: SIGTERM becomes a
        # normal exit so the `finally` below runs (Ctrl-C already does).
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        worker = None
        if not options["no_worker"]:
            # A fixed argument list (this interpreter, our own command, our own pid): no outside input.
            worker = subprocess.Popen([sys.executable, "-m", "kyphos", "worker", "--exit-with", str(os.getpid())])  # noqa: S603
            self.stdout.write(f"Outbox worker started (pid {worker.pid}); mail and texts go to var/mail and var/sms.")
        try:
            serve(
                application,
                host=options["host"],
                port=options["port"],
                threads=options["threads"],
                ident="kyphos",
                clear_untrusted_proxy_headers=True,
            )
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
