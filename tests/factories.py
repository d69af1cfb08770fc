"""Test data written straight into the database (the betting platform's side)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg

from app.security import hash_password, new_token, token_hash

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def _returned_id(row: tuple[Any, ...] | None) -> int:
    """The id an ``insert ... returning id`` gave back."""
    assert row is not None
    return int(row[0])


def make_agent(
    conn: psycopg.Connection, username: str | None = None, display_name: str | None = None
) -> int:
    username = username or unique("agent")
    row = conn.execute(
        "insert into agents (username, display_name) values (%s, %s) returning id",
        (username, display_name or username.title()),
    ).fetchone()
    agent_id = _returned_id(row)
    conn.execute(
        "insert into cashout_feed.credentials (agent_id, password_hash) values (%s, %s)",
        (agent_id, password_hash()),
    )
    return agent_id


def make_customer(conn: psycopg.Connection, agent_id: int, username: str | None = None) -> int:
    username = username or unique("customer")
    row = conn.execute(
        "insert into users (agent_id, username, display_name) values (%s, %s, %s) returning id",
        (agent_id, username, username.title()),
    ).fetchone()
    return _returned_id(row)


def make_bet(
    conn: psycopg.Connection,
    user_id: int,
    stake: Decimal | str = "10.00",
    odds: Decimal | str = "2.50",
    selection: str = "Arsenal v Chelsea — Arsenal",
    status: str = "open",
    cash_out_amount: Decimal | str | None = None,
    is_auto_cash_out: bool = False,
    cash_out_trigger_reason: str | None = None,
    placed_at: datetime | None = None,
    settled_at: datetime | None = None,
) -> int:
    placed_at = placed_at or datetime.now(UTC) - timedelta(hours=1)
    row = conn.execute(
        "insert into bets (user_id, stake, odds, selection, status, cash_out_amount,"
        " is_auto_cash_out, cash_out_trigger_reason, placed_at, settled_at)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (
            user_id,
            Decimal(stake),
            Decimal(odds),
            selection,
            status,
            None if cash_out_amount is None else Decimal(cash_out_amount),
            is_auto_cash_out,
            cash_out_trigger_reason,
            placed_at,
            settled_at,
        ),
    ).fetchone()
    return _returned_id(row)


def cash_out(
    conn: psycopg.Connection,
    bet_id: int,
    amount: Decimal | str = "12.50",
    auto: bool = False,
    reason: str | None = "manual",
    settled_at: datetime | None = None,
) -> None:
    """The live path: an UPDATE that moves an open bet to cashed_out."""
    conn.execute(
        "update bets set status = 'cashed_out', cash_out_amount = %s, is_auto_cash_out = %s,"
        " cash_out_trigger_reason = %s, settled_at = coalesce(%s, now()) where id = %s",
        (Decimal(amount), auto, reason, settled_at, bet_id),
    )


def make_session(conn: psycopg.Connection, agent_id: int) -> str:
    """A signed-in session for ``agent_id``, without the cost of a password check."""
    token = new_token()
    conn.execute(
        "insert into cashout_feed.sessions (token_hash, agent_id, expires_at)"
        " values (%s, %s, now() + interval '1 hour')",
        (token_hash(token), agent_id),
    )
    return token


def cashed_out_bet(
    conn: psycopg.Connection,
    user_id: int,
    stake: Decimal | str,
    amount: Decimal | str,
    settled_at: datetime,
    auto: bool = False,
    reason: str | None = "manual",
    selection: str = "Arsenal v Chelsea — Arsenal",
) -> int:
    """A bet inserted already cashed out (a backfill: listed, but no live event)."""
    return make_bet(
        conn,
        user_id,
        stake=stake,
        selection=selection,
        status="cashed_out",
        cash_out_amount=amount,
        is_auto_cash_out=auto,
        cash_out_trigger_reason=reason,
        placed_at=settled_at - timedelta(minutes=30),
        settled_at=settled_at,
    )


def bulk_cash_outs(conn: psycopg.Connection, agent_id: int, count: int) -> list[int]:
    """``count`` backfilled cash-outs generated in SQL for 10 new customers of ``agent_id``
    (returned), with a 250-character selection each."""
    customers = [make_customer(conn, agent_id) for _ in range(10)]
    conn.execute(
        """
        insert into bets (user_id, stake, odds, selection, status, cash_out_amount,
                          is_auto_cash_out, cash_out_trigger_reason, placed_at, settled_at)
        select (%(customers)s::bigint[])[1 + g %% 10], 10.00 + g %% 97, 2.5,
               'Match ' || g || ', ' || repeat('x', 240), 'cashed_out', (g %% 1013) / 10.0,
               g %% 3 = 0, case when g %% 3 = 0 then 'profit_target' else 'manual' end,
               timestamptz '2026-01-01' + g * interval '1 minute',
               timestamptz '2026-01-01' + g * interval '1 minute' + interval '30 seconds'
        from generate_series(1, %(count)s) g
        """,
        {"customers": customers, "count": count},
    )
    return customers


def nullable(conn: psycopg.Connection, table: str, column: str) -> bool:
    """Whether the platform's column may hold null in this database (SPEC §3 allows it
    wherever it does not say not null; a platform's own tables may be stricter)."""
    row = conn.execute(
        "select is_nullable = 'YES' from information_schema.columns"
        " where table_schema = current_schema() and table_name = %s and column_name = %s",
        (table, column),
    ).fetchone()
    return bool(row and row[0])
