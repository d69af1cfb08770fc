"""One process of SSE clients: opens its share of streams and timestamps every event.

Runs in a child process (``multiprocessing`` spawn): a single asyncio loop can
read a few thousand idle streams, and several processes spread the parsing
over both cores like independent clients would.
"""

from __future__ import annotations

import array
import asyncio
import re
import resource
import ssl
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

STREAM_PATH = "/api/v1/agent/cash-out/stream"
_BET_ID = re.compile(rb'"bet_id":\s*(\d+)')


@dataclass
class Job:
    host: str
    port: int
    tokens: list[str]
    connect_timeout_s: float
    max_connecting: int = 64
    # A proxy's certificate to trust: the streams then go over TLS, as through nginx.
    tls_ca: str | None = None


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Client:
    def __init__(self, received: array.array[int]) -> None:
        self.received = received
        self.ok = False
        self.error: str | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(
        self, job: Job, token: str, tls: ssl.SSLContext | None
    ) -> asyncio.StreamReader | None:
        try:
            reader, self.writer = await asyncio.open_connection(job.host, job.port, ssl=tls)
            self.writer.write(
                f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {job.host}:{job.port}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), job.connect_timeout_s)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:  # ssl.SSLError too
            self.error = type(exc).__name__
            return None
        status = head.split(b" ", 2)[1]
        if status != b"200":
            self.error = f"HTTP {status.decode()}"
            return None
        self.ok = True
        return reader

    async def read(self, reader: asyncio.StreamReader) -> None:
        tail = b""
        try:
            while data := await reader.read(65536):
                now = time.monotonic_ns()
                data = tail + data
                cut = data.rfind(b"\n") + 1
                tail = data[cut:]
                for match in _BET_ID.finditer(data, 0, cut):
                    self.received.append(int(match.group(1)))
                    self.received.append(now)
        except OSError:
            pass

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _main(job: Job, pipe: Pipe) -> None:
    received: array.array[int] = array.array("q")
    gate = asyncio.Semaphore(job.max_connecting)
    clients = [Client(received) for _ in job.tokens]
    tls = ssl.create_default_context(cafile=job.tls_ca) if job.tls_ca else None
    readers: list[asyncio.Task[None]] = []

    async def start(client: Client, token: str) -> None:
        async with gate:
            reader = await client.open(job, token, tls)
        if reader is not None:
            readers.append(asyncio.create_task(client.read(reader)))

    await asyncio.gather(*(start(c, t) for c, t in zip(clients, job.tokens, strict=True)))
    errors: dict[str, int] = {}
    for c in clients:
        if c.error:
            errors[c.error] = errors.get(c.error, 0) + 1
    pipe.send(("connected", sum(c.ok for c in clients), errors))
    # Wait for the parent's "stop" without blocking the loop that reads the streams.
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    for c in clients:
        c.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    pipe.send(("received", received.tobytes()))


def main(job: Job, pipe: Pipe) -> None:
    run_worker(_main(job, pipe), pipe)


def run_worker(work: Coroutine[Any, Any, None], pipe: Pipe) -> None:
    """A client process's body: ``work`` on its own event loop, any failure sent to the parent."""
    raise_fd_limit()
    try:
        asyncio.run(work)
    except Exception as exc:  # reported to the parent, which fails the run
        pipe.send(("error", repr(exc)))
    finally:
        pipe.close()


def decode(payload: Any) -> list[tuple[int, int]]:
    values = array.array("q")
    values.frombytes(payload)
    return list(zip(values[0::2], values[1::2], strict=True))
