"""The live stream over real HTTP: delivery, resume, hand-off, limits, isolation."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from app.config import Settings
from app.security import token_hash
from tests import factories
from tests.conftest import LiveServer, login
from tests.helpers import ServeProcess, hub_of
from tests.helpers import wait_until_async as wait_until
from tests.sse import STREAM, open_stream


@pytest.fixture
async def aclient(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=httpx.Timeout(10), limits=limits
    ) as c:
        yield c


@pytest.fixture
def token(client: httpx.Client, agent: dict[str, Any]) -> str:
    return login(client, agent["username"])


def last_seq(db: psycopg.Connection, agent_id: int) -> int:
    row = db.execute(
        "select coalesce(max(seq), 0) from cashout_feed.events where agent_id = %s", (agent_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def open_bets(db: psycopg.Connection, agent_id: int, count: int, **kw: Any) -> list[int]:
    customer = factories.make_customer(db, agent_id)
    return [factories.make_bet(db, customer, **kw) for _ in range(count)]


async def test_unauthenticated_stream_is_401_before_streaming(aclient):
    response = await aclient.get(STREAM)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


async def test_event_arrives_after_commit_with_the_activity_item(aclient, db, agent, token):
    [bet] = open_bets(db, agent["id"], 1, stake="10.00", selection="Arsenal v Chelsea — Arsenal")
    async with open_stream(aclient, token) as sse:
        assert sse.response.headers["content-type"].startswith("text/event-stream")
        with db.transaction():
            factories.cash_out(db, bet, amount="12.50", auto=True, reason="profit_target")
        [msg] = await sse.events(1)
    row = db.execute(
        "select b.placed_at, b.settled_at, u.id, u.username from bets b"
        " join users u on u.id = b.user_id where b.id = %s",
        (bet,),
    ).fetchone()
    assert row is not None
    assert msg.id == str(last_seq(db, agent["id"]))
    assert msg.json() == {
        "event_id": msg.id,
        "bet_id": bet,
        "customer_id": row[2],
        "customer_username": row[3],
        "selection": "Arsenal v Chelsea — Arsenal",
        "stake": "10.00",
        "cash_out_amount": "12.50",
        "profit_loss": "2.50",
        "return_ratio": "1.2500",
        "is_auto_cash_out": True,
        "cash_out_trigger_reason": "profit_target",
        "placed_at": row[0].isoformat().replace("+00:00", "Z"),
        "settled_at": row[1].isoformat().replace("+00:00", "Z"),
    }


async def test_nothing_for_rollback_or_backfill(aclient, db, agent, token):
    bets = open_bets(db, agent["id"], 2)
    customer = db.execute("select user_id from bets where id = %s", (bets[0],)).fetchone()[0]
    async with open_stream(aclient, token) as sse:
        with pytest.raises(RuntimeError), db.transaction():
            factories.cash_out(db, bets[0])
            raise RuntimeError("roll back")
        factories.make_bet(
            db,
            customer,
            status="cashed_out",
            cash_out_amount="5.00",
            settled_at=factories.datetime.now(factories.UTC),
        )
        # A later real cash-out is the first (and only) event that arrives.
        factories.cash_out(db, bets[1])
        [msg] = await sse.events(1)
        assert msg.json()["bet_id"] == bets[1]
        assert msg.id == "1"


async def test_long_selection_is_delivered_whole(aclient, db, agent, token):
    selection = ("Ünïcode ⚽ " * 2000)[:20_000]
    [bet] = open_bets(db, agent["id"], 1, selection=selection)
    async with open_stream(aclient, token) as sse:
        factories.cash_out(db, bet)
        [msg] = await sse.events(1)
    assert msg.json()["selection"] == selection


async def test_bulk_update_sends_one_notify_and_every_event_in_order(aclient, db, agent, token):
    bets = open_bets(db, agent["id"], 300)
    with psycopg.connect(db.info.dsn, autocommit=True) as listener:
        listener.execute(f"listen cash_out_{agent['id']}")
        async with open_stream(aclient, token) as sse:
            db.execute(
                "update bets set status = 'cashed_out', cash_out_amount = 1, settled_at = now()"
                " where id = any(%s)",
                (bets,),
            )
            received = await sse.events(300)
        notifies = list(listener.notifies(timeout=1))
    assert [n.payload for n in notifies] == ["300"]
    assert [m.id for m in received] == [str(i) for i in range(1, 301)]
    assert [m.json()["bet_id"] for m in received] == sorted(bets)


async def test_pings_keep_an_idle_stream_open(start_server, settings, db, agent):
    server = start_server(Settings(database_url=settings.database_url, stream_ping_seconds=0.2))
    with httpx.Client(base_url=server.url) as sync_client:
        token = login(sync_client, agent["username"])
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as c,
        open_stream(c, token) as sse,
    ):
        for _ in range(2):
            msg = await sse.next(timeout=5)
            assert msg is not None and msg.comments == ["ping"]


async def test_stream_is_not_compressed(aclient, token):
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip, br"}
    async with aclient.stream("GET", STREAM, headers=headers) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert "no-transform" in response.headers["cache-control"]


def bulk_cash_out(db: psycopg.Connection, bets: list[int]) -> None:
    db.execute(
        "update bets set status = 'cashed_out', cash_out_amount = 1, settled_at = now()"
        " where id = any(%s)",
        (bets,),
    )


async def test_resume_with_last_event_id_sends_exactly_the_missed_events(aclient, db, agent, token):
    bets = open_bets(db, agent["id"], 6)
    async with open_stream(aclient, token) as sse:
        for bet in bets[:2]:
            factories.cash_out(db, bet)
        seen = await sse.events(2)
    for bet in bets[2:]:
        factories.cash_out(db, bet)
    async with open_stream(aclient, token, last_event_id=seen[-1].id) as sse:
        missed = await sse.events(4)
        assert [m.json()["bet_id"] for m in missed] == bets[2:]
        assert [m.id for m in missed] == ["3", "4", "5", "6"]
        # Then live, continuing the same sequence.
        extra = open_bets(db, agent["id"], 1)
        factories.cash_out(db, extra[0])
        [live] = await sse.events(1)
        assert live.id == "7"


async def test_header_wins_over_the_query_parameter(aclient, db, agent, token):
    bets = open_bets(db, agent["id"], 3)
    bulk_cash_out(db, bets)
    async with open_stream(aclient, token, last_event_id="1", query="stale-garbage") as sse:
        assert [m.id for m in await sse.events(2)] == ["2", "3"]
    async with open_stream(aclient, token, query="2") as sse:
        assert [m.id for m in await sse.events(1)] == ["3"]


async def test_cookie_session_opens_the_stream_and_empty_ids_mean_no_position(
    server, client, db, agent
):
    login(client, agent["username"])
    [bet] = open_bets(db, agent["id"], 1)
    cookies = dict(client.cookies)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10, cookies=cookies) as c,
        open_stream(c, None, last_event_id="", query=" ") as sse,
    ):
        factories.cash_out(db, bet)
        [msg] = await sse.events(1)
        assert msg.json()["bet_id"] == bet


@pytest.mark.parametrize("position", ["abc", "-1", "1.5", "99", "9" * 40])
async def test_unknown_position_is_reset(aclient, db, agent, token, position):
    bulk_cash_out(db, open_bets(db, agent["id"], 2))
    async with open_stream(aclient, token, last_event_id=position) as sse:
        msg = await sse.next()
        assert msg is not None and msg.event == "reset"
        assert "reload the list" in msg.data
        assert await sse.next() is None  # the stream ends


async def test_more_than_1000_behind_is_reset_1000_is_replayed(aclient, db, agent, token):
    bulk_cash_out(db, open_bets(db, agent["id"], 1001))
    async with open_stream(aclient, token, last_event_id="0") as sse:
        msg = await sse.next()
        assert msg is not None and msg.event == "reset"
        assert "1001 events behind" in msg.data
        assert await sse.next() is None
    async with open_stream(aclient, token, last_event_id="1") as sse:
        replayed = await sse.events(1000)
    assert [int(m.id) for m in replayed] == list(range(2, 1002))


async def test_ids_follow_commit_order_of_concurrent_transactions(
    aclient, db, agent, token, database_url
):
    """An id is taken at commit, under the agent's commit lock: a transaction that took
    its ids first commits first, and a later one's ids are higher."""
    first_bet, second_bet = open_bets(db, agent["id"], 2)
    with psycopg.connect(database_url) as late, psycopg.connect(database_url) as early:
        factories.cash_out(late, second_bet)
        # Runs the commit-time work now: ids taken, the agent's commit lock held.
        late.execute("set constraints all immediate")
        blocked = asyncio.get_running_loop().run_in_executor(
            None, lambda: (factories.cash_out(early, first_bet), early.commit())
        )
        await wait_until(lambda: waiting_on_lock(db, early.info.backend_pid))
        async with open_stream(aclient, token, last_event_id="0") as sse:
            late.commit()
            [first] = await sse.events(1)
            await asyncio.wait_for(blocked, 10)
            [second] = await sse.events(1)
    assert first.json()["bet_id"] == second_bet
    assert second.json()["bet_id"] == first_bet and int(second.id) > int(first.id)
    # A client that disconnected after the first misses nothing that committed later.
    async with open_stream(aclient, token, last_event_id=first.id) as sse:
        [msg] = await sse.events(1)
    assert msg.json()["bet_id"] == first_bet


