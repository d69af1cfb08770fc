"""The export's rows: CSV chunks read in keyset order, each in a short transaction.

A download can last minutes when the client reads slowly. One transaction for
all of it would hold one snapshot that long, and so hold back vacuum on the
platform's busiest table. Instead each chunk of rows is read in a transaction
of its own, after the last row sent (the list's order is a unique key), and
no snapshot outlives its chunk.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from psycopg import AsyncConnection

from app.config import Settings
from app.db.queries import Queries
from app.export.csv_format import COLUMNS, csv_chunk, csv_rows
from app.export.slots import ExportSlots
from app.filters import ActivityFilter

log = logging.getLogger(__name__)

QUERIES = ("activity_items_after", "export_timeouts")

# Rows read per chunk (one short transaction), and written per CSV chunk.
BATCH_ROWS = 2000
# Where the next chunk starts: the list order's key of the last row sent.
_SETTLED_AT = COLUMNS.index("settled_at")
_BET_ID = COLUMNS.index("bet_id")


def timeouts(settings: Settings) -> dict[str, str]:
    return {"statement_timeout_ms": str(round(settings.export_statement_timeout * 1000))}


async def read_chunk(
    conn: AsyncConnection[Any], queries: Queries, params: dict[str, Any], limits: dict[str, str]
) -> list[tuple[Any, ...]]:
    """The next ``params["limit"]`` rows after ``params["after_…"]``, in one transaction."""
    async with conn.transaction():
        await conn.execute(queries["export_timeouts"], limits)
        cur = await conn.execute(queries["activity_items_after"], params)
        if tuple(c.name for c in cur.description or ()) != COLUMNS:
            raise RuntimeError("activity_items_after must select ActivityItem's fields in order")
        return await cur.fetchall()


def first_chunk(flt: ActivityFilter) -> dict[str, Any]:
    """The parameters of the first chunk; ``next_chunk`` moves them on."""
    return {**flt.params(), "after_settled_at": None, "after_bet_id": None, "limit": BATCH_ROWS}


def next_chunk(params: dict[str, Any], batch: list[tuple[Any, ...]]) -> bool:
    """Move ``params`` past ``batch``; False when ``batch`` was the last one."""
    if len(batch) < params["limit"]:
        return False
    last = batch[-1]
    params["after_settled_at"], params["after_bet_id"] = last[_SETTLED_AT], last[_BET_ID]
    return True


async def csv_stream(
    connection: Callable[[], AbstractAsyncContextManager[AsyncConnection[Any]]],
    queries: Queries,
    flt: ActivityFilter,
    slots: ExportSlots,
    limits: dict[str, str],
) -> AsyncGenerator[bytes, None]:
    """The header row, then the rows in list order; holds an export slot while open."""
    params = first_chunk(flt)
    slots.take()
    started, rows = False, 0
    try:
        # One connection for the whole download, idle (no transaction, no
        # snapshot) between chunks. Handing it back to the pool between
        # chunks would let busy list traffic starve a download halfway (a
        # PoolTimeout after the 200 cuts it off), and the slot cap already
        # keeps exports to half the pool.
        async with connection() as conn:
            batch = await read_chunk(conn, queries, params, limits)
            started = True
            yield csv_chunk([COLUMNS])
            while batch:
                yield csv_chunk(csv_rows(batch))
                rows += len(batch)
                if not next_chunk(params, batch):
                    break
                batch = await read_chunk(conn, queries, params, limits)
    except Exception as exc:
        if started:
            # The 200 and some rows are already sent: re-raising makes the
            # server abort the connection without the closing chunk, so the
            # client sees an incomplete download rather than a short CSV.
            log.error(
                "export cut off after %d rows (agent %s): %s: %s",
                rows,
                params["agent_id"],
                type(exc).__name__,
                exc,
            )
        raise
    except BaseException:
        if started:
            log.info(
                "export ended after %d rows (agent %s): the client went away or stopped reading",
                rows,
                params["agent_id"],
            )
        raise
    finally:
        slots.release()
