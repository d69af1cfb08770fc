"""The platform holds a lock on `bets` (a deploy's ALTER TABLE): requests answer 503 within
the lock timeout instead of hanging, open streams keep pinging, and once the lock is gone
they deliver every cash-out made meanwhile, once each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import psycopg
import pytest

from app.config import Settings
from app.errors import DATA_LOCKED, QUERY_TOO_LONG
from app.live.listener import APPLICATION_NAME as LISTENER_NAME
from tests import factories
from tests.conftest import login
from tests.helpers import metric, wait_until_async
from tests.sse import SSE, open_stream

LIST = "/api/v1/agent/cash-out/activity"
EXPORT = "/api/v1/agent/cash-out/activity/export"
LOCK_TIMEOUT = 1.0
# What the answer may take besides the lock wait: sign-in check, pool, HTTP,
# a shared two-core machine. Generous: this checks "bounded", not speed.
MARGIN = 1.5


@asynccontextmanager
async def bets_locked(database_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    """`LOCK TABLE bets IN ACCESS EXCLUSIVE MODE` held in an open transaction."""
    conn = await psycopg.AsyncConnection.connect(database_url)
    try:
        await conn.execute("lock table bets in access exclusive mode")
        yield conn
    finally:
        await conn.rollback()
        await conn.close()


def lock_state(db: psycopg.Connection, pid: int) -> bool | None:
    """Whether ``pid`` holds (True) or waits for (False) the ACCESS EXCLUSIVE lock on bets."""
    row = db.execute(
        "select granted from pg_locks where pid = %s and relation = 'bets'::regclass"
        " and mode = 'AccessExclusiveLock'",
        (pid,),
    ).fetchone()
    return None if row is None else bool(row[0])


def listener_waits_on_a_lock(db: psycopg.Connection) -> bool:
    row = db.execute(
        "select count(*) from pg_stat_activity where application_name = %s"
        " and datname = current_database() and wait_event_type = 'Lock'",
        (LISTENER_NAME,),
    ).fetchone()
    return row is not None and row[0] > 0


async def timed_get(
    client: httpx.AsyncClient, path: str, **kw: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(path, **kw)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def assert_busy(response: httpx.Response, elapsed: float, detail: str, bound: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == detail
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < bound, f"the 503 took {elapsed:.2f} s, more than {bound:g} s"


def token_for(url: str, agent: dict[str, object]) -> str:
    with httpx.Client(base_url=url) as c:
        return login(c, str(agent["username"]))


@pytest.fixture
def book(db, agent):
    customer = factories.make_customer(db, agent["id"])
    bets = [factories.make_bet(db, customer) for _ in range(4)]
    factories.cash_out(db, bets[0])
    return bets


async def test_requests_answer_503_within_the_lock_timeout_while_bets_is_locked(
    database_url, db, agent, book, start_server
):
    server = start_server(Settings(database_url=database_url, db_lock_timeout=LOCK_TIMEOUT))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {token_for(server.url, agent)}"
        assert (await client.get(LIST)).status_code == 200
        async with bets_locked(database_url):
            for path in (LIST, EXPORT):
                response, elapsed = await timed_get(client, path)
                assert_busy(response, elapsed, DATA_LOCKED, LOCK_TIMEOUT + MARGIN)
            # A stream resuming behind reads its replay from the activity: 503 too.
            response, elapsed = await timed_get(
                client, "/api/v1/agent/cash-out/stream", params={"last_event_id": "0"}
            )
            assert_busy(response, elapsed, DATA_LOCKED, LOCK_TIMEOUT + MARGIN)
        # The lock gone, the same requests work on the same pool.
        assert (await client.get(LIST)).status_code == 200
        assert (await client.get(EXPORT)).text.count("\n") == 2


async def test_a_statement_past_the_statement_timeout_answers_503(
    database_url, agent, book, start_server
):
    # A lock timeout longer than the statement timeout: the statement timeout ends the wait.
    settings = Settings(database_url=database_url, db_lock_timeout=30, db_statement_timeout=0.5)
    server = start_server(settings)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {token_for(server.url, agent)}"
        async with bets_locked(database_url):
            response, elapsed = await timed_get(client, LIST)
            assert_busy(response, elapsed, QUERY_TOO_LONG, 0.5 + MARGIN)
        assert (await client.get(LIST)).status_code == 200


async def next_cash_outs(sse: SSE, count: int) -> list[tuple[int, int]]:
    return [(int(m.id or "0"), m.json()["bet_id"]) for m in await sse.events(count, timeout=20)]


@pytest.mark.parametrize(
    "lock_timeout,statement_timeout",
    [
        # The listener's reads give up on the lock.
        (LOCK_TIMEOUT, 2.0),
        # They run into the statement timeout instead. The listener's idle
        # waits (5 s each) are no statements: a 0.5 s timeout must not end them.
        (30.0, 0.5),
    ],
    ids=["lock-timeout", "statement-timeout"],
)
async def test_streams_ping_through_a_lock_then_deliver_what_was_made_meanwhile(
    database_url, db, agent, book, start_server, lock_timeout, statement_timeout
):
    settings = Settings(
        database_url=database_url,
        db_lock_timeout=lock_timeout,
        db_statement_timeout=statement_timeout,
        stream_ping_seconds=0.3,
    )
    server = start_server(settings)
    token = token_for(server.url, agent)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
        open_stream(client, token, last_event_id="0") as sse,
    ):
        # Replayed: the cash-out made before the stream opened.
        assert await next_cash_outs(sse, 1) == [(1, book[0])]
        # The platform cashes out and commits while the deploy's lock request
        # waits behind it: the lock is granted at that commit, before the
        # listener, woken by the commit's NOTIFY, can read the new event.
        platform = await psycopg.AsyncConnection.connect(database_url)
        locker = await psycopg.AsyncConnection.connect(database_url)
        try:
            await platform.execute(
                "update bets set status = 'cashed_out', cash_out_amount = 12.50,"
                " settled_at = now() where id = %s",
                (book[1],),
            )
            lock = asyncio.create_task(locker.execute("lock table bets in access exclusive mode"))
            await wait_until_async(lambda: lock_state(db, locker.info.backend_pid) is False)
            await platform.commit()
            await asyncio.wait_for(lock, 10)
            assert lock_state(db, locker.info.backend_pid) is True
            await wait_until_async(lambda: listener_waits_on_a_lock(db))
            # Locked for three lock timeouts: the listener's reads are refused
            # and retried; the stream gets pings and nothing else meanwhile.
            pings = 0
            until = time.monotonic() + 3 * LOCK_TIMEOUT
            while time.monotonic() < until:
                msg = await sse.next(timeout=2)
                assert msg is not None, "the stream ended while bets was locked"
                assert msg.comments == ["ping"], f"expected only pings while locked, got {msg}"
                pings += 1
            assert pings >= 5
        finally:
            await locker.rollback()
            await locker.close()
            await platform.close()
        # And after: the one made meanwhile, then later ones, each once, in order.
        assert await next_cash_outs(sse, 1) == [(2, book[1])]
        factories.cash_out(db, book[2])
        factories.cash_out(db, book[3])
        assert await next_cash_outs(sse, 2) == [(3, book[2]), (4, book[3])]
    # The listener retried on its connection: it neither died nor reconnected.
    assert metric(server.url, "cashout_feed_listener_reconnects_total") == 0
