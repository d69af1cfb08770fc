"""The live stream over real HTTP: delivery, resume, hand-off, limits, isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from app.config import Settings
from tests import factories
from tests.conftest import LiveServer, login
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


def hub_of(server: LiveServer) -> Any:
    return server.server.config.app.state.hub


def last_seq(db: psycopg.Connection, agent_id: int) -> int:
    row = db.execute(
        "select last_seq from cash_out_event_counters where agent_id = %s", (agent_id,)
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
