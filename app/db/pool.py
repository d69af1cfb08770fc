"""The connection pool: created when the app is built, opened and closed in its lifespan."""

from __future__ import annotations

import time
import weakref
from functools import partial
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db.queries import Queries

QUERIES = ("connection_setup",)
# As pg_stat_activity shows the app's connections (the listener's has its own name).
APPLICATION_NAME = "cashout-feed"

# A connection back in the pool for less than this is handed out again without
# a round trip to check it (as HikariCP's "alive bypass window"): checking on
# every checkout cost two round trips per request, 5-10 % of a short request.
# A connection idle longer (and so any after an outage, which outlasts this)
# is checked, and a broken one replaced, before a request gets it.
CHECK_AFTER_IDLE_SECONDS = 0.5


def session_settings(settings: Settings) -> dict[str, str]:
    """The parameters of ``connection_setup``: every app connection's limits."""
    return {
        "lock_timeout_ms": str(round(settings.db_lock_timeout * 1000)),
        "statement_timeout_ms": str(round(settings.db_statement_timeout * 1000)),
    }


async def configure(conn: AsyncConnection, queries: Queries, settings: Settings) -> None:
    await conn.execute(queries["connection_setup"], session_settings(settings))


class _IdleCheck:
    """The pool's check and reset callbacks: check only connections idle a while."""

    def __init__(self, after_seconds: float) -> None:
        self.after_seconds = after_seconds
        self._returned_at: weakref.WeakKeyDictionary[AsyncConnection, float] = (
            weakref.WeakKeyDictionary()
        )

    async def reset(self, conn: AsyncConnection) -> None:
        self._returned_at[conn] = time.monotonic()

    async def check(self, conn: AsyncConnection) -> None:
        returned = self._returned_at.get(conn)
        if returned is None or time.monotonic() - returned >= self.after_seconds:
            await AsyncConnectionPool.check_connection(conn)


# TCP only (ignored on a Unix socket): a database host that vanishes, or a
# network that drops packets without resetting the connection, is noticed
# after ~60 s of silence (keepalive probes) or ~30 s of unacknowledged data
# (tcp_user_timeout), instead of the kernel's two hours or ~15 minutes; the
# connection then fails and is replaced like one broken by a restart.
KEEPALIVE_PARAMS = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def connection_kwargs(
    settings: Settings, application_name: str = APPLICATION_NAME
) -> dict[str, Any]:
    """psycopg connect() arguments for every app connection (pool and listener)."""
    return {
        "autocommit": True,
        "application_name": application_name,
        "connect_timeout": max(1, round(settings.db_timeout)),
        **KEEPALIVE_PARAMS,
    }


def create_pool(settings: Settings, queries: Queries) -> AsyncConnectionPool:
    if settings.database_url is None:
        raise RuntimeError("create_pool needs a database URL (start the embedded database first)")
    idle = _IdleCheck(CHECK_AFTER_IDLE_SECONDS)
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        open=False,
        timeout=settings.db_timeout,
        kwargs=connection_kwargs(settings),
        configure=partial(configure, queries=queries, settings=settings),
        # A connection broken by a database restart is found and replaced here
        # instead of failing the request that would have used it.
        check=idle.check,
        reset=idle.reset,
        reconnect_timeout=0,  # keep trying for ever: the app heals when the database returns
        name="cashout-feed",
    )
