"""The activity as CSV, streamed from a server-side cursor in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.response import Stream
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from app.controllers.activity import ACTIVITY_FILTER, ERRORS
from app.deps import Pool, SqlQueries
from app.filters import ActivityFilter
from app.queries import Queries
from app.schemas import ActivityItem

QUERIES = ("activity_items",)

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


def _cell(value: Any) -> Any:
    # As in the JSON body (msgspec.to_builtins gives its strings for decimals
    # and datetimes), with CSV's spelling of booleans and null.
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def csv_chunk(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def csv_stream(
    pool: AsyncConnectionPool, queries: Queries, flt: ActivityFilter, slots: ExportSlots
) -> AsyncGenerator[bytes, None]:
    params = {**flt.params(), "limit": None, "offset": 0}
    slots.take()
    try:
        # A named (server-side) cursor needs a transaction; it holds one
        # connection for the length of the download and never more than a
        # batch of rows in memory.
        async with pool.connection() as conn, conn.transaction():
            cur = conn.cursor("activity_export", row_factory=class_row(ActivityItem))
            await cur.execute(queries["activity_items"], params)
            yield csv_chunk([COLUMNS])
            while batch := await cur.fetchmany(BATCH_ROWS):
                yield csv_chunk(
                    [_cell(item[name]) for name in COLUMNS] for item in msgspec.to_builtins(batch)
                )
    finally:
        slots.release()


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
    )
    async def export(
        self,
        state: State,
        pool: Pool,
        queries: SqlQueries,
        activity_filter: NamedDependency[ActivityFilter],
    ) -> Stream:
        rows = csv_stream(pool, queries, activity_filter, state.export_slots)
        # Start the query before answering: a database fault is still a 503
        # here, not a 200 with a cut-off body.
        header = await anext(rows)

        async def body() -> AsyncIterator[bytes]:
            yield header
            async for chunk in rows:
                yield chunk

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Stream(
            body(),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="cash-out-activity-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
            # Litestar does not close the iterator when the client goes away;
            # this returns the connection at once instead of at garbage collection.
            background=BackgroundTask(rows.aclose),
        )
