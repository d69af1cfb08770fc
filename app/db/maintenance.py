"""Background upkeep of the app's own tables while the app runs.

The platform's transactions only ever add rows of deltas to the rollups
(sql/schema/10_write_path.sql); here they are merged, a bucket at a time, so
that readers sum one row per bucket again. Merging is our own short
transaction: the platform never waits on it, and one instance of the fleet at
a time does it (the others find the lock taken and skip the round).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg_pool import AsyncConnectionPool

from app.db.queries import Queries

log = logging.getLogger(__name__)

QUERIES = ("merge_totals",)
INTERVAL_SECONDS = 2.0
# Buckets merged per transaction: a round is a few milliseconds.
BUCKETS_PER_ROUND = 2000


async def merge_once(pool: AsyncConnectionPool, queries: Queries) -> int:
    """Merge until no unmerged bucket is left (or another instance holds the turn)."""
    merged = 0
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(queries["merge_totals"], {"max_buckets": BUCKETS_PER_ROUND})
            row = await cur.fetchone()
        done = int(row[0]) if row and row[0] is not None else 0
        merged += done
        if done < BUCKETS_PER_ROUND:
            return merged


async def _run(pool: AsyncConnectionPool, queries: Queries) -> None:
    while True:
        await asyncio.sleep(INTERVAL_SECONDS)  # a period, not a wait for an event
        try:
            await merge_once(pool, queries)
        except Exception as exc:  # the database may be away: try again next round
            log.warning("merging the rollups failed: %s: %s", type(exc).__name__, exc)


@asynccontextmanager
async def merging_totals(pool: AsyncConnectionPool, queries: Queries) -> AsyncIterator[None]:
    task = asyncio.create_task(_run(pool, queries), name="merge-totals")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
