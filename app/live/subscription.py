"""An open stream as the listener hub sees it: a bounded backlog and a way out.

Kept small on purpose: a process holds 10,000 of them. There is no
``asyncio.Queue`` (three deques and an Event each), no waiting task and no
timer per stream: the backlog is a plain list the writer takes whole, a
callback tells the writer there is something to take, and pings come from the
hub's shared timer (``app.live.pings``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from app.live.events import Event


class StreamLimitError(Exception):
    """Too many open streams (per agent or per process)."""


class ListenerUnavailable(Exception):
    """The LISTEN connection is down: a new stream could miss events."""


class Subscription:
    """One open stream: its bounded backlog and why it ended, if it did."""

    __slots__ = (
        "_maxsize",
        "_pending",
        "_ping_due",
        "_release",
        "agent_id",
        "ended",
        "on_wake",
        "ready",
    )

    def __init__(
        self, agent_id: int, maxsize: int, release: Callable[[Subscription], None]
    ) -> None:
        self.agent_id = agent_id
        self._maxsize = maxsize
        self._pending: list[Event] = []
        self._ping_due = False
        # Called whenever there is something to take (or the stream ended).
        self.on_wake: Callable[[], None] | None = None
        # While the hub sets up LISTEN for a new agent: resolved once events
        # committed after this moment are sure to reach the backlog.
        self.ready: asyncio.Future[None] | None = None
        self.ended: str | None = None
        self._release = release

    def qsize(self) -> int:
        return len(self._pending)

    def push(self, event: Event) -> bool:
        """Queue an event; False (and nothing queued) when the backlog is full."""
        if len(self._pending) >= self._maxsize:
            return False
        self._pending.append(event)
        self._wake()
        return True

    def ping(self) -> None:
        """Ask for a keep-alive frame unless an event goes out first."""
        self._ping_due = True
        self._wake()

    def end(self, reason: str) -> None:
        self.ended = reason
        self._wake()

    def take(self) -> list[Event] | None:
        """The whole backlog (empty when only a ping is due); None when nothing is due.

        Check ``ended`` first: an ended stream sends nothing more.
        """
        if not self._pending and not self._ping_due:
            return None
        # Whatever is written now also keeps the connection alive.
        self._ping_due = False
        batch, self._pending = self._pending, []
        return batch

    def close(self) -> None:
        """Release everything this stream holds; safe to call more than once."""
        self._release(self)

    def _wake(self) -> None:
        if self.on_wake is not None:
            self.on_wake()
