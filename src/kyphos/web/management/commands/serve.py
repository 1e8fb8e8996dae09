"""``kyphos serve [--demo] [--host 127.0.0.1] [--port 8000]``: migrate and serve.

Demo mode (``--demo``, what ``make run`` starts) loads the demo department into an empty database, prints its
published sign-ins and the demo patients' links, and serves on loopback only. Without it, Kyphos is started for
real: it creates no user and no data, prints no secret and no link, and refuses to start on settings a security
review would fail (Django's deployment checks: debug on, a weak secret key, no allowed hosts; and, behind TLS,
every HTTPS setting)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from waitress import serve

from kyphos.commands import KyphosCommand
from kyphos.demo import department as demo
from kyphos.web import files
from kyphos.wsgi import application

log = logging.getLogger("kyphos.serve")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Deployment checks that stop a real start whatever the transport: DEBUG on, a weak SECRET_KEY, no ALLOWED_HOSTS.
ALWAYS_REFUSED = {"security.W018", "security.W009", "security.W020"}
# HSTS preloading is a commitment a hospital makes with the browsers' lists, not a setting of ours.
NOT_REFUSED = {"security.W021"}


def unsafe_settings() -> list[str]:
    """The deployment checks a real start refuses, as one line each (HTTPS ones only when served behind TLS)."""
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    behind_tls = settings.KYPHOS_HTTPS
    return [
        f"{item.id}: {' '.join(str(item.msg).split())}"
        for item in found
        if item.id in ALWAYS_REFUSED or (behind_tls and item.is_serious(checks.WARNING) and item.id not in NOT_REFUSED)
    ]


def adopt_base_url(url: str) -> str:
    """Links in messages point where the service is reached: the served address, unless KYPHOS_BASE_URL says
    otherwise (behind a proxy). Set for this process and for the worker it starts."""
    chosen = os.environ.get("KYPHOS_BASE_URL") or url
    os.environ["KYPHOS_BASE_URL"] = chosen
    settings.KYPHOS_BASE_URL = chosen.rstrip("/")
    return settings.KYPHOS_BASE_URL


class Command(KyphosCommand):
    help = "Prepare the database and serve Kyphos: the web, the outbox worker and the HL7 v2 listener."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--demo",
            action="store_true",
            help="demo mode: load the demo department into an empty database and print its sign-ins (loopback only)",
        )
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="do not start the outbox worker beside the web")
        parser.add_argument("--mllp-port", type=int, default=2575, help="the HL7 v2 listener's port (default 2575)")
        parser.add_argument("--no-mllp", action="store_true", help="do not start the HL7 v2 listener beside the web")

    def handle(self, *args: Any, **options: Any) -> None:
        demo_mode = options["demo"]
        if demo_mode and options["host"] not in LOOPBACK:
            raise CommandError(
                f"demo mode serves on loopback only (127.0.0.1, ::1 or localhost), not {options['host']}: its "
                "passwords are published."
            )
        if not demo_mode:
            refused = unsafe_settings()
            if refused:
                raise CommandError("refusing to start for real with unsafe settings: " + " | ".join(refused))
        tightened = files.tighten(Path(settings.VAR_DIR))
        if tightened:
            self.stdout.write(f"Made {tightened} files and folders under the var folder readable by their owner only.")
        call_command("migrate", interactive=False, verbosity=0)
        url = f"http://{options['host']}:{options['port']}"
        adopt_base_url(url)
        if demo_mode:
            if not demo.is_empty() and not demo.is_demo():
                raise CommandError(
                    "demo mode serves a demo database only: this one holds data that was not loaded as the demo "
                    "(serve it without --demo, or point KYPHOS_VAR_DIR at another folder)"
                )
            if demo.is_empty():
                self.stdout.write("Empty database: loading the demo department…")
                demo.load_demo()
            self.stdout.write(
                self.style.WARNING("DEMO MODE: made-up patients and published passwords, on loopback only.")
            )
            for line in demo.sign_in_lines():
                self.stdout.write(line)
            self.stdout.write("Demo patients' own pages (no sign-in):")
            for label, link in demo.patient_pages(url):
                self.stdout.write(f"  {label}: {link}")
        elif not User.objects.exists():
            self.stdout.write("No user yet: create the first administrator with `kyphos createsuperuser`.")
        if not settings.KYPHOS_HTTPS and not demo_mode:
            self.stdout.write(
                self.style.WARNING(
                    "Served over plain HTTP: put Kyphos behind TLS and set KYPHOS_HTTPS=1 (secure cookies, HSTS)."
                )
            )
        self.stdout.write(self.style.SUCCESS(f"Kyphos is serving on {url}  (Ctrl-C stops it)"))
        # The outbox worker runs as its own process beside the web server and stops with it: SIGTERM becomes a
        # normal exit so the `finally` below runs (Ctrl-C already does).
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        helpers: list[subprocess.Popen[bytes]] = []
        if options["no_worker"]:
            settings.KYPHOS_HEALTH_WORKER = False  # /healthz: no worker is expected beside this server
        else:
            # A fixed argument list (this interpreter, our own command, our own pid): no outside input.
            worker = subprocess.Popen([sys.executable, "-m", "kyphos", "worker", "--exit-with", str(os.getpid())])  # noqa: S603
            helpers.append(worker)
            self.stdout.write(f"Outbox worker started (pid {worker.pid}); mail and texts go to var/mail and var/sms.")
        if not options["no_mllp"]:
            listener = subprocess.Popen(  # noqa: S603 - our own command, the host and port already checked
                [sys.executable, "-m", "kyphos", "mllp", "--host", options["host"], "--port", str(options["mllp_port"])]
            )
            helpers.append(listener)
            self.stdout.write(
                f"HL7 v2 listener started on {options['host']}:{options['mllp_port']} (MLLP; pid {listener.pid})."
            )
        try:
            serve(
                application,
                host=options["host"],
                port=options["port"],
                threads=options["threads"],
                ident="kyphos",
                clear_untrusted_proxy_headers=True,
                **(
                    {
                        "trusted_proxy": settings.KYPHOS_TRUSTED_PROXY,
                        "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
                    }
                    if settings.KYPHOS_HTTPS
                    else {}
                ),
            )
        finally:
            for helper in helpers:
                helper.terminate()
            for helper in helpers:
                helper.wait(timeout=10)