def waiting_on_lock(db: psycopg.Connection, pid: int) -> bool:
    row = db.execute(
        "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
    ).fetchone()
    return row is not None and row[0] == "Lock"


async def test_list_to_stream_hand_off_with_racing_commits(aclient, db, agent, token, database_url):
    bets = open_bets(db, agent["id"], 80)
    go = threading.Event()

    def commit_all() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for i, bet in enumerate(bets):
                factories.cash_out(conn, bet)
                if i == 20:
                    go.set()

    writer = asyncio.get_running_loop().run_in_executor(None, commit_all)
    await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, go.wait, 10), 11)
    listed = last_seq(db, agent["id"])  # what the activity list would return
    assert listed >= 21
    async with open_stream(aclient, token, query=str(listed)) as sse:
        streamed = await sse.events(80 - listed)
    await asyncio.wait_for(writer, 20)
    assert [int(m.id) for m in streamed] == list(range(listed + 1, 81))
    assert [m.json()["bet_id"] for m in streamed] == bets[listed:]


def direct_session(db: psycopg.Connection, agent_id: int) -> str:
    """A signed-in session without 20 password hashes' worth of waiting."""
    token = secrets.token_urlsafe(32)
    db.execute(
        "insert into cashout_feed.sessions (token_hash, agent_id, expires_at)"
        " values (%s, %s, now() + interval '1 hour')",
        (token_hash(token), agent_id),
    )
    return token


