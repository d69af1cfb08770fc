"""The connection pool: created when the app is built, opened and closed in its lifespan."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from app.config import Settings


async def _configure(conn: AsyncConnection) -> None:
    # Timestamps leave the database in UTC; generic plans for the optional
    # filters (``%(x)s is null or ...``) would be poor, so always plan per value.
    await conn.execute("set time zone 'UTC'; set plan_cache_mode = force_custom_plan")


def create_pool(settings: Settings) -> AsyncConnectionPool:
    if settings.database_url is None:
        raise RuntimeError("create_pool needs a database URL (start the embedded database first)")
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        open=False,
        timeout=settings.db_timeout,
        kwargs={"autocommit": True, "connect_timeout": max(1, round(settings.db_timeout))},
        configure=_configure,
        # A connection broken by a database restart is found and replaced here
        # instead of failing the request that would have used it.
        check=AsyncConnectionPool.check_connection,
        reconnect_timeout=0,  # keep trying for ever: the app heals when the database returns
        name="cashout-feed",
    )
