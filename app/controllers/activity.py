"""The cash-out activity list: filters, a page, totals and the stream position."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.params import Parameter
from psycopg.rows import class_row

from app.filters import DATE_PATTERN, MAX_TZ_LENGTH, ActivityFilter, parse_filter
from app.schemas import ActivityItem, ActivityPage, ActivityTotals, Pagination
from app.services import AppServices, CurrentAgent, Services

QUERIES = (
    "begin_snapshot",
    "agent_customer_exists",
    "activity_totals",
    "activity_totals_customer",
    "activity_page",
)

MAX_BIGINT = 2**63 - 1

# Optional everywhere it is taken: the list, the export, the summary, the series.
CustomerIdParameter = Annotated[
    int | None,
    Parameter(
        ge=1,
        le=MAX_BIGINT,
        description="Only this customer's cash-outs; must be one of your customers (else 404).",
    ),
]

_DATE_HELP = (
    "RFC 3339 datetime (e.g. 2026-11-24T10:05:00Z) or a plain date YYYY-MM-DD. "
    "Plain dates and datetimes without an offset are read in `tz`."
)


def _date_parameter(meaning: str) -> Any:
    return Parameter(
        max_length=64,
        description=meaning + " " + _DATE_HELP,
        schema_extra={"pattern": DATE_PATTERN},
    )


async def provide_activity_filter(
    agent: CurrentAgent,
    services: AppServices,
    customer_id: CustomerIdParameter = None,
    date_from: Annotated[
        str | None,
        _date_parameter(
            "Settled at or after this instant; a plain date means the start of that day."
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        _date_parameter(
            "Settled at or before this instant (inclusive); a plain date includes that whole"
            " day. Must not be before `date_from`."
        ),
    ] = None,
    tz: Annotated[
        str,
        Parameter(
            max_length=MAX_TZ_LENGTH,
            description="IANA time zone (e.g. Europe/London) in which plain dates and "
            "datetimes without an offset are read.",
        ),
    ] = "UTC",
) -> ActivityFilter:
    flt = parse_filter(agent.id, customer_id, date_from, date_to, tz)
    if customer_id is not None:
        await ensure_own_customer(services, agent.id, customer_id)
    return flt


async def ensure_own_customer(services: Services, agent_id: int, customer_id: int) -> None:
    """404 unless the customer is the agent's (the list's, summary's and series' rule).

    Asked of the primary even when reads go to a replica: a client may have
    learnt of a brand-new customer from the stream (read on the primary), and
    a lagging replica would answer 404 for it. One lookup by primary key.
    """
    async with services.pool.connection() as conn:
        cur = await conn.execute(
            services.queries["agent_customer_exists"],
            {"customer_id": customer_id, "agent_id": agent_id},
        )
        row = await cur.fetchone()
    if row is None or not row[0]:
        # Same answer for another agent's customer and for no customer at
        # all, so ids cannot be probed.
        raise NotFoundException(f"Customer {customer_id} is not one of your customers.")


ACTIVITY_FILTER = {"activity_filter": Provide(provide_activity_filter)}
ERRORS = [ValidationException, NotAuthorizedException, NotFoundException]


class ActivityController(Controller):
    path = "/cash-out/activity"
    tags = ["cash-out"]
    dependencies = ACTIVITY_FILTER

    @get(
        "/",
        summary="Your customers' cash-outs, newest first, with totals",
        description="Ordered by settled_at then bet_id, both descending. `totals` cover every "
        "matching row. `last_event_id` is your stream position in the same snapshot as the "
        'list (never null: "0" before your first event): open the stream from it to miss '
        "nothing and see nothing twice.",
        raises=ERRORS,
    )
    async def activity(
        self,
        agent: CurrentAgent,
        services: AppServices,
        activity_filter: NamedDependency[ActivityFilter],
        limit: Annotated[int, Parameter(ge=1, le=100, description="Page size.")] = 20,
        offset: Annotated[
            int, Parameter(ge=0, le=MAX_BIGINT, description="Matching rows to skip.")
        ] = 0,
    ) -> ActivityPage:
        params = {**activity_filter.params(), "limit": limit, "offset": offset}
        queries = services.queries
        async with services.reads.connection() as conn, conn.transaction():
            # One snapshot for the totals, the page and the stream position:
            # on a lagging replica the position is as old as the rows, and the
            # stream (replayed from the primary) brings everything after it.
            await conn.execute(queries["begin_snapshot"])
            totals = (
                "activity_totals"
                if activity_filter.customer_id is None
                else ("activity_totals_customer")
            )
            cur = await conn.execute(queries[totals], params)
            row = await cur.fetchone()
            assert row is not None
            count, cash_out_amount, profit_loss, last_event_id = row
            items_cur = conn.cursor(row_factory=class_row(ActivityItem))
            await items_cur.execute(queries["activity_page"], params)
            items = await items_cur.fetchall()
        return ActivityPage(
            items=items,
            totals=ActivityTotals(
                total_count=count,
                total_cash_out_amount=cash_out_amount,
                total_profit_loss=profit_loss,
            ),
            pagination=Pagination(limit=limit, offset=offset, has_more=offset + len(items) < count),
            last_event_id=last_event_id,
        )
