"""A small Server-Sent-Events client for the tests: httpx streaming plus a parser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

STREAM = "/api/v1/agent/cash-out/stream"


@dataclass
class Message:
    event: str = "message"
    id: str | None = None
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


class SSE:
    """Reads one stream; every wait has a timeout and fails when it passes."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.ended = False

    async def next(self, timeout: float = 10) -> Message | None:
        """The next message (comments and retry included), or None at the end."""
        async with asyncio.timeout(timeout):
            msg, seen = Message(), False
            data: list[str] = []
            async for line in self._lines:
                if line == "":
                    if seen:
                        msg.data = "\n".join(data)
                        return msg
                    continue
                seen = True
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    msg.comments.append(value)
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    msg.id = value
                elif name == "event":
                    msg.event = value
                elif name == "retry":
                    msg.retry = int(value)
            self.ended = True
            return None

    async def events(self, count: int, timeout: float = 15) -> list[Message]:
        """The next ``count`` cash_out events, skipping pings; fails on anything else."""
        found: list[Message] = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                msg = await self.next(timeout)
                assert msg is not None, f"stream ended after {len(found)} of {count} events"
                if msg.event == "cash_out" and not msg.comments:
                    found.append(msg)
                elif msg.data or msg.event != "message":
                    raise AssertionError(f"unexpected message {msg}")
        return found

    async def until(self, predicate: Callable[[Message], bool], timeout: float = 10) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.next(timeout)
                assert msg is not None, "stream ended"
                if predicate(msg):
                    return msg


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    token: str | None,
    last_event_id: str | None = None,
    query: str | None = None,
    expect_status: int = 200,
) -> AsyncIterator[SSE]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {"last_event_id": query} if query is not None else None
    async with client.stream("GET", STREAM, headers=headers, params=params) as response:
        if response.status_code != expect_status:
            await response.aread()
            raise AssertionError(f"status {response.status_code}: {response.text}")
        sse = SSE(response)
        if expect_status == 200:
            first = await sse.next()
            assert first is not None and first.retry is not None, "retry: must come first"
        yield sse
