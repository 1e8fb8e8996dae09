"""The MLLP listener: asyncio, many connections at once, one message at a time per connection (order kept).

MLLP (HL7 v2.5.1 appendix C, "Minimal Lower Layer Protocol"): a message is framed by a start block 0x0B and an
end block 0x1C 0x0D. Each framed message goes to ``inbound.receive`` in a worker thread (the ORM is synchronous);
the ACK is written back only once that returned, that is after the commit. A message larger than the limit is
answered AR and skipped to its end block; a connection quiet for the idle time is closed; bytes outside a frame
are ignored. A failure on one connection never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

from kyphos.interop.hl7v2 import inbound
from kyphos.interop.hl7v2.reading import Unreadable

START = b"\x0b"
END = b"\x1c\x0d"
log = logging.getLogger("kyphos.hl7")


def frame(payload: bytes) -> bytes:
    return START + payload + END


def _receive_in_thread(payload: bytes, peer: str) -> bytes:
    # The thread keeps its database connection from one message to the next (opening one per message cost more
    # than the message's own work); one that failed is dropped, and the next message opens a fresh one.
    try:
        return inbound.receive(payload, peer)
    finally:
        if connection.errors_occurred:
            close_old_connections()


def _too_large(limit: int, peer: str) -> bytes:
    problem = Unreadable(f"The message is larger than {limit} bytes.", field=None, code="100")
    return inbound.reject(b"", peer, problem)


class Listener:
    def __init__(self, *, max_bytes: int, idle_seconds: float, threads: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        if threads is None:
            # SQLite lets one writer in at a time: threads beside it would only wait on its lock, sleeping in its
            # busy handler (p99 of seconds under load). PostgreSQL commits in parallel.
            threads = 1 if connection.vendor == "sqlite" else 4
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mllp")
        self.connections = 0

    async def _answer(self, writer: asyncio.StreamWriter, work: Callable[[], bytes]) -> None:
        ack = await asyncio.get_running_loop().run_in_executor(self.executor, work)
        writer.write(frame(ack))
        await writer.drain()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str((writer.get_extra_info("peername") or ("?",))[0])[:64]
        self.connections += 1
        buffer = b""
        skipping = False  # inside a message that was too large: drop bytes up to its end block
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), self.idle_seconds)
                except TimeoutError:
                    break
                if not chunk:
                    break
                buffer += chunk
                while True:
                    if skipping:
                        end = buffer.find(END)
                        if end < 0:
                            buffer = buffer[-1:]
                            break
                        buffer, skipping = buffer[end + 2 :], False
                        continue
                    start = buffer.find(START)
                    if start < 0:
                        buffer = b""
                        break
                    buffer = buffer[start:]
                    end = buffer.find(END)
                    if end < 0:
                        if len(buffer) > self.max_bytes + 1:
                            await self._answer(writer, lambda: _too_large(self.max_bytes, peer))
                            buffer, skipping = b"", True
                        break
                    payload, buffer = buffer[1:end], buffer[end + 2 :]
                    if len(payload) > self.max_bytes:
                        await self._answer(writer, lambda: _too_large(self.max_bytes, peer))
                        continue
                    await self._answer(writer, lambda p=payload: _receive_in_thread(p, peer))  # type: ignore[misc]
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the listener
            log.exception("MLLP connection from %s failed", peer)
        finally:
            self.connections -= 1
            writer.close()

    async def serve(self, host: str, port: int, ready: Callable[[int], None] | None = None) -> None:
        server = await asyncio.start_server(self.handle, host, port)
        bound = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready(int(bound))
        async with server:
            await server.serve_forever()
