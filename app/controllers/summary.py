"""The summary widget: metrics over a rolling window ending now, and the top customers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.params import Parameter
from psycopg.rows import class_row

from app.deps import AppServices, CurrentAgent
from app.schemas import PeriodName, Summary, SummaryRow, TopCustomer

QUERIES = ("agent_summary_with_top",)

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
        services: AppServices,
        period: Annotated[PeriodName, Parameter(description="The window's length.")] = "24h",
    ) -> Summary:
        params = {"agent_id": agent.id, "period": period, "top": TOP_CUSTOMERS}
        async with services.pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SummaryRow))
            await cur.execute(services.queries["agent_summary_with_top"], params)
            rows = await cur.fetchall()
        # The view has a row for every agent and period.
        first = rows[0]
        return Summary(
            period=first.period,
            window_start=first.window_start,
            window_end=first.window_end,
            total_cash_outs=first.total_cash_outs,
            unique_customers=first.unique_customers,
            total_stake=first.total_stake,
            total_cash_out_amount=first.total_cash_out_amount,
            net_profit_loss=first.net_profit_loss,
            auto_cash_out_count=first.auto_cash_out_count,
            auto_cash_out_percentage=first.auto_cash_out_percentage,
            avg_return_ratio=first.avg_return_ratio,
            top_customers=[_top(row) for row in rows if row.top_customer_id is not None],
        )


def _top(row: SummaryRow) -> TopCustomer:
    assert row.top_customer_username is not None and row.top_cash_out_count is not None
    assert row.top_total_cash_out_amount is not None and row.top_net_profit_loss is not None
    assert row.top_customer_id is not None
    return TopCustomer(
        customer_id=row.top_customer_id,
        customer_username=row.top_customer_username,
        cash_out_count=row.top_cash_out_count,
        total_cash_out_amount=row.top_total_cash_out_amount,
        net_profit_loss=row.top_net_profit_loss,
    )
