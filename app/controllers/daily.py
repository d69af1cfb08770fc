"""The daily series for charts: one item per calendar day in the caller's time zone."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.params import Parameter
from psycopg.rows import class_row

from app.controllers.activity import CustomerIdParameter, ensure_own_customer
from app.filters import MAX_DAYS, MAX_TZ_LENGTH, PLAIN_DATE_PATTERN, parse_day_range
from app.schemas import DailyItem, DailySeries
from app.services import AppServices, CurrentAgent

QUERIES = ("daily_series", "daily_series_customer")


def _day_parameter(meaning: str) -> Any:
    return Parameter(
        max_length=10,
        description=meaning + " A plain date, YYYY-MM-DD, in `tz`.",
        schema_extra={"pattern": PLAIN_DATE_PATTERN},
    )


class DailyController(Controller):
    path = "/cash-out/daily"
    tags = ["cash-out"]

    @get(
        "/",
        summary="Cash-outs per calendar day in your time zone, for charts",
        description="One item per calendar day in `tz` from date_from to date_to inclusive, "
        "oldest first, days without cash-outs as zeros. A day is the local day (23 or 25 "
        "hours across a daylight-saving change). A day's figures equal the list's totals "
        "for the same day and filters. Default: the 30 days ending today in `tz`; at most "
        f"{MAX_DAYS} days.",
        raises=[ValidationException, NotAuthorizedException, NotFoundException],
    )
    async def daily(
        self,
        agent: CurrentAgent,
        services: AppServices,
        date_from: Annotated[
            str | None,
            _day_parameter(
                "First day of the series. Default: 29 days before date_to (30 days in all)."
            ),
        ] = None,
        date_to: Annotated[
            str | None,
            _day_parameter(
                "Last day of the series (included); not before date_from. Default: today in `tz`."
            ),
        ] = None,
        tz: Annotated[
            str,
            Parameter(
                max_length=MAX_TZ_LENGTH,
                description="IANA time zone (e.g. Europe/London) whose calendar days are counted.",
            ),
        ] = "UTC",
        customer_id: CustomerIdParameter = None,
    ) -> DailySeries:
        days = parse_day_range(date_from, date_to, tz)
        if customer_id is not None:
            await ensure_own_customer(services, agent.id, customer_id)
        params = {
            "agent_id": agent.id,
            "customer_id": customer_id,
            "date_from": days.first,
            "days": days.days,
            "day_starts": list(days.starts),
            "settled_from": days.starts[0],
            "settled_before": days.starts[-1],
        }
        async with services.reads.connection() as conn:
            cur = conn.cursor(row_factory=class_row(DailyItem))
            query = "daily_series" if customer_id is None else "daily_series_customer"
            await cur.execute(services.queries[query], params)
            items = await cur.fetchall()
        return DailySeries(tz=days.tz, date_from=days.first, date_to=days.last, items=items)
