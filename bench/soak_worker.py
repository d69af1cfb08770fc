"""One process of the soak's SSE clients: each holds its stream for the whole run, some are
dropped and reconnect with ``Last-Event-ID`` as EventSource does, and every cash-out each
client receives is kept, so that the parent can check it arrived exactly once. The
parent's side and the protocol: bench/soak_clients.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any

from bench.sse_worker import STREAM_PATH, run_worker

_BET_ID = re.compile(rb'"bet_id":\s*(\d+)')
# What the server's frames end with (its encoder writes CRLF line ends).
_BLANK_LINE = b"\r\n\r\n"


@dataclass
class Job:
    host: str
    port: int
    clients: list[tuple[int, str]]  # (agent id, bearer token), one per stream
    churn_per_s: float
    reconnect_delay_s: float
    seed: int
    connect_timeout_s: float = 120.0
    max_connecting: int = 64


@dataclass
class Counts:
    drops: int = 0  # disconnects made by the churn
    server_closed: int = 0  # streams the server ended
    resets: int = 0  # `event: reset` received: a resume the server refused
    failures: Counter[str] = field(default_factory=Counter)  # failed opens, by kind


class Body:
    """HTTP/1.1 chunked transfer decoding, then the SSE events split at their blank line."""

    def __init__(self, chunked: bool) -> None:
        self.chunked = chunked
        self.raw = b""
        self.text = b""
        self.size = -1

    def feed(self, data: bytes) -> list[bytes]:
        if not self.chunked:
            self.text += data
        else:
            self.raw += data
            while True:
                if self.size < 0:
                    end = self.raw.find(b"\r\n")
                    if end < 0:
                        break
                    self.size = int(self.raw[:end].split(b";", 1)[0], 16)
                    self.raw = self.raw[end + 2 :]
                if len(self.raw) < self.size + 2:
                    break
                self.text += self.raw[: self.size]
                self.raw, self.size = self.raw[self.size + 2 :], -1
        *events, self.text = self.text.split(_BLANK_LINE)
        return events


class Client:
    def __init__(self, agent_id: int, token: str) -> None:
        self.agent_id, self.token = agent_id, token
        self.received: set[int] = set()
        self.duplicates = 0
        self.last_id: str | None = None  # as EventSource keeps it across reconnects
        self.writer: asyncio.StreamWriter | None = None
        self.connected = False
        self.dropping = False

    async def live(self, job: Job, gate: asyncio.Semaphore, counts: Counts) -> None:
        """Open, read until the stream ends, wait as EventSource does, reopen; for ever."""
        while True:
            async with gate:
                opened = await self._open(job, counts)
            if opened is not None:
                self.connected = True
                await self._read(*opened, counts)
                self.connected = False
                if not self.dropping:
                    counts.server_closed += 1
                self.dropping = False
            # EventSource waits its reconnection time (the server's `retry:`) first.
            await asyncio.sleep(job.reconnect_delay_s)

    async def _open(self, job: Job, counts: Counts) -> tuple[asyncio.StreamReader, Body] | None:
        head = (
            f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {job.host}:{job.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n"
        )
        if self.last_id is not None:
            head += f"Last-Event-ID: {self.last_id}\r\n"
        try:
            reader, self.writer = await asyncio.open_connection(job.host, job.port)
            self.writer.write(head.encode() + b"\r\n")
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), job.connect_timeout_s)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            counts.failures[type(exc).__name__] += 1
            self.close()
            return None
        status = answer.split(b" ", 2)[1]
        if status != b"200":
            counts.failures[f"HTTP {status.decode()}"] += 1
            self.close()
            return None
        return reader, Body(b"transfer-encoding: chunked" in answer.lower())

    async def _read(self, reader: asyncio.StreamReader, body: Body, counts: Counts) -> None:
        try:
            while data := await reader.read(65536):
                for event in body.feed(data):
                    self._dispatch(event, counts)
        except OSError:
            pass
        finally:
            self.close()

    def _dispatch(self, event: bytes, counts: Counts) -> None:
        kind = data = b""
        for line in event.split(b"\r\n"):
            name, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if name == b"id":
                self.last_id = value.decode()
            elif name == b"event":
                kind = value
            elif name == b"data":
                data = value
        if kind == b"cash_out":
            match = _BET_ID.search(data)
            bet_id = int(match.group(1)) if match else -1
            if bet_id in self.received:
                self.duplicates += 1
            self.received.add(bet_id)
        elif kind == b"reset":
            counts.resets += 1

    def drop(self) -> None:
        self.dropping = True
        self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _churn(job: Job, clients: list[Client], counts: Counts) -> None:
    """Drop `churn_per_s` streams a second, each one that has an id to resume from: a
    client without one would reconnect from "now", as EventSource does, by design."""
    rng = random.Random(job.seed)
    due = time.monotonic()
    while True:
        due += 1.0 / job.churn_per_s
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        for _ in range(50):
            client = rng.choice(clients)
            if client.connected and not client.dropping and client.last_id is not None:
                client.drop()
                counts.drops += 1
                break


def _tally(clients: list[Client], expected: dict[int, set[int]], counts: Counts) -> dict[str, Any]:
    missing = unexpected = 0
    for c in clients:
        want = expected.get(c.agent_id, set())
        missing += len(want - c.received)
        unexpected += len(c.received - want)
    return {
        "connected": sum(c.connected for c in clients),
        "received": sum(len(c.received) + c.duplicates for c in clients),
        "duplicated": sum(c.duplicates for c in clients),
        "missing": missing,
        # Only meaningful at the finish, when `expected` holds every commit.
        "unexpected": unexpected,
        "drops": counts.drops,
        "server_closed": counts.server_closed,
        "resets": counts.resets,
        "failures": dict(counts.failures),
    }


def _settled(clients: list[Client], expected: dict[int, set[int]]) -> bool:
    """Every client back, with every cash-out of its agent."""
    return all(c.connected and expected[c.agent_id] <= c.received for c in clients)


async def _until(done: Callable[[], bool], seconds: float, step: float) -> None:
    """Until `done()` or `seconds` pass: a condition over thousands of clients, polled."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while not done():  # noqa: ASYNC110 (no single event says it)
                await asyncio.sleep(step)


