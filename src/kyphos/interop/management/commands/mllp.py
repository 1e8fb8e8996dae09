"""``kyphos mllp [--host 127.0.0.1] [--port 2575]``: the HL7 v2 listener (MLLP over TCP).

Each message is stored with its outcome and its ACK before the ACK is sent (ACK after commit). Stops on SIGTERM
or Ctrl-C. A demo database is served on loopback only (its data is made up and its passwords published)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from kyphos.commands import KyphosCommand, bounded_int
from kyphos.interop.hl7v2.listener import Listener

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Command(KyphosCommand):
    help = "Listen for HL7 v2 messages over MLLP (ACK after commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=bounded_int(0, 65535, "port"), default=2575)

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"]
        # The demo room's mark, read by name: the interfaces room imports no demo code.
        if host not in LOOPBACK and apps.get_model("demo", "DemoMark").objects.exists():
            raise CommandError(f"a demo database is served on loopback only, not {host}")
        listener = Listener(max_bytes=settings.KYPHOS_HL7_MAX_BYTES, idle_seconds=settings.KYPHOS_HL7_IDLE_SECONDS)

        def ready(port: int) -> None:
            self.stdout.write(f"MLLP listener on {host}:{port} (HL7 v2; ACK after commit)")
            self.stdout.flush()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            assert task is not None
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, task.cancel)
            try:
                await listener.serve(host, options["port"], ready)
            except asyncio.CancelledError:
                pass
            except OSError as exc:
                raise CommandError(f"cannot listen on {host}:{options['port']}: {exc.strerror}") from None

        asyncio.run(main())
        self.stdout.write("MLLP listener stopped")
