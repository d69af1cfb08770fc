"""Reads on a real streaming replica: which routes read it, the list → stream hand-off
while it lags, and reads falling back to the primary when it is down or too far behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests import factories
from tests.conftest import login
from tests.helpers import wait_until
from tests.pg_control import StoppablePostgres
from tests.replica import StreamingReplica
from tests.sse import open_stream

API = "/api/v1/agent"
LIST = f"{API}/cash-out/activity"


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    # A primary of these tests' own: the standby copies the whole server.
    server = StoppablePostgres(tmp_path_factory.mktemp("replica-primary"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def standby_server(
    primary: StoppablePostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamingReplica]:
    standby = StreamingReplica(primary, tmp_path_factory.mktemp("replica-standby"))
    yield standby
    standby.close()


@pytest.fixture
def standby(standby_server: StreamingReplica) -> Iterator[StreamingReplica]:
    """The module's standby, running, replaying and caught up at the start and the end."""

    def restore() -> None:
        if not standby_server.running():
            standby_server.start()
        standby_server.resume()
        standby_server.wait_caught_up()

    restore()
    yield standby_server
    restore()


@pytest.fixture
def app_on_replica(start_server, primary, standby):
    """Start the app reading from the standby, with a given lag bound; a client on it."""
    clients: list[httpx.Client] = []

    def start(max_lag: float = 60.0) -> httpx.Client:
        settings = Settings(
            database_url=primary.url,
            database_read_url=standby.url,
            replica_max_lag_seconds=max_lag,
        )
        client = httpx.Client(base_url=start_server(settings).url, timeout=10)
        clients.append(client)
        wait_for_reads_on(client, "replica")
        return client

    yield start
    for client in clients:
        client.close()


def replica_status(client: httpx.Client) -> dict[str, Any]:
    status: dict[str, Any] = client.get("/readyz").json()["replica"]
    return status


def wait_for_reads_on(client: httpx.Client, where: str, state: str | None = None) -> None:
    def there() -> bool:
        status = replica_status(client)
        return status["reads_on"] == where and state in (None, status["state"])

    wait_until(there, 30, f"reads going to the {where}")


def signed_in(primary: StoppablePostgres, client: httpx.Client) -> dict[str, Any]:
    """A new agent with a customer, signed in (by bearer token) on ``client``."""
    with primary.connect() as db:
        username = factories.unique("agent")
        agent_id = factories.make_agent(db, username)
        customer = factories.make_customer(db, agent_id)
    client.headers["Authorization"] = f"Bearer {login(client, username)}"
    return {"id": agent_id, "username": username, "customer": customer}


def settle(primary: StoppablePostgres, customer: int, count: int = 1) -> None:
    """``count`` cash-outs of ``customer`` settled ten minutes ago (listed, no live event)."""
    at = datetime.now(UTC) - timedelta(minutes=10)
    with primary.connect() as db:
        for _ in range(count):
            factories.cashed_out_bet(db, customer, "10.00", "12.50", at)


def live_cash_outs(primary: StoppablePostgres, customer: int, count: int) -> list[int]:
    """``count`` bets of ``customer`` cashed out live (each an event), in order."""
    with primary.connect() as db:
        bets = [factories.make_bet(db, customer) for _ in range(count)]
        for bet in bets:
            factories.cash_out(db, bet)
    return bets


def events_after(primary: StoppablePostgres, agent_id: int, after: int) -> list[int]:
    with primary.connect() as db:
        rows = db.execute(
            "select seq from cashout_feed.events where agent_id = %s and seq > %s order by seq",
            (agent_id, after),
        ).fetchall()
    return [int(r[0]) for r in rows]


def read_counts(client: httpx.Client) -> dict[str, int]:
    """What each read route counts for the signed-in agent."""
    listed = client.get(LIST)
    summary = client.get(f"{API}/cash-out/summary")
    daily = client.get(f"{API}/cash-out/daily")
    export = client.get(f"{LIST}/export")
    customers = client.get(f"{API}/customers")
    for response in (listed, summary, daily, export, customers):
        assert response.status_code == 200, (response.url, response.text)
    return {
        "list": listed.json()["totals"]["total_count"],
        "summary": summary.json()["total_cash_outs"],
        "daily": sum(day["cash_outs"] for day in daily.json()["items"]),
        "export": len(export.text.splitlines()) - 1,
        "customers": len(customers.json()["items"]),
    }


