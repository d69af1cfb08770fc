"""The activity as CSV: every matching row, streamed in constant memory."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.openapi import ResponseSpec
from litestar.types import ASGIApp

from app.controllers.activity import ACTIVITY_FILTER, ERRORS
from app.export import rows as export_rows
from app.export.response import CsvDownload
from app.filters import ActivityFilter
from app.services import AppServices

QUERIES = export_rows.QUERIES


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
        responses={
            200: ResponseSpec(
                str, media_type="text/csv", description="text/csv, one row per cash-out"
            )
        },
        raises=[*ERRORS, TooManyRequestsException],
    )
    async def export(
        self, services: AppServices, activity_filter: NamedDependency[ActivityFilter]
    ) -> ASGIApp:
        rows = export_rows.csv_stream(
            services.reads.connection,
            services.queries,
            activity_filter,
            services.export_slots,
            export_rows.timeouts(services.settings),
        )
        # Start the query before answering: a database fault is still a 503
        # here, not a 200 with a cut-off body.
        try:
            header = await anext(rows)
        except BaseException:
            await rows.aclose()
            raise
        return CsvDownload(header, rows, services.settings.export_idle_timeout)
