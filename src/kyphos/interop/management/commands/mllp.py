"""``kyphos mllp [--host 127.0.0.1] [--port 2575] [--processes N]``: the HL7 v2 listener (MLLP over TCP).

Each message is stored with its outcome and its ACK before the ACK is sent (ACK after commit). Stops on SIGTERM
or Ctrl-C. A demo database is served on loopback only (its data is made up and its passwords published).

On PostgreSQL the listener runs as several processes on one socket (one per CPU by default): each connection is
served by one of them, so the order of its messages is kept, and the messages of different senders are processed
in parallel. A process that dies is replaced; if the supervising process is killed, the Linux kernel ends the
others too (PR_SET_PDEATHSIG), so a restart finds the port free. SQLite lets one writer in at a time: one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection, connections

from kyphos.commands import KyphosCommand, bounded_int
from kyphos.interop.hl7v2.listener import Listener

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
log = logging.getLogger("kyphos.hl7")


class Command(KyphosCommand):
    help = "Listen for HL7 v2 messages over MLLP (ACK after commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=bounded_int(0, 65535, "port"), default=2575)
        parser.add_argument(
            "--processes",
            type=bounded_int(0, 64, "processes"),
            default=0,
            help="processes serving the port (default: one per CPU on PostgreSQL, one on SQLite)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"]
        # The demo room's mark, read by name: the interfaces room imports no demo code.
        if host not in LOOPBACK and apps.get_model("demo", "DemoMark").objects.exists():
            raise CommandError(f"a demo database is served on loopback only, not {host}")
        processes = options["processes"] or (1 if connection.vendor == "sqlite" else (os.cpu_count() or 1))
        if processes > 1:
            self._supervise(host, options["port"], processes)
            return
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

    def _supervise(self, host: str, port: int, processes: int) -> None:
        # Each process listens on its own socket of one SO_REUSEPORT group: the kernel spreads the connections over
        # them (one socket shared by all would let the fastest process accept every connection). This one only
        # holds the port, bound but not listening, so it is never given a connection.
        try:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        bound = sock.getsockname()[1]
        connections.close_all()  # each process opens its own
        children: set[int] = set()
        stopping = {"now": False}

        def stop(signum: int, frame: Any) -> None:
            stopping["now"] = True
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        ready_read, ready_write = os.pipe()
        for _ in range(processes):
            children.add(_fork_server(host, bound, ready_write))
        with os.fdopen(ready_read, "rb") as started:  # each process says when it listens
            os.close(ready_write)
            started.read(processes)
        self.stdout.write(f"MLLP listener on {host}:{bound} (HL7 v2; ACK after commit; {processes} processes)")
        self.stdout.flush()
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            children.discard(pid)
            if not stopping["now"]:
                log.warning("MLLP process %s ended; starting another", pid)
                children.add(_fork_server(host, bound, None))
        sock.close()
        self.stdout.write("MLLP listener stopped")


def _fork_server(host: str, port: int, ready: int | None) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        listener = Listener(max_bytes=settings.KYPHOS_HL7_MAX_BYTES, idle_seconds=settings.KYPHOS_HL7_IDLE_SECONDS)

        async def serve() -> None:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            assert task is not None
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
            server = await asyncio.start_server(listener.handle, host, port, reuse_port=True, backlog=128)
            if ready is not None:
                os.write(ready, b".")
                os.close(ready)
            async with server:
                with contextlib.suppress(asyncio.CancelledError):
                    await server.serve_forever()

        asyncio.run(serve())
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
        log.exception("MLLP process failed")
        code = 1
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    """Ask Linux to end this process when its parent ends, even by SIGKILL (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