def test_reads_come_from_the_replica_and_sign_in_from_the_primary(primary, standby, app_on_replica):
    client = app_on_replica()
    agent = signed_in(primary, client)
    settle(primary, agent["customer"])
    standby.wait_caught_up()
    assert read_counts(client) == dict.fromkeys(("list", "summary", "daily", "export"), 1) | {
        "customers": 1
    }

    standby.pause()
    with primary.connect() as db:
        newcomer = factories.make_customer(db, agent["id"])
        other = factories.make_agent(db, factories.unique("agent"))
        other_name = db.execute("select username from agents where id = %s", (other,)).fetchone()
    settle(primary, newcomer, 2)
    # The standby stands still: every read route still counts what it had.
    assert read_counts(client) == dict.fromkeys(("list", "summary", "daily", "export"), 1) | {
        "customers": 1
    }
    # Sign-in, the session check and the customer check read the primary:
    # an agent and a customer the standby has not seen yet work at once.
    assert other_name is not None
    with httpx.Client(base_url=client.base_url, timeout=10) as second:
        second.headers["Authorization"] = f"Bearer {login(second, other_name[0])}"
        assert second.get(f"{API}/me").status_code == 200
    filtered = client.get(LIST, params={"customer_id": newcomer})
    assert filtered.status_code == 200, filtered.text
    assert filtered.json()["items"] == []  # its rows are not on the standby yet

    standby.resume()
    standby.wait_caught_up()
    assert read_counts(client) == dict.fromkeys(("list", "summary", "daily", "export"), 3) | {
        "customers": 2
    }


async def test_a_list_from_a_lagging_replica_hands_off_to_the_stream_without_a_gap(
    primary, standby, app_on_replica
):
    client = app_on_replica()
    agent = signed_in(primary, client)
    token = client.headers["Authorization"].removeprefix("Bearer ")
    live_cash_outs(primary, agent["customer"], 3)
    standby.wait_caught_up()
    position = int(client.get(LIST).json()["last_event_id"])
    assert position == events_after(primary, agent["id"], 0)[-1]

    standby.pause()
    live_cash_outs(primary, agent["customer"], 5)
    page = client.get(LIST).json()
    # From the standby's snapshot: neither the rows nor the position have moved.
    assert page["totals"]["total_count"] == 3
    assert int(page["last_event_id"]) == position
    assert len(events_after(primary, agent["id"], position)) == 5

    async with (
        httpx.AsyncClient(base_url=str(client.base_url), timeout=10) as aclient,
        open_stream(aclient, token, query=page["last_event_id"]) as sse,
    ):
        replayed = await sse.events(5)  # from the primary, the standby still paused
        standby.resume()
        live_cash_outs(primary, agent["customer"], 3)
        live = await sse.events(3)
        # One more as a marker: a duplicate of anything before would come first.
        live_cash_outs(primary, agent["customer"], 1)
        [marker] = await sse.events(1)
    streamed = [int(m.id or 0) for m in (*replayed, *live, marker)]
    assert streamed == events_after(primary, agent["id"], position)
    standby.wait_caught_up()
    caught_up = client.get(LIST).json()
    assert caught_up["totals"]["total_count"] == 12
    assert int(caught_up["last_event_id"]) == streamed[-1]


def test_a_stopped_replica_sends_reads_to_the_primary_until_it_returns(
    primary, standby, app_on_replica
):
    client = app_on_replica()
    agent = signed_in(primary, client)
    settle(primary, agent["customer"])
    standby.wait_caught_up()

    standby.stop()
    wait_for_reads_on(client, "primary", "unavailable")
    ready = client.get("/readyz")
    assert ready.status_code == 200  # every instance shares the replica: stay in service
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["replica"].startswith("unavailable")
    settle(primary, agent["customer"])
    assert read_counts(client) == dict.fromkeys(("list", "summary", "daily", "export"), 2) | {
        "customers": 1
    }

    standby.start()
    wait_for_reads_on(client, "replica", "streaming")
    assert client.get("/readyz").json()["status"] == "ok"
    standby.pause()
    settle(primary, agent["customer"])
    assert client.get(LIST).json()["totals"]["total_count"] == 2  # the standby's again


def test_a_replica_beyond_the_lag_bound_sends_reads_to_the_primary_until_it_catches_up(
    primary, standby, app_on_replica
):
    client = app_on_replica(max_lag=1.0)
    agent = signed_in(primary, client)
    standby.pause()
    settle(primary, agent["customer"])
    wait_for_reads_on(client, "primary", "lagging")
    status = replica_status(client)
    assert 1.0 < status["lag_seconds"] < 30, status
    assert client.get("/readyz").json()["checks"]["replica"].startswith("lagging")
    assert client.get(LIST).json()["totals"]["total_count"] == 1  # the primary's

    standby.resume()
    wait_for_reads_on(client, "replica", "streaming")
    assert replica_status(client)["lag_seconds"] <= 1.0


def test_readyz_reports_each_connection_and_the_replica(primary, standby, app_on_replica):
    client = app_on_replica()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "replica": "ok", "listener": "ok"}
    assert body["replica"]["state"] == "streaming"
    assert body["replica"]["reads_on"] == "replica"
    assert body["replica"]["max_lag_seconds"] == 60.0
    assert 0 <= body["replica"]["lag_seconds"] <= 60
