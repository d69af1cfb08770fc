"""The request pool through a real PgBouncer in transaction mode; LISTEN on a direct connection."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from app.config import Settings
from app.db.pool import create_pool
from app.db.queries import Queries
from tests import factories
from tests.conftest import LiveServer, login
from tests.pgbouncer import PgBouncer
from tests.sse import open_stream

API = "/api/v1/agent"


@pytest.fixture
def bouncer(pg_server: str, tmp_path: Path) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(pg_server, tmp_path / "pgbouncer")
    yield bouncer
    bouncer.stop()


def through(bouncer: PgBouncer, database_url: str) -> str:
    """The test's database, reached through the pooler."""
    return bouncer.url(urlsplit(database_url).path.lstrip("/"))


def pooled_settings(bouncer: PgBouncer, database_url: str, pooler: str, **more: Any) -> Settings:
    # 16 connections (8 export slots, one per smoke client) taking turns on
    # the pooler's 3 server sessions.
    return Settings(
        database_url=through(bouncer, database_url),
        database_listen_url=database_url,
        db_pooler=pooler,  # type: ignore[arg-type]
        **{"pool_max_size": 16, **more},
    )


def book(db: psycopg.Connection) -> dict[str, Any]:
    """An agent with two customers and a few cash-outs, some of them live."""
    username = factories.unique("agent")
    agent_id = factories.make_agent(db, username)
    customers = [factories.make_customer(db, agent_id) for _ in range(2)]
    for customer in customers:
        for _ in range(3):
            factories.cash_out(db, factories.make_bet(db, customer))
    return {"id": agent_id, "username": username, "customers": customers}


async def smoke(server: LiveServer, agent: dict[str, Any], rounds: int) -> collections.Counter:
    """The REST smoke path, ``rounds`` times over by 8 clients at once: statuses by route."""
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    customer = agent["customers"][0]
    paths = [
        f"{API}/me",
        "/api/v1/auth/session",
        f"{API}/cash-out/activity",
        f"{API}/cash-out/activity?customer_id={customer}&limit=2",
        f"{API}/cash-out/summary?period=7d",
        f"{API}/cash-out/summary?customer_id={customer}",
        f"{API}/cash-out/daily?tz=Europe/London",
        f"{API}/cash-out/activity/export",
        f"{API}/customers",
    ]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        token = (
            await client.post(
                "/api/v1/auth/login",
                json={"username": agent["username"], "password": factories.PASSWORD},
            )
        ).json()["token"]
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}

        async def worker() -> None:
            for _ in range(rounds):
                for path in paths:
                    response = await client.get(path, headers=headers)
                    statuses[(path.split("?")[0], response.status_code)] += 1

        await asyncio.gather(*(worker() for _ in range(8)))
    return statuses


async def test_the_rest_smoke_path_and_a_stream_through_pgbouncer(
    bouncer, database_url, db, start_server
):
    server = start_server(pooled_settings(bouncer, database_url, "transaction"))
    agent = book(db)
    statuses = await smoke(server, agent, rounds=4)
    assert sum(statuses.values()) == 8 * 4 * 9
    assert {status for _, status in statuses} == {200}, statuses
    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = login(client, agent["username"])
        listed = client.get(
            f"{API}/cash-out/activity", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert listed["totals"]["total_count"] == 6
    # The stream's replay through the pooler, its LISTEN on the direct URL.
    bet = factories.make_bet(db, agent["customers"][1])
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as aclient,
        open_stream(aclient, token, query=listed["last_event_id"]) as sse,
    ):
        factories.cash_out(db, bet)
        [event] = await sse.events(1)
    assert event.json()["bet_id"] == bet


async def test_without_the_pooler_setting_prepared_statements_fail_through_pgbouncer(
    bouncer, database_url, db, start_server
):
    # Why DB_POOLER exists: psycopg's automatic prepared statements meet
    # server sessions that the pooler lends to other clients.
    server = start_server(pooled_settings(bouncer, database_url, "none"))
    statuses = await smoke(server, book(db), rounds=4)
    assert any(status == 500 for _, status in statuses), statuses


async def test_a_pooled_connection_keeps_utc_and_prepares_nothing_across_server_sessions(
    bouncer, database_url
):
    settings = pooled_settings(bouncer, database_url, "transaction", pool_max_size=1)
    pool = create_pool(settings, Queries.load())
    await pool.open(wait=True)
    seen: list[tuple[int, str, int]] = []
    query = (
        "select pg_backend_pid(), current_setting('TimeZone'),"
        " (select count(*) from pg_prepared_statements)::int"
    )
    try:
        async with await psycopg.AsyncConnection.connect(
            through(bouncer, database_url), autocommit=True, prepare_threshold=None
        ) as other:
            # Another client of the pooler, in another time zone (tracked by PgBouncer).
            await other.execute("set time zone 'Asia/Tokyo'")
            for i in range(12):
                async with pool.connection() as conn:
                    if i % 2:
                        # ``other`` holds a server session meanwhile: ours gets another.
                        async with other.transaction():
                            await other.execute("select 1")
                            row = await (await conn.execute(query)).fetchone()
                    else:
                        row = await (await conn.execute(query)).fetchone()
                assert row is not None
                seen.append(row)
            other_zone = await (await other.execute("show time zone")).fetchone()
    finally:
        await pool.close()
    assert len({pid for pid, _, _ in seen}) >= 2, "always the same server session: not pooled"
    assert {zone for _, zone, _ in seen} == {"UTC"}
    assert {prepared for _, _, prepared in seen} == {0}
    assert other_zone == ("Asia/Tokyo",)


async def first_pooled_connection(settings: Settings) -> tuple[Any, ...]:
    """What the first connection of a pooled pool finds: jit and the two timeouts."""
    pool = create_pool(settings, Queries.load())
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            row = await (
                await conn.execute(
                    "select current_setting('jit'), current_setting('lock_timeout'),"
                    " current_setting('statement_timeout')"
                )
            ).fetchone()
    finally:
        await pool.close()
    assert row is not None
    return tuple(row)


async def test_pooled_connections_name_the_role_settings_the_server_lacks(
    bouncer, database_url, caplog
):
    settings = pooled_settings(bouncer, database_url, "transaction", pool_max_size=1)
    with caplog.at_level(logging.WARNING, logger="app.db.pool"):
        found = await first_pooled_connection(settings)
    assert found == ("on", "0", "0")  # the server's defaults: nothing of the app's
    [warning] = [r.getMessage() for r in caplog.records if r.name == "app.db.pool"]
    assert "ALTER ROLE <role> SET" in warning
    assert "jit = off, lock_timeout = '1000ms', statement_timeout = '5000ms'" in warning


async def test_pooled_connections_take_the_limits_from_the_role(bouncer, database_url, db, caplog):
    dbname = urlsplit(database_url).path.lstrip("/")
    for setting in ("jit = off", "lock_timeout = '1000ms'", "statement_timeout = '5000ms'"):
        # What docs/operations.md asks of the operator; IN DATABASE keeps it to
        # this test's database (dropped with it).
        db.execute(
            sql.SQL("alter role current_user in database {} set " + setting).format(
                sql.Identifier(dbname)
            )
        )
    settings = pooled_settings(bouncer, database_url, "transaction", pool_max_size=1)
    with caplog.at_level(logging.WARNING, logger="app.db.pool"):
        found = await first_pooled_connection(settings)
    assert found == ("off", "1s", "5s")
    assert not [r for r in caplog.records if r.name == "app.db.pool"]
