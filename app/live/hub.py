"""The streams' side of the live feed: who is subscribed to which agent, and the fan-out.

Each event is encoded once (``app.live.events``) and put on the bounded
backlog of every open stream of its agent. The LISTEN loop that finds the
events is ``app.live.listener``; the one ping timer of all streams is
``app.live.pings``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.db.queries import Queries
from app.live.events import Event
from app.live.listener import Listener
from app.live.pings import PingWheel
from app.live.subscription import ListenerUnavailable, StreamLimitError, Subscription
from app.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(eq=False)
class AgentStreams:
    subs: set[Subscription] = field(default_factory=set)
    # Last seq fetched for this agent; None until LISTEN is in place.
    cursor: int | None = None


class Hub:
    def __init__(self, url: str, queries: Queries, settings: Settings, metrics: Metrics) -> None:
        self._settings = settings
        self._metrics = metrics
        self.agents: dict[int, AgentStreams] = {}
        self.streams: set[Subscription] = set()
        # Open streams per agent, cut-off ones included: they still hold a connection.
        self._open_per_agent: dict[int, int] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self._pings = PingWheel(settings.stream_ping_seconds)
        self.listener = Listener(self, url, queries, settings, metrics)

    # The listener's state, as operators and tests ask about it.
    @property
    def connected(self) -> bool:
        return self.listener.connected

    @property
    def listening(self) -> set[int]:
        return self.listener.listening

    @property
    def connect_failures(self) -> int:
        return self.listener.connect_failures

    def readiness(self) -> str | None:
        return None if self.connected else "listener disconnected (reconnecting)"

    async def subscribe(self, agent_id: int) -> Subscription:
        """Register a stream; returns once events after this moment will reach it."""
        # While the listener is reconnecting, a stream of an agent with a known
        # position is still safe (the catch-up after reconnecting covers it);
        # a new agent waits below for its LISTEN, within a bound.
        if self.stopping:
            raise ListenerUnavailable("the server is shutting down")
        agent = self.agents.get(agent_id)
        if len(self.streams) >= self._settings.stream_max_total:
            raise StreamLimitError(
                f"This server has {len(self.streams)} streams open, its limit: try again later."
            )
        if self._open_per_agent.get(agent_id, 0) >= self._settings.stream_max_per_agent:
            raise StreamLimitError(
                f"Too many open streams for this agent (limit "
                f"{self._settings.stream_max_per_agent}): close one and try again."
            )
        sub = Subscription(agent_id, self._settings.stream_queue_size, self.release)
        if agent is None:
            agent = self.agents[agent_id] = AgentStreams()
        agent.subs.add(sub)
        self.streams.add(sub)
        self._pings.add(sub)
        self._open_per_agent[agent_id] = self._open_per_agent.get(agent_id, 0) + 1
        self._metrics.open_streams.set(len(self.streams))
        if agent.cursor is None:
            sub.ready = asyncio.get_running_loop().create_future()
            self.listener.wake()
            try:
                await asyncio.wait_for(sub.ready, self._settings.db_timeout + 3)
            except TimeoutError:
                sub.close()
                raise ListenerUnavailable("the listener did not subscribe in time") from None
            except BaseException:
                sub.close()
                raise
            finally:
                sub.ready = None
        return sub

    def release(self, sub: Subscription) -> None:
        self._detach(sub)
        if sub in self.streams:
            self.streams.discard(sub)
            self._pings.discard(sub)
            left = self._open_per_agent.pop(sub.agent_id) - 1
            if left:
                self._open_per_agent[sub.agent_id] = left
            self._metrics.open_streams.set(len(self.streams))

    def _detach(self, sub: Subscription) -> None:
        agent = self.agents.get(sub.agent_id)
        if agent is None or sub not in agent.subs:
            return
        agent.subs.discard(sub)
        if not agent.subs:
            del self.agents[sub.agent_id]
            self.listener.forget(sub.agent_id)  # UNLISTEN

    def fan_out(self, agent: AgentStreams, event: Event) -> None:
        for sub in list(agent.subs):
            if not sub.push(event):
                # Cut off, not waited for: the others must not slow down, and
                # the queue stops growing. The client resumes with Last-Event-ID.
                log.info("stream of agent %s cut off: its queue is full", sub.agent_id)
                self._metrics.streams_cut_off.inc()
                self._detach(sub)
                sub.end("cut off: the client did not read fast enough")

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        runs = ((self.listener.run(), "cash-out-listener"), (self._pings.run(), "stream-pings"))
        for coro, name in runs:
            task = asyncio.create_task(coro, name=name)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def end_streams(self, reason: str) -> None:
        self.stopping = True
        for sub in list(self.streams):
            self._detach(sub)
            sub.end(reason)
        self.listener.wake()

    async def wait_connected(self) -> None:
        """Until the listener has connected once (callers bound the wait)."""
        await self.listener.up.wait()

    async def stop(self) -> None:
        self.end_streams("the server is shutting down")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.listener.connected = False
