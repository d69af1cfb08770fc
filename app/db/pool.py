"""The connection pools (the primary's and the replica's): created when the app is built,
opened and closed in its lifespan."""

from __future__ import annotations

import logging
import time
import weakref
from functools import partial
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db.queries import Queries

log = logging.getLogger(__name__)

QUERIES = ("connection_setup", "connection_setup_pooled")
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


class PooledSetup:
    """``configure`` behind a transaction pooler, where a SET lasts one transaction.

    The pooler lends a server session per transaction; a SET stays behind in
    that session and the next transaction may get another one. Only the
    parameters the server reports back follow a client: PgBouncer keeps them
    per client and sets them again on the session it lends next (TimeZone
    among them; checked with PgBouncer 1.18, tests/test_pgbouncer.py), so the
    time zone is set here. plan_cache_mode is moot without prepared statements
    (an unnamed statement is planned with its values each time). jit and the
    lock and statement timeouts must be the server's defaults for the app's
    role (``ALTER ROLE … SET``, docs/operations.md#connection-poolers): the
    first connection checks them and says so once if they are not.
    """

    def __init__(self, queries: Queries, settings: Settings) -> None:
        self._queries, self._settings = queries, settings
        self._checked = False

    async def __call__(self, conn: AsyncConnection) -> None:
        cur = await conn.execute(self._queries["connection_setup_pooled"])
        row = await cur.fetchone()
        if self._checked or row is None:
            return
        self._checked = True
        _, jit, lock_ms, statement_ms = row
        wanted = session_settings(self._settings)
        found = {"jit": jit, "lock_timeout": str(lock_ms), "statement_timeout": str(statement_ms)}
        expected = {
            "jit": "off",
            "lock_timeout": wanted["lock_timeout_ms"],
            "statement_timeout": wanted["statement_timeout_ms"],
        }
        wrong = [name for name in expected if found[name] != expected[name]]
        if wrong:
            values = ", ".join(f"{name} = {_sql_value(expected[name])}" for name in wrong)
            log.warning(
                "through the transaction pooler, the server sessions have %s; set them for the"
                " app's role: ALTER ROLE <role> SET %s (one SET per parameter)",
                ", ".join(f"{name} = {found[name]}" for name in wrong),
                values,
            )


def _sql_value(value: str) -> str:
    return value if value == "off" else f"'{value}ms'"


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
    settings: Settings, application_name: str = APPLICATION_NAME, pooled: bool = False
) -> dict[str, Any]:
    """psycopg connect() arguments for every app connection (pools and listener).

    ``pooled``: through the transaction pooler of ``db_pooler``, if any.
    """
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "application_name": application_name,
        "connect_timeout": max(1, round(settings.db_timeout)),
        **KEEPALIVE_PARAMS,
    }
    if pooled and settings.db_pooler == "transaction":
        # psycopg prepares a query the fifth time a connection runs it, under
        # a name that lives in one server session: the pooler lends that
        # session to other clients (DuplicatePreparedStatement) and gives this
        # one another (InvalidSqlStatementName).
        kwargs["prepare_threshold"] = None
    return kwargs


def create_pool(
    settings: Settings, queries: Queries, url: str | None = None, name: str = "cashout-feed"
) -> AsyncConnectionPool:
    """A request pool on ``url`` (default: the primary's ``database_url``)."""
    url = url or settings.database_url
    if url is None:
        raise RuntimeError("create_pool needs a database URL (start the embedded database first)")
    idle = _IdleCheck(CHECK_AFTER_IDLE_SECONDS)
    pooled = settings.db_pooler == "transaction"
    return AsyncConnectionPool(
        url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        open=False,
        timeout=settings.db_timeout,
        kwargs=connection_kwargs(settings, pooled=True),
        configure=(
            PooledSetup(queries, settings)
            if pooled
            else partial(configure, queries=queries, settings=settings)
        ),
        # A connection broken by a database restart is found and replaced here
        # instead of failing the request that would have used it.
        check=idle.check,
        reset=idle.reset,
        reconnect_timeout=0,  # keep trying for ever: the app heals when the database returns
        name=name,
    )
