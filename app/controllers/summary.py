"""The summary widget: metrics over a rolling window ending now, and the top customers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.params import Parameter
from psycopg.rows import class_row

from app.deps import CurrentAgent, Pool, SqlQueries
from app.schemas import PeriodName, Summary, TopCustomer

QUERIES = ("begin_snapshot", "agent_summary", "agent_top_customers")

TOP_CUSTOMERS = 5


class SummaryController(Controller):
    path = "/cash-out/summary"
    tags = ["cash-out"]

    @get(
        "/",
        summary="Cash-out metrics over the last 24 hours, 7 days or 30 days",
        description="Cash-outs with window_start <= settled_at <= window_end, the window "
        "ending now and exactly 24, 168 or 720 hours long. With no cash-outs, counts and "
        "sums are 0 and auto_cash_out_percentage and avg_return_ratio are null. "
        "top_customers: at most 5, by cash_out_count, then total_cash_out_amount "
        "(both descending), then customer_id.",
        raises=[ValidationException, NotAuthorizedException],
    )
    async def summary(
        self,
        agent: CurrentAgent,
        pool: Pool,
        queries: SqlQueries,
        period: Annotated[PeriodName, Parameter(description="The window's length.")] = "24h",
    ) -> Summary:
        params = {"agent_id": agent.id, "period": period, "top": TOP_CUSTOMERS}
        async with pool.connection() as conn, conn.transaction():
            # One transaction: one now() for both views, and one snapshot so
            # the top customers add up with the totals.
            await conn.execute(queries["begin_snapshot"])
            cur = conn.cursor(row_factory=class_row(Summary))
            await cur.execute(queries["agent_summary"], params)
            summary = await cur.fetchone()
            top_cur = conn.cursor(row_factory=class_row(TopCustomer))
            await top_cur.execute(queries["agent_top_customers"], params)
            top = await top_cur.fetchall()
        # The view has a row for every agent and period.
        assert summary is not None
        summary.top_customers = top
        return summary
