"""The pool's connection check: skipped for a connection just returned, made otherwise."""

import psycopg
import pytest

from app.db.pool import KEEPALIVE_PARAMS, _IdleCheck, create_pool
from app.db.queries import Queries


async def _broken_connection(database_url: str, db: psycopg.Connection) -> psycopg.AsyncConnection:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    # With a timeout, pg_terminate_backend returns once the backend has exited.
    db.execute("select pg_terminate_backend(%s, 5000)", (conn.info.backend_pid,))
    return conn


async def test_a_connection_idle_longer_than_the_window_is_checked(database_url, db):
    idle = _IdleCheck(after_seconds=0.0)
    conn = await _broken_connection(database_url, db)
    await idle.reset(conn)
    with pytest.raises(psycopg.OperationalError):
        await idle.check(conn)
    await conn.close()


async def test_a_connection_never_returned_is_checked(database_url, db):
    idle = _IdleCheck(after_seconds=3600.0)
    conn = await _broken_connection(database_url, db)
    with pytest.raises(psycopg.OperationalError):
        await idle.check(conn)
    await conn.close()


async def test_a_connection_just_returned_is_handed_out_without_a_round_trip(database_url, db):
    idle = _IdleCheck(after_seconds=3600.0)
    conn = await _broken_connection(database_url, db)
    await idle.reset(conn)
    await idle.check(conn)  # no query sent, so the broken connection goes unnoticed
    await conn.close()


async def test_pool_connections_carry_the_keepalive_settings(settings):
    pool = create_pool(settings, Queries.load())
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            params = conn.info.get_parameters()
    finally:
        await pool.close()
    for name, value in KEEPALIVE_PARAMS.items():
        assert params.get(name) == str(value), name
