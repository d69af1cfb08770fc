"""The body of one live stream, written straight to ASGI ``send()``.

Litestar's ``Stream`` response runs a task group per response (a task that
drives the body and one that listens for the client's disconnect); with
10,000 open streams that alone was ~10 KiB each. Here an idle stream holds
nothing but its request's own task, waiting in ``receive()`` for the client to
go away. Frames are written by a short-lived task, started when the
subscription has something to send and done once it is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from litestar.types import Receive, Scope, Send

from app.live import events
from app.live.events import Event
from app.live.subscription import Subscription
from app.metrics import Metrics

log = logging.getLogger(__name__)

RETRY_MILLISECONDS = 3000
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    # Proxies and caches must pass each frame on as it comes.
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]


class EventStream:
    """An ASGI app: ``retry:``, then a reset or the replay and the live events."""

    __slots__ = ("_last_sent", "_metrics", "_problem", "_replay", "_send", "_sub", "_writer")

    def __init__(
        self,
        sub: Subscription,
        replay: Sequence[Event],
        last_sent: int,
        problem: str | None,
        metrics: Metrics,
    ) -> None:
        self._sub, self._replay, self._metrics = sub, replay, metrics
        # The last seq written; what the replay and the live backlog overlap in is skipped.
        self._last_sent = last_sent
        self._problem = problem
        self._send: Send | None = None
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = self._sub
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            retry = events.retry_frame(RETRY_MILLISECONDS)
            if self._problem is not None:
                await _write(send, retry + events.reset_frame(self._problem))
                await _finish(send)
                return
            # No local keeps the replayed events: this frame lives as long as
            # the stream, and a far-behind resume replays up to 1,000 events.
            body = retry + self._frames(self._replay)
            self._replay = ()
            await _write(send, body)
            del body
            self._send = send
            sub.on_wake = self._wake
            self._wake()  # whatever arrived during the replay
            # Until the client goes away, or the writer ends the response (the
            # server then answers receive() with a disconnect as well).
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            sub.on_wake = None  # no cycle between the two left behind
            sub.close()
            if self._writer is not None:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer

    def _wake(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_due())

    async def _write_due(self) -> None:
        sub, send = self._sub, self._send
        assert send is not None
        try:
            while sub.ended is None:
                batch = sub.take()
                if batch is None:
                    return
                body = self._frames(batch) if batch else events.PING_FRAME
                if body:
                    await _write(send, body)
            # Cut off or shutting down: ending the stream makes EventSource
            # reconnect with Last-Event-ID, and the replay fills the gap.
            sub.on_wake = None  # the response ends here: nothing more to write
            await _write(send, events.comment_frame(sub.ended))
            await _finish(send)
        except Exception:
            # Nobody awaits this task: say why the stream stopped, and stop it.
            log.exception("writing a stream failed")
            sub.close()
        finally:
            self._writer = None  # an idle stream keeps no task

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


async def _finish(send: Send) -> None:
    await send({"type": "http.response.body", "body": b"", "more_body": False})
