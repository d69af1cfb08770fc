"""Request and response bodies (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

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


class Agent(msgspec.Struct):
    id: int
    username: str
    display_name: str


class AgentCredentials(msgspec.Struct):
    id: int
    username: str
    display_name: str
    password_hash: str


class LoginResponse(msgspec.Struct):
    token: str
    expires_at: datetime
    agent: Agent


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class ActivityItem(msgspec.Struct):
    """One cash-out, as in the activity list and the stream's ``data:`` line."""

    event_id: str | None
    bet_id: int
    customer_id: int
    customer_username: str
    selection: str
    stake: Decimal
    cash_out_amount: Decimal
    profit_loss: Decimal
    return_ratio: Decimal
    is_auto_cash_out: bool
    cash_out_trigger_reason: str | None
    placed_at: datetime
    settled_at: datetime
