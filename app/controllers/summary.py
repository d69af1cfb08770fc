"""The summary widget: metrics over a rolling window ending now, and the top customers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.params import Parameter
from psycopg.rows import class_row

from app.controllers.activity import CustomerIdParameter, ensure_own_customer
from app.schemas import PeriodName, Summary, SummaryRow, TopCustomer
from app.services import AppServices, CurrentAgent

QUERIES = ("agent_summary_with_top", "customer_summary_with_top")

TOP_CUSTOMERS = 5
# SummaryRow carries these under the same names, and TopCustomer's as top_<name>.
_SUMMARY_FIELDS = tuple(name for name in Summary.__struct_fields__ if name != "top_customers")
_TOP_FIELDS = TopCustomer.__struct_fields__


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
        "(both descending), then customer_id. With `customer_id`, every figure is that "
        "customer's and top_customers holds at most that customer.",
        raises=[ValidationException, NotAuthorizedException, NotFoundException],
    )
    async def summary(
        self,
        agent: CurrentAgent,
        services: AppServices,
        period: Annotated[PeriodName, Parameter(description="The window's length.")] = "24h",
        customer_id: CustomerIdParameter = None,
    ) -> Summary:
        params = {"agent_id": agent.id, "period": period, "top": TOP_CUSTOMERS}
        query = "agent_summary_with_top"
        if customer_id is not None:
            await ensure_own_customer(services, agent.id, customer_id)
            params["customer_id"] = customer_id
            query = "customer_summary_with_top"
        async with services.reads.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SummaryRow))
            await cur.execute(services.queries[query], params)
            rows = await cur.fetchall()
        # Either query has a row for every agent and period; a row's top_*
        # columns are null when the window has no customer to rank.
        first = rows[0]
        return Summary(
            **{name: getattr(first, name) for name in _SUMMARY_FIELDS},
            top_customers=[
                TopCustomer(**{name: getattr(row, f"top_{name}") for name in _TOP_FIELDS})
                for row in rows
                if row.top_customer_id is not None
            ],
        )
