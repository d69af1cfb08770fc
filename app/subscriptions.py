"""An open stream as the listener hub sees it: a bounded queue and a way out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from app.events import Event


class StreamLimitError(Exception):
    """Too many open streams (per agent or per process)."""


class ListenerUnavailable(Exception):
    """The LISTEN connection is down: a new stream could miss events."""


class Subscription:
    """One open stream: its bounded queue and why the hub ended it, if it did."""

    def __init__(
        self, agent_id: int, maxsize: int, release: Callable[[Subscription], None]
    ) -> None:
        self.agent_id = agent_id
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        # Set once events committed after this moment are sure to reach the queue.
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ended: str | None = None
        self._release = release

    def push(self, event: Event) -> bool:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True

    def end(self, reason: str) -> None:
        self.ended = reason
        # Wakes a consumer waiting on an empty queue; a full one is not waiting.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    def close(self) -> None:
        """Release everything this stream holds; safe to call more than once."""
        self._release(self)