async def test_200_streams_across_20_agents_get_exactly_their_own_events(aclient, db):
    agents = [factories.make_agent(db) for _ in range(20)]
    tokens = {a: direct_session(db, a) for a in agents}
    bets = {a: open_bets(db, a, 5) for a in agents}
    async with contextlib.AsyncExitStack() as stack:
        streams = await asyncio.gather(
            *(stack.enter_async_context(open_stream(aclient, tokens[a])) for a in agents * 10)
        )
        for i in range(5):
            for a in agents:
                factories.cash_out(db, bets[a][i])
        results = await asyncio.gather(*(sse.events(5, timeout=30) for sse in streams))
    for a, got in zip(agents * 10, results, strict=True):
        assert [m.json()["bet_id"] for m in got] == bets[a]
        ids = [int(m.id) for m in got]
        assert ids == sorted(ids) and len(set(ids)) == 5


async def test_stream_limits_answer_429(start_server, settings, db, client):
    server = start_server(
        Settings(database_url=settings.database_url, stream_max_per_agent=2, stream_max_total=3)
    )
    names = [factories.unique("agent") for _ in range(2)]
    for name in names:
        factories.make_agent(db, name)
    with httpx.Client(base_url=server.url) as c:
        first, second = (login(c, n) for n in names)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        async with open_stream(c, first), open_stream(c, first):
            response = await c.get(STREAM, headers={"Authorization": f"Bearer {first}"})
            assert response.status_code == 429
            assert "Too many open streams for this agent" in response.json()["detail"]
            async with open_stream(c, second):
                response = await c.get(STREAM, headers={"Authorization": f"Bearer {second}"})
                assert response.status_code == 429
                assert "limit" in response.json()["detail"]
        # Closing frees the places.
        await wait_until(lambda: not hub_of(server).streams)
        async with open_stream(c, first), open_stream(c, first):
            pass


async def test_sigterm_ends_open_streams_at_once(database_url, db, agent):
    """uvicorn waits for open responses before the lifespan shutdown: the app
    must end its streams itself when asked to stop, not after the grace period."""
    served = ServeProcess("--no-migrate", database_url=database_url, stderr=None)
    try:
        await asyncio.to_thread(served.wait_ready)
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as c:
            token = direct_session(db, agent["id"])
            async with open_stream(c, token) as sse:
                started = time.monotonic()
                served.proc.send_signal(signal.SIGTERM)
                msg = await sse.next(timeout=10)
                assert msg is not None and "shutting down" in msg.comments[0]
                assert await sse.next(timeout=10) is None
                # Well inside uvicorn's 3 s graceful-shutdown timeout.
                assert time.monotonic() - started < 2.5
        # uvicorn re-raises the signal once it has shut down (exit status 143).
        await asyncio.to_thread(served.proc.wait, 15)
        assert time.monotonic() - started < 5
    finally:
        served.kill()


def test_openapi_documents_the_stream(client):
    doc = client.get("/schema/openapi.json").json()
    operation = doc["paths"][STREAM]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {p["name"] for p in operation["parameters"]} == {"last_event_id", "Last-Event-ID"}
    assert {"429", "503"} <= operation["responses"].keys()
