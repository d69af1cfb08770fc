"""The LISTEN loop: one connection per process, woken by the trigger's NOTIFYs.

The trigger sends ``NOTIFY cash_out_<agent_id>, '<newest seq>'`` on commit. The
listener LISTENs on the channels of the agents that have a stream open (the
hub's ``agents``), and on a notification reads that agent's events after the
last one it fetched: the payload is only a wake-up. Events come from the
events table, so a dropped connection loses nothing and a long selection never
meets NOTIFY's size limit. What it reads it hands to the hub's fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import AsyncConnection, errors, sql

from app.config import Settings
from app.db.pool import connection_kwargs, session_settings
from app.db.queries import Queries
from app.live import events
from app.metrics import Metrics

if TYPE_CHECKING:
    from app.live.hub import Hub

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "cash_out_"
# Events read per agent per round trip; the rest follow in the next round.
FETCH_BATCH = 500
# How long one run of notifies() waits; after a quiet run the connection is
# checked with a query.
IDLE_CHECK_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 5.0
# A read refused by a lock (CASHOUT_FEED_DB_LOCK_TIMEOUT) or the statement
# timeout is tried again after this, on the same connection.
BLOCKED_RETRY_SECONDS = 1.0
APPLICATION_NAME = "cashout-feed-listener"


class Listener:
    def __init__(
        self, hub: Hub, url: str, queries: Queries, settings: Settings, metrics: Metrics
    ) -> None:
        self._hub, self._url, self._queries = hub, url, queries
        self._settings, self._metrics = settings, metrics
        self.connected = False
        self.listening: set[int] = set()
        # Failed connection attempts since the listener was last connected.
        self.connect_failures = 0
        # Fan-out of one batch is synchronous: leave a stream room for two.
        self._max_batch = max(1, min(FETCH_BATCH, settings.stream_queue_size // 2))
        # Halved after a read that ran into the statement timeout, doubled
        # back after each one that did not.
        self._batch = self._max_batch
        # Since when reads have been refused by a lock or a timeout (None: they are not).
        self._blocked_since: float | None = None
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self.up = asyncio.Event()

    def wake(self) -> None:
        """Subscriptions changed: (UN)LISTEN and read new agents' positions."""
        self._wake.set()

    def forget(self, agent_id: int) -> None:
        self._dirty.discard(agent_id)
        self._wake.set()

    async def run(self) -> None:
        delay = 0.0
        first = True
        while not self._hub.stopping:
            if delay:
                await asyncio.sleep(delay)
            try:
                conn = await AsyncConnection.connect(
                    self._url, **connection_kwargs(self._settings, APPLICATION_NAME)
                )
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
                # The pool's limits: a read waiting on a lock fails after
                # the lock timeout and is retried (below), never hangs.
                await conn.execute(
                    self._queries["connection_setup"], session_settings(self._settings)
                )
                # A new connection listens on nothing; every agent with a known
                # position catches up from it once LISTEN is back.
                self.listening.clear()
                agents = self._hub.agents
                self._dirty.update(a for a, s in agents.items() if s.cursor is not None)
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
        while not self._hub.stopping:
            self._wake.clear()
            try:
                await self._sync_listens(conn)
                self.connected = True
                self.up.set()
                more = await self._fetch(conn)
            except (errors.LockNotAvailable, errors.QueryCanceled) as exc:
                await self._blocked(exc)
                continue
            self._unblocked()
            if more or self._wake.is_set():
                continue
            await self._wait(conn)

    async def _blocked(self, exc: psycopg.Error) -> None:
        """A read was refused by a lock or a timeout: the connection is fine.

        The agents it was for stay due and are read again after a pause; until
        then their streams keep their pings (a separate timer) and lose nothing.
        """
        loop = asyncio.get_running_loop()
        if self._blocked_since is None:
            self._blocked_since = loop.time()
            log.warning(
                "listener read refused (%s: %s); retrying every %g s",
                type(exc).__name__,
                str(exc).strip(),
                BLOCKED_RETRY_SECONDS,
            )
        if isinstance(exc, errors.QueryCanceled):
            # Perhaps too much at once for the statement timeout: ask for less.
            self._batch = max(1, self._batch // 2)
        # A subscription change is served at once (a new agent's LISTEN needs no lock).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), BLOCKED_RETRY_SECONDS)

    def _unblocked(self) -> None:
        self._batch = min(self._max_batch, self._batch * 2)
        if self._blocked_since is not None:
            waited = asyncio.get_running_loop().time() - self._blocked_since
            self._blocked_since = None
            log.info("listener reads resumed after %.1f s", waited)

    async def _sync_listens(self, conn: AsyncConnection[Any]) -> None:
        agents = self._hub.agents
        for agent_id in sorted(self.listening - agents.keys()):
            await conn.execute(sql.SQL("UNLISTEN {}").format(_channel(agent_id)))
            self.listening.discard(agent_id)
        for agent_id in sorted(agents.keys() - self.listening):
            await conn.execute(sql.SQL("LISTEN {}").format(_channel(agent_id)))
            self.listening.add(agent_id)
        new = {a: s for a, s in agents.items() if s.cursor is None}
        if not new:
            return
        # Read after LISTEN: every later commit is announced, every earlier one
        # is at or below this position (and in the new stream's replay).
        seqs = await events.last_seqs(conn, self._queries, sorted(new))
        for agent_id, agent in new.items():
            if agents.get(agent_id) is agent and agent.cursor is None:
                agent.cursor = seqs.get(agent_id, 0)
                for sub in agent.subs:
                    if sub.ready is not None and not sub.ready.done():
                        sub.ready.set_result(None)

    async def _fetch(self, conn: AsyncConnection[Any]) -> bool:
        """Read and fan out new events of the agents notified; True if more remain."""
        agents = self._hub.agents
        wanted = {a: agents[a] for a in sorted(self._dirty) if a in agents}
        self._dirty.clear()
        positions = {a: s.cursor for a, s in wanted.items() if s.cursor is not None}
        if not positions:
            return False
        batch = self._batch
        try:
            rows = await events.events_after(conn, self._queries, positions, batch)
        except BaseException:
            # Nothing was read: the agents stay due for the next attempt.
            self._dirty.update(wanted)
            raise
        counts: dict[int, int] = {}
        # No await from here on: cursor and fan-out change together, so a
        # stream that subscribes now sees each event either here or in its replay.
        for event in rows:
            agent = wanted[event.agent_id]
            counts[event.agent_id] = counts.get(event.agent_id, 0) + 1
            if agents.get(event.agent_id) is not agent:
                continue  # every stream of this agent left meanwhile
            agent.cursor = event.seq
            if event.frame is not None:
                self._hub.fan_out(agent, event)
        full = {a for a, n in counts.items() if n >= batch and a in agents}
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
        agents = self._hub.agents
        async for notify in conn.notifies(timeout=IDLE_CHECK_SECONDS, stop_after=1):
            received += 1
            agent_id = _agent_of(notify.channel)
            if agent_id is not None and agent_id in agents:
                self._dirty.add(agent_id)
        return received


def _channel(agent_id: int) -> sql.Identifier:
    return sql.Identifier(f"{CHANNEL_PREFIX}{agent_id}")


def _agent_of(channel: str) -> int | None:
    suffix = channel.removeprefix(CHANNEL_PREFIX)
    return int(suffix) if suffix != channel and suffix.isdigit() else None
