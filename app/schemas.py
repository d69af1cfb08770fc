"""Request and response bodies (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

# No control characters: PostgreSQL text cannot hold NUL (it would be a 500), and
# no real username has any.
Username = Annotated[
    str, msgspec.Meta(min_length=1, max_length=150, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


# Unknown fields are ignored, as the OpenAPI document (which cannot say
# otherwise for msgspec Structs in Litestar) promises; a misspelt field still
# fails as a missing required one.
class LoginRequest(msgspec.Struct):
    username: Username
    password: Password


# The platform's columns are nullable wherever SPEC §3 does not mark them not
# null, and so are the fields that carry them: the API says null rather than
# failing, and the page shows a fallback.
class Agent(msgspec.Struct):
    id: int
    username: str | None
    display_name: str | None


class AgentCredentials(msgspec.Struct):
    id: int
    username: str | None
    display_name: str | None
    password_hash: str


class LoginResponse(msgspec.Struct):
    token: str
    expires_at: datetime
    agent: Agent


class SessionState(msgspec.Struct):
    agent: Agent | None


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


ReplicaStateName = Literal["unknown", "streaming", "lagging", "unavailable", "not a standby"]


class ReplicaStatus(msgspec.Struct, frozen=True):
    """The read replica as its last check (every second) found it."""

    state: ReplicaStateName
    reads_on: Literal["replica", "primary"]
    # None until measured, or when unavailable.
    lag_seconds: float | None
    max_lag_seconds: float
    problem: str | None = None


class Readiness(msgspec.Struct, omit_defaults=True):
    # "ok", "degraded" (serving; the replica is not used) or "unavailable".
    status: str
    checks: dict[str, str]
    # Only when DATABASE_READ_URL is set.
    replica: ReplicaStatus | None = None


class ActivityItem(msgspec.Struct):
    """One cash-out, as in the activity list and the stream's ``data:`` line."""

    event_id: str | None
    bet_id: int
    customer_id: int
    customer_username: str | None
    selection: str | None
    # Null only where the platform has no stake for the bet.
    stake: Decimal | None
    cash_out_amount: Decimal
    profit_loss: Decimal | None
    return_ratio: Decimal | None
    is_auto_cash_out: bool
    cash_out_trigger_reason: str | None
    placed_at: datetime
    settled_at: datetime


# Decimal quantities leave as strings with fixed decimals (rounded in SQL).
Money = Annotated[
    Decimal, msgspec.Meta(description="Money, 2 decimals, as a string", examples=["12.50"])
]
Ratio = Annotated[
    Decimal, msgspec.Meta(description="A ratio, 4 decimals, as a string", examples=["1.2500"])
]
Percentage = Annotated[
    Decimal, msgspec.Meta(description="A percentage, 2 decimals, as a string", examples=["33.33"])
]
PeriodName = Literal["24h", "7d", "30d"]


class ActivityTotals(msgspec.Struct):
    """Over every row that matches the filters, not just the page."""

    total_count: int
    total_cash_out_amount: Money
    total_profit_loss: Money


class Pagination(msgspec.Struct):
    limit: int
    offset: int
    has_more: bool


class ActivityPage(msgspec.Struct):
    items: list[ActivityItem]
    totals: ActivityTotals
    pagination: Pagination
    # The agent's stream position when the list was read: open the stream from
    # here to miss nothing and see nothing twice. "0" before its first event.
    last_event_id: str


class Customer(msgspec.Struct):
    id: int
    username: str | None
    display_name: str | None


class CustomerList(msgspec.Struct):
    items: list[Customer]


class TopCustomer(msgspec.Struct):
    customer_id: int
    customer_username: str | None
    cash_out_count: int
    total_cash_out_amount: Money
    net_profit_loss: Money


class Summary(msgspec.Struct):
    period: PeriodName
    window_start: datetime
    window_end: datetime
    total_cash_outs: int
    unique_customers: int
    total_stake: Money
    total_cash_out_amount: Money
    net_profit_loss: Money
    auto_cash_out_count: int
    # Null when the window has no cash-outs.
    auto_cash_out_percentage: Percentage | None
    avg_return_ratio: Ratio | None
    top_customers: list[TopCustomer] = msgspec.field(default_factory=list)


class SummaryRow(msgspec.Struct):
    """A row of the summary query: the summary, and one top customer or none."""

    period: PeriodName
    window_start: datetime
    window_end: datetime
    total_cash_outs: int
    unique_customers: int
    total_stake: Decimal
    total_cash_out_amount: Decimal
    net_profit_loss: Decimal
    auto_cash_out_count: int
    auto_cash_out_percentage: Decimal | None
    avg_return_ratio: Decimal | None
    top_customer_id: int | None
    top_customer_username: str | None
    top_cash_out_count: int | None
    top_total_cash_out_amount: Decimal | None
    top_net_profit_loss: Decimal | None


class DailyItem(msgspec.Struct):
    """One calendar day of the daily series (a row of the daily query, same names)."""

    day: date
    cash_outs: int
    auto_cash_outs: int
    total_stake: Money
    total_cash_out_amount: Money
    net_profit_loss: Money


class DailySeries(msgspec.Struct):
    tz: str
    date_from: date
    date_to: date
    # One per day from date_from to date_to, oldest first, zero days included.
    items: list[DailyItem]
