"""One LISTEN connection per process, fanning cash-out events out to the open streams.

The trigger sends ``NOTIFY cash_out_<agent_id>, '<newest seq>'`` on commit. The
hub LISTENs on the channels of the agents that have a stream open, and on a
notification reads that agent's events after the last one it fetched (the
payload is only a wake-up: events come from ``cash_out_events``, so a dropped
connection loses nothing and a long selection never meets NOTIFY's size
limit). Each event is encoded once and put on every stream's bounded backlog.
The hub also runs the one ping timer of all its streams (``app.live.pings``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from app.config import Settings
from app.db.pool import connection_kwargs
from app.db.queries import Queries
from app.live import events
from app.live.events import Event
from app.live.pings import PingWheel
from app.live.subscription import ListenerUnavailable, StreamLimitError, Subscription
from app.metrics import Metrics

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "cash_out_"
# Events read per agent per round trip; the rest follow in the next round.
FETCH_BATCH = 500
# How long one run of notifies() waits; after a quiet run the connection is
# checked with a query.
IDLE_CHECK_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 5.0


@dataclass(eq=False)
class _Agent:
    subs: set[Subscription] = field(default_factory=set)
    # Last seq fetched for this agent; None until LISTEN is in place.
    cursor: int | None = None


class Hub:
    def __init__(self, url: str, queries: Queries, settings: Settings, metrics: Metrics) -> None:
        self._url = url
        self._queries = queries
        self._settings = settings
        self._metrics = metrics
        self.connected = False
        self.agents: dict[int, _Agent] = {}
        self.streams: set[Subscription] = set()
        # Open streams per agent, cut-off ones included: they still hold a connection.
        self._open_per_agent: dict[int, int] = {}
        self.listening: set[int] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        # Failed connection attempts since the listener was last connected.
        self.connect_failures = 0
        # Fan-out of one batch is synchronous: leave a stream room for two.
        self._batch = max(1, min(FETCH_BATCH, settings.stream_queue_size // 2))
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._up = asyncio.Event()
        self._stopping = False
        self._pings = PingWheel(settings.stream_ping_seconds)

    # -- streams' side -----------------------------------------------------

    def readiness(self) -> str | None:
        return None if self.connected else "listener disconnected (reconnecting)"

    async def subscribe(self, agent_id: int) -> Subscription:
        """Register a stream; returns once events after this moment will reach it."""
        # While the listener is reconnecting, a stream of an agent with a known
        # position is still safe (the catch-up after reconnecting covers it);
        # a new agent waits below for its LISTEN, within a bound.
        if self._stopping:
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
            agent = self.agents[agent_id] = _Agent()
        agent.subs.add(sub)
        self.streams.add(sub)
        self._pings.add(sub)
        self._open_per_agent[agent_id] = self._open_per_agent.get(agent_id, 0) + 1
        self._metrics.open_streams.set(len(self.streams))
        if agent.cursor is None:
            sub.ready = asyncio.get_running_loop().create_future()
            self._wake.set()
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
            self._dirty.discard(sub.agent_id)
            self._wake.set()  # UNLISTEN

    def _fan_out(self, agent: _Agent, event: Event) -> None:
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
        for coro, name in ((self._run(), "cash-out-listener"), (self._pings.run(), "stream-pings")):
            task = asyncio.create_task(coro, name=name)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def end_streams(self, reason: str) -> None:
        self._stopping = True
        for sub in list(self.streams):
            self._detach(sub)
            sub.end(reason)
        self._wake.set()

    async def wait_connected(self) -> None:
        """Until the listener has connected once (callers bound the wait)."""
        await self._up.wait()

    async def stop(self) -> None:
        self.end_streams("the server is shutting down")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.connected = False

    # -- the listener ------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.0
        first = True
        while not self._stopping:
            if delay:
                await asyncio.sleep(delay)
            try:
                conn = await AsyncConnection.connect(self._url, **connection_kwargs(self._settings))
            except Exception as exc:  # whatever the cause: back off and retry
                log.warning("listener cannot connect: %s", exc)
                self.connect_failures += 1
                delay = min(max(delay * 2, 0.1), MAX_BACKOFF_SECONDS)
                continue
            log.info("listener connected")
            if not first:
                self._metrics.listener_reconnects.inc()
            first, delay = False, 0.1
            self.connect_failures = 0
            try:
                await conn.execute(self._queries["stream_session_setup"])
                # A new connection listens on nothing; every agent with a known
                # position catches up from it once LISTEN is back.
                self.listening.clear()
                self._dirty.update(a for a, s in self.agents.items() if s.cursor is not None)
                await self._serve(conn)
            except psycopg.Error as exc:
                log.warning("listener connection lost: %s", exc)
            except Exception:
                # Never let the listener die: reconnect and catch up instead.
                log.exception("listener failed; reconnecting")
            finally:
                self.connected = False
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _serve(self, conn: AsyncConnection[Any]) -> None:
        while not self._stopping:
            self._wake.clear()
            await self._sync_listens(conn)
            self.connected = True
            self._up.set()
            more = await self._fetch(conn)
            if more or self._wake.is_set():
                continue
            await self._wait(conn)

    async def _sync_listens(self, conn: AsyncConnection[Any]) -> None:
        for agent_id in sorted(self.listening - self.agents.keys()):
            await conn.execute(sql.SQL("UNLISTEN {}").format(_channel(agent_id)))
            self.listening.discard(agent_id)
        for agent_id in sorted(self.agents.keys() - self.listening):
            await conn.execute(sql.SQL("LISTEN {}").format(_channel(agent_id)))
            self.listening.add(agent_id)
        new = {a: s for a, s in self.agents.items() if s.cursor is None}
        if not new:
            return
        # Read after LISTEN: every later commit is announced, every earlier one
        # is at or below this position (and in the new stream's replay).
        seqs = await events.last_seqs(conn, self._queries, sorted(new))
        for agent_id, agent in new.items():
            if self.agents.get(agent_id) is agent and agent.cursor is None:
                agent.cursor = seqs.get(agent_id, 0)
                for sub in agent.subs:
                    if sub.ready is not None and not sub.ready.done():
                        sub.ready.set_result(None)

    async def _fetch(self, conn: AsyncConnection[Any]) -> bool:
        """Read and fan out new events of the agents notified; True if more remain."""
        wanted = {a: self.agents[a] for a in sorted(self._dirty) if a in self.agents}
        self._dirty.clear()
        positions = {a: s.cursor for a, s in wanted.items() if s.cursor is not None}
        if not positions:
            return False
        rows = await events.events_after(conn, self._queries, positions, self._batch)
        counts: dict[int, int] = {}
        # No await from here on: cursor and fan-out change together, so a
        # stream that subscribes now sees each event either here or in its replay.
        for event in rows:
            agent = wanted[event.agent_id]
            counts[event.agent_id] = counts.get(event.agent_id, 0) + 1
            if self.agents.get(event.agent_id) is not agent:
                continue  # every stream of this agent left meanwhile
            agent.cursor = event.seq
            if event.frame is not None:
                self._fan_out(agent, event)
        full = {a for a, n in counts.items() if n >= self._batch and a in self.agents}
        self._dirty.update(full)
        return bool(full)

    async def _wait(self, conn: AsyncConnection[Any]) -> None:
        """Until a notification, a subscription change, or the idle check."""
        waiter = asyncio.create_task(self._collect_notifies(conn))
        waker = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait({waiter, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Only a subscription change cancels the wait for notifications.
            for task in (waiter, waker):
                task.cancel()
            await asyncio.gather(waiter, waker, return_exceptions=True)
        # result() raises if the connection dropped; 0 means a quiet run: make
        # sure the connection is still there (a silent network drop would
        # otherwise go unnoticed).
        if waiter.done() and not waiter.cancelled() and waiter.result() == 0:
            await asyncio.wait_for(
                conn.execute(self._queries["ping"]), self._settings.db_timeout + 3
            )

    async def _collect_notifies(self, conn: AsyncConnection[Any]) -> int:
        received = 0
        async for notify in conn.notifies(timeout=IDLE_CHECK_SECONDS, stop_after=1):
            received += 1
            agent_id = _agent_of(notify.channel)
            if agent_id is not None and agent_id in self.agents:
                self._dirty.add(agent_id)
        return received


def _channel(agent_id: int) -> sql.Identifier:
    return sql.Identifier(f"{CHANNEL_PREFIX}{agent_id}")


def _agent_of(channel: str) -> int | None:
    suffix = channel.removeprefix(CHANNEL_PREFIX)
    return int(suffix) if suffix != channel and suffix.isdigit() else None
