"""The activity as CSV, streamed from a server-side cursor in constant memory."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.response import Stream
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.controllers.activity import ACTIVITY_FILTER, ERRORS
from app.db.queries import Queries
from app.deps import AppServices
from app.filters import ActivityFilter
from app.middleware.send_timeout import on_end, send_timeout
from app.schemas import ActivityItem

log = logging.getLogger(__name__)

QUERIES = ("activity_items", "export_timeouts")

COLUMNS: tuple[str, ...] = ActivityItem.__struct_fields__
RETRY_AFTER_SECONDS = 10
# Rows fetched from the cursor per round trip, and written per chunk.
BATCH_ROWS = 2000


class ExportSlots:
    """How many exports may run at once in this process.

    Each export holds a pooled connection for as long as the download lasts;
    without a cap, a few slow downloads could take every connection and turn
    the list, the summary and sign-in into 503s. Handlers run on one event
    loop, so a plain counter is enough.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    @classmethod
    def for_pool(cls, pool_max_size: int) -> ExportSlots:
        return cls(max(1, pool_max_size // 2))

    def take(self) -> None:
        if self.in_use >= self.limit:
            raise TooManyRequestsException(
                detail="Too many exports are running; try again in a few seconds.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.in_use += 1

    def release(self) -> None:
        self.in_use -= 1


# The one boolean column; csv writes None as an empty cell by itself.
_AUTO = COLUMNS.index("is_auto_cash_out")


def csv_rows(batch: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as in the JSON body, with CSV's spelling of booleans.

    msgspec.to_builtins gives the JSON body's strings for decimals and
    datetimes; tuples straight from the cursor skip building a Struct and a
    dict per row (the export's Python cost per row roughly halves).
    """
    rows: list[list[Any]] = []
    for values in msgspec.to_builtins(batch):
        row = list(values)
        row[_AUTO] = "true" if row[_AUTO] else "false"
        rows.append(row)
    return rows


def csv_chunk(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def timeouts(settings: Settings) -> dict[str, str]:
    return {
        "statement_timeout_ms": str(round(settings.export_statement_timeout * 1000)),
        # PostgreSQL's backstop, for an app that stops fetching for any other
        # reason; the send timeout below normally ends a stalled download first.
        "idle_timeout_ms": str(round(settings.export_idle_timeout * 2000)),
    }


async def csv_stream(
    pool: AsyncConnectionPool,
    queries: Queries,
    flt: ActivityFilter,
    slots: ExportSlots,
    limits: dict[str, str],
) -> AsyncGenerator[bytes, None]:
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


def _idle_timeout(scope: Any) -> float:
    settings: Settings = scope["litestar_app"].state.settings
    return settings.export_idle_timeout


class ExportController(Controller):
    path = "/cash-out/activity/export"
    tags = ["cash-out"]
    dependencies = ACTIVITY_FILTER

    @get(
        "/",
        summary="Every matching cash-out as CSV",
        description="The list's filters, no paging: one header row naming the item fields, then "
        "every matching row in the list's order, values formatted as in the JSON list "
        "(booleans true/false, empty for null). Streamed in constant memory. At most half "
        "the connection pool's size run at once per process; beyond that, 429 with "
        "Retry-After.",
        media_type="text/csv",
        response_description="text/csv, one row per cash-out",
        raises=[*ERRORS, TooManyRequestsException],
        middleware=[send_timeout(_idle_timeout)],
    )
    async def export(
        self,
        request: Request[Any, Any, Any],
        state: State,
        services: AppServices,
        activity_filter: NamedDependency[ActivityFilter],
    ) -> Stream:
        rows = csv_stream(
            services.pool,
            services.queries,
            activity_filter,
            state.export_slots,
            timeouts(services.settings),
        )
        # Start the query before answering: a database fault is still a 503
        # here, not a 200 with a cut-off body.
        header = await anext(rows)

        async def body() -> AsyncIterator[bytes]:
            yield header
            async for chunk in rows:
                yield chunk

        # Litestar does not close the iterator when the client goes away or the
        # response fails; this returns the connection and the slot at once
        # instead of at garbage collection.
        on_end(request.scope, rows.aclose)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Stream(
            body(),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="cash-out-activity-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )
