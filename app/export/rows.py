"""The export's rows: CSV chunks read from a server-side cursor in constant memory."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db.queries import Queries
from app.export.csv_format import COLUMNS, csv_chunk, csv_rows
from app.export.slots import ExportSlots
from app.filters import ActivityFilter

log = logging.getLogger(__name__)

QUERIES = ("activity_items", "export_timeouts")

# Rows fetched from the cursor per round trip, and written per chunk.
BATCH_ROWS = 2000


def timeouts(settings: Settings) -> dict[str, str]:
    return {
        "statement_timeout_ms": str(round(settings.export_statement_timeout * 1000)),
        # PostgreSQL's backstop, for an app that stops fetching for any other
        # reason; the response's send timeout normally ends a stalled download first.
        "idle_timeout_ms": str(round(settings.export_idle_timeout * 2000)),
    }


async def csv_stream(
    pool: AsyncConnectionPool,
    queries: Queries,
    flt: ActivityFilter,
    slots: ExportSlots,
    limits: dict[str, str],
) -> AsyncGenerator[bytes, None]:
    """The header row, then the rows in list order; holds an export slot while open."""
    params = {**flt.params(), "limit": None, "offset": 0}
    slots.take()
    started, rows = False, 0
    try:
        # A named (server-side) cursor needs a transaction; it holds one
        # connection for the length of the download and never more than a
        # batch of rows in memory.
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(queries["export_timeouts"], limits)
            cur = conn.cursor("activity_export")
            await cur.execute(queries["activity_items"], params)
            if tuple(c.name for c in cur.description or ()) != COLUMNS:
                raise RuntimeError("activity_items must select ActivityItem's fields in order")
            started = True
            yield csv_chunk([COLUMNS])
            while batch := await cur.fetchmany(BATCH_ROWS):
                yield csv_chunk(csv_rows(batch))
                rows += len(batch)
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
