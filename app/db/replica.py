"""Reads on a streaming replica: which pool a read uses, and the replica's lag.

With ``DATABASE_READ_URL`` set, the list, totals, summary, daily series,
export and customers read from the replica while it answers and is less than
``replica_max_lag_seconds`` behind; otherwise from the primary (why fall back
rather than answer 503: docs/operations.md#read-replicas). The check runs in
the background every second, never in a request.

The lag is measured in WAL, not in commit timestamps: ``now() -
pg_last_xact_replay_timestamp()`` on the standby grows while the primary is
idle (nothing new to replay), so an idle, caught-up replica would look ever
further behind. Instead each check reads how far the primary has flushed its
WAL and how far the standby has replayed, and remembers when the primary
reached each position: the lag is how long ago the primary had WAL that the
standby has still not replayed (0 when it has replayed everything), good to
the check's interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from app.config import Settings
from app.db.pool import create_pool
from app.db.queries import Queries
from app.schemas import ReplicaStateName, ReplicaStatus

log = logging.getLogger(__name__)

QUERIES = ("primary_wal_position", "replica_replay_position")
CHECK_SECONDS = 1.0
# Positions of the primary remembered while the standby is behind (one per
# check at most): hours of a paused standby before the oldest is forgotten.
MAX_SAMPLES = 10_000


class WalLag:
    """The standby's lag in seconds, from positions of the primary's WAL over time."""

    def __init__(self) -> None:
        # (when first seen, primary position), positions increasing. When the
        # primary reached the first position seen is unknown: a standby behind
        # it at start-up may be hours behind.
        self._samples: deque[tuple[float, int]] = deque(maxlen=MAX_SAMPLES)
        self._seen = False

    def primary_at(self, position: int, now: float) -> None:
        if not self._samples or position > self._samples[-1][1]:
            self._samples.append((now if self._seen else -math.inf, position))
            self._seen = True

    def seconds(self, replayed: int, now: float) -> float | None:
        """How long ago the primary had WAL beyond ``replayed``: 0 when nothing is
        missing, None when that is longer than the app has been watching."""
        while self._samples and self._samples[0][1] <= replayed:
            self._samples.popleft()
        if not self._samples:
            return 0.0
        since = self._samples[0][0]
        return None if since == -math.inf else now - since


class Reads:
    """The pool a read uses now: the replica's while it is usable, else the primary's."""

    def __init__(
        self,
        primary: AsyncConnectionPool,
        replica: AsyncConnectionPool | None,
        queries: Queries,
        settings: Settings,
    ) -> None:
        self._primary, self._replica = primary, replica
        self._queries, self._settings = queries, settings
        self._lag = WalLag()
        self.status = ReplicaStatus(
            state="unknown",
            reads_on="primary",
            lag_seconds=None,
            max_lag_seconds=settings.replica_max_lag_seconds,
        )

    @property
    def configured(self) -> bool:
        return self._replica is not None

    def pool(self) -> AsyncConnectionPool:
        if self._replica is not None and self.status.reads_on == "replica":
            return self._replica
        return self._primary

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection for a read-only request (``async with reads.connection() as conn``).

        A replica that stopped answering since the last check costs the
        request its wait for a connection, not a 503: it is marked unavailable
        at once and the request reads from the primary.
        """
        pool = self.pool()
        if pool is self._primary:
            async with pool.connection() as conn:
                yield conn
            return
        try:
            conn = await pool.getconn()
        except PoolTimeout as exc:
            self._set("unavailable", None, f"{type(exc).__name__}: {exc}")
            async with self._primary.connection() as conn:
                yield conn
            return
        try:
            async with conn:  # as pool.connection(): ends a transaction left open
                yield conn
        finally:
            await pool.putconn(conn)

    def readiness(self) -> str | None:
        """None while reads use the replica, else what is wrong (reads then use the primary)."""
        status = self.status
        if status.reads_on == "replica":
            return None
        if status.state == "lagging":
            lag, bound = status.lag_seconds, status.max_lag_seconds
            why = (
                f"behind since start-up (bound {bound:g} s)"
                if lag is None
                else f"lagging {lag:.1f} s behind (bound {bound:g} s)"
            )
        elif status.state == "unknown":
            why = "not checked yet"
        else:
            why = f"unavailable ({status.problem})"
        return f"{why}: reads go to the primary"

    async def check(self) -> ReplicaStatus:
        """Measure the replica once and route reads accordingly."""
        assert self._replica is not None
        timeout = self._settings.db_timeout
        with contextlib.suppress(Exception):
            # The primary away: keep the positions known so far; the standby
            # cannot be missing anything written since.
            async with asyncio.timeout(timeout + 1):
                async with self._primary.connection(timeout=timeout) as conn:
                    cur = await conn.execute(self._queries["primary_wal_position"])
                    row = await cur.fetchone()
            if row is not None:
                self._lag.primary_at(int(row[0]), time.monotonic())
        try:
            async with asyncio.timeout(timeout + 1):
                async with self._replica.connection(timeout=timeout) as conn:
                    cur = await conn.execute(self._queries["replica_replay_position"])
                    row = await cur.fetchone()
            assert row is not None
            in_recovery, replayed = row
        except Exception as exc:  # whatever the cause, the replica cannot serve reads now
            return self._set("unavailable", None, f"{type(exc).__name__}: {exc}".strip())
        if not in_recovery or replayed is None:
            return self._set("not a standby", 0.0)
        lag = self._lag.seconds(int(replayed), time.monotonic())
        if lag is None or lag > self._settings.replica_max_lag_seconds:
            return self._set("lagging", lag)
        return self._set("streaming", lag)

    def _set(
        self, state: ReplicaStateName, lag: float | None, problem: str | None = None
    ) -> ReplicaStatus:
        usable = state in ("streaming", "not a standby")
        before = self.status
        self.status = ReplicaStatus(
            state=state,
            reads_on="replica" if usable else "primary",
            lag_seconds=None if lag is None else round(lag, 3),
            max_lag_seconds=self._settings.replica_max_lag_seconds,
            problem=problem.splitlines()[0][:200] if problem else None,
        )
        if before.reads_on != self.status.reads_on or before.state != state:
            level = logging.INFO if usable else logging.WARNING
            log.log(level, "read replica %s: reads go to the %s", state, self.status.reads_on)
        return self.status

    async def run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)  # a period, not a wait for an event
            try:
                await self.check()
            except Exception:  # never let the check die: the next round tries again
                log.exception("checking the read replica failed")


@asynccontextmanager
async def reading(
    settings: Settings, primary: AsyncConnectionPool, queries: Queries
) -> AsyncIterator[Reads]:
    """Where reads go for the app's lifetime; with a replica, its pool and its check."""
    if settings.database_read_url is None:
        yield Reads(primary, None, queries, settings)
        return
    pool = create_pool(settings, queries, settings.database_read_url, name="cashout-feed-read")
    # As the primary's pool: start even if the replica is down; reads use the
    # primary until it answers.
    await pool.open(wait=False)
    reads = Reads(primary, pool, queries, settings)
    await reads.check()
    task = asyncio.create_task(reads.run(), name="read-replica-check")
    try:
        yield reads
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()