async def _main(job: Job, pipe: Pipe) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(job.max_connecting)
    counts = Counts()
    clients = [Client(agent_id, token) for agent_id, token in job.clients]
    lives = [asyncio.create_task(c.live(job, gate, counts)) for c in clients]
    await _until(lambda: all(c.connected for c in clients), job.connect_timeout_s, 0.1)
    pipe.send(("connected", sum(c.connected for c in clients), dict(counts.failures)))
    expected: dict[int, set[int]] = defaultdict(set)
    churn: asyncio.Task[None] | None = None
    while True:
        # Wait for the parent without blocking the loop that reads the streams.
        msg = await loop.run_in_executor(None, pipe.recv)
        if msg[0] == "go" and job.churn_per_s > 0:
            churn = asyncio.create_task(_churn(job, clients, counts))
        elif msg[0] in ("expect", "finish"):
            for agent_id, bet_id in msg[1]:
                expected[agent_id].add(bet_id)
            started = time.monotonic()
            if msg[0] == "finish":
                if churn is not None:
                    churn.cancel()
                await _until(lambda: _settled(clients, expected), msg[2], 0.5)
            stats = _tally(clients, expected, counts)
            pipe.send(("stats", stats | {"settle_s": round(time.monotonic() - started, 1)}))
        elif msg[0] == "stop":
            break
    for c in clients:
        c.close()
    for task in [*lives, *([churn] if churn else [])]:
        task.cancel()
    await asyncio.gather(*lives, return_exceptions=True)


def main(job: Job, pipe: Pipe) -> None:
    run_worker(_main(job, pipe), pipe)
