"""The body of one live stream, written straight to ASGI ``send()``.

Litestar's ``Stream`` response runs a task group per response (a task that
drives the body and one that listens for the client's disconnect); with
10,000 open streams that alone was ~10 KiB each. Here the request's own task
writes the frames and one small task waits for the disconnect, which ends
the subscription so that the writer wakes up and leaves at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from litestar.types import Receive, Scope, Send

from app import events
from app.events import Event
from app.metrics import Metrics
from app.subscriptions import Subscription

RETRY_MILLISECONDS = 3000
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    # Proxies and caches must pass each frame on as it comes.
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
CLIENT_GONE = "the client went away"


class EventStream:
    """An ASGI app: ``retry:``, then a reset or the replay and the live events."""

    __slots__ = ("_last_sent", "_metrics", "_problem", "_replay", "_sub")

    def __init__(
        self,
        sub: Subscription,
        replay: Sequence[Event],
        last_sent: int,
        problem: str | None,
        metrics: Metrics,
    ) -> None:
        self._sub = sub
        self._replay = replay
        self._last_sent = last_sent
        self._problem = problem
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = self._sub
        watcher = asyncio.ensure_future(_wait_for_disconnect(receive, sub))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await self._body(send)
            if sub.ended != CLIENT_GONE:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            sub.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _body(self, send: Send) -> None:
        sub = self._sub
        retry = events.retry_frame(RETRY_MILLISECONDS)
        if self._problem is not None:
            await _write(send, retry + events.reset_frame(self._problem))
            return
        replay, self._replay = self._replay, ()
        await _write(send, retry + self._frames(replay))
        while True:
            batch = await sub.take()
            if sub.ended is not None:
                break
            if not batch:
                await _write(send, events.PING_FRAME)
                continue
            body = self._frames(batch)
            if body:
                await _write(send, body)
        if sub.ended != CLIENT_GONE:
            # Cut off or shutting down: ending the stream makes EventSource
            # reconnect with Last-Event-ID, and the replay fills the gap.
            await _write(send, events.comment_frame(sub.ended))

    def _frames(self, batch: Sequence[Event]) -> bytes:
        """The frames of the events not sent yet (replay and live may overlap)."""
        frames = []
        for event in batch:
            if event.seq <= self._last_sent:
                continue
            self._last_sent = event.seq
            if event.frame is not None:
                frames.append(event.frame)
        if frames:
            self._metrics.events_delivered.inc(len(frames))
        return b"".join(frames)


async def _write(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _wait_for_disconnect(receive: Receive, sub: Subscription) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    sub.end(CLIENT_GONE)
