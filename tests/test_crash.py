"""Crashes: PostgreSQL killed mid-stream loses and duplicates nothing; an app killed on the
embedded database restarts cleanly, and later clean stops still stop its PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx
import psutil
import psycopg
import pytest

from app.config import Settings
from app.db.embedded import USERS_FILE
from tests import factories
from tests.conftest import login
from tests.helpers import ServeProcess, postgres_processes, wait_until, wait_until_async
from tests.pg_control import StoppablePostgres
from tests.sse import SSE, STREAM

# -- PostgreSQL crashes mid-stream --------------------------------------------

BETS = 80
CRASH_AFTER = 30  # commits before the crash
COMMIT_EVERY_S = 0.02
RECONNECT_AFTER_S = 0.3  # a client's retry delay, as EventSource's `retry:`


@dataclass
class Follower:
    """A stream client that reconnects with Last-Event-ID, as EventSource does."""

    name: str
    # Reconnect on its own after this many events (None: only when the stream ends).
    churn: int | None
    received: list[tuple[int, int]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    connects: int = 0

    @property
    def last_id(self) -> str | None:
        return str(self.received[-1][0]) if self.received else None

    async def run(self, client: httpx.AsyncClient, token: str) -> None:
        while True:
            headers = {"Authorization": f"Bearer {token}"}
            if self.last_id is not None:
                headers["Last-Event-ID"] = self.last_id
            try:
                async with client.stream("GET", STREAM, headers=headers) as response:
                    if response.status_code != 200:
                        await response.aread()
                        self.refused.append(response.status_code)
                    else:
                        self.connects += 1
                        await self._read(SSE(response))
            except httpx.TransportError:
                pass  # the connection broke: reconnect, as EventSource would
            await asyncio.sleep(RECONNECT_AFTER_S)

    async def _read(self, sse: SSE) -> None:
        taken = 0
        # Pings come every 0.5 s, database or not: a 10 s silence is a failure.
        while (msg := await sse.next(timeout=10)) is not None:
            assert msg.event != "reset", f"{self.name}: reset: {msg.data}"
            if msg.event != "cash_out":
                continue
            event_id = int(msg.id or "0")
            if self.received:
                assert event_id > self.received[-1][0], f"{self.name}: {event_id} out of order"
            self.received.append((event_id, msg.json()["bet_id"]))
            taken += 1
            if self.churn is not None and taken >= self.churn:
                return


class Platform(threading.Thread):
    """Cashes the bets out one by one, each in its own commit, across the crash."""

    def __init__(self, pg: StoppablePostgres, bets: list[int]) -> None:
        super().__init__(name="platform", daemon=True)
        self.pg, self.bets = pg, bets
        self.committed: list[int] = []  # the commit returned
        self.interrupted: list[int] = []  # the commit failed: it may or may not have happened
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            conn: psycopg.Connection | None = None
            for bet in self.bets:
                deadline = time.monotonic() + 60
                while conn is None:
                    try:
                        conn = self.pg.connect()
                    except psycopg.OperationalError:
                        assert time.monotonic() < deadline, "the database did not come back"
                        time.sleep(0.1)  # retry delay while the database is down
                try:
                    factories.cash_out(conn, bet)
                    self.committed.append(bet)
                except psycopg.OperationalError:
                    self.interrupted.append(bet)
                    conn = None
                time.sleep(COMMIT_EVERY_S)  # the platform's pace, not a wait
        except BaseException as exc:
            self.failure = exc


async def test_a_postgres_crash_mid_stream_loses_and_duplicates_nothing(tmp_path, start_server):
    pg = StoppablePostgres(tmp_path / "crash")
    try:
        with pg.connect() as conn:
            username = factories.unique("agent")
            agent_id = factories.make_agent(conn, username)
            customers = [factories.make_customer(conn, agent_id) for _ in range(3)]
            bets = [factories.make_bet(conn, customers[i % 3]) for i in range(BETS)]
        server = start_server(Settings(database_url=pg.url, stream_ping_seconds=0.5))
        with httpx.Client(base_url=server.url) as c:
            token = login(c, username)
        followers = [Follower("steady", churn=None), Follower("churning", churn=7)]
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            tasks = [asyncio.create_task(f.run(client, token)) for f in followers]
            try:
                await wait_until_async(lambda: all(f.connects for f in followers))
                platform = Platform(pg, bets)
                platform.start()
                await wait_until_async(lambda: len(platform.committed) >= CRASH_AFTER, 30)
                # Mid-stream: both have had cash-outs before the crash.
                await wait_until_async(lambda: all(f.received for f in followers))
                await asyncio.to_thread(pg.crash)
                at_crash = [len(f.received) for f in followers]
                await asyncio.to_thread(pg.start)  # crash recovery
                await asyncio.to_thread(platform.join, 90)
                assert not platform.is_alive() and platform.failure is None, platform.failure
                # What the database says happened, in stream order.
                with pg.connect() as conn:
                    events = conn.execute(
                        "select seq, bet_id from cashout_feed.events where agent_id = %s"
                        " order by seq",
                        (agent_id,),
                    ).fetchall()
                    cashed_out = {
                        row[0]
                        for row in conn.execute(
                            "select id from bets where status = 'cashed_out' and id = any(%s)",
                            (bets,),
                        )
                    }
                expected = [(int(seq), int(bet)) for seq, bet in events]
                # Every commit that returned happened; an interrupted one may have.
                assert set(platform.committed) <= cashed_out
                assert cashed_out <= set(platform.committed) | set(platform.interrupted)
                assert {bet for _, bet in expected} == cashed_out
                # Increasing, not consecutive: a crash skips sequence values.
                seqs = [seq for seq, _ in expected]
                assert seqs == sorted(set(seqs))
                await wait_until_async(
                    lambda: all(len(f.received) >= len(expected) for f in followers), 60
                )
            finally:
                for task in tasks:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
            for f, result in zip(followers, results, strict=True):
                assert isinstance(result, asyncio.CancelledError), f"{f.name}: {result!r}"
            for f, before in zip(followers, at_crash, strict=True):
                assert 0 < before < len(expected), f"{f.name}: the crash was not mid-stream"
                # Exactly once each, in commit order.
                assert f.received == expected, f.name
            assert followers[1].connects > 3  # it did resume with Last-Event-ID
            print(
                f"\ncrash: {len(platform.committed)} commits returned, {len(platform.interrupted)}"
                f" interrupted, {len(expected)} cash-outs in the database; at the crash the"
                f" followers had {at_crash}; refused while down: {[f.refused for f in followers]};"
                f" connects: {[f.connects for f in followers]}"
            )
    finally:
        pg.close()


# -- the app killed on the embedded database ------------------------------------


def users_of(data_dir) -> list[int]:
    return list(json.loads((data_dir / "pg" / USERS_FILE).read_text() or "[]"))


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    yield path
    # Whatever the test left running on this data directory (a failed test).
    for proc in postgres_processes(path):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def serve_ready(data_dir) -> ServeProcess:
    served = ServeProcess(data_dir=data_dir).wait_ready()
    # Ready means the database answers and the listener is connected.
    assert httpx.get(served.url + "/readyz", timeout=10).status_code == 200
    return served


@pytest.mark.parametrize("postgres_too", [False, True], ids=["app", "app-and-postgres"])
def test_after_a_killed_serve_the_next_starts_cleanly_and_a_clean_stop_stops_postgres(
    data_dir, postgres_too
):
    killed = serve_ready(data_dir)
    try:
        killed.stop(signal.SIGKILL)
        left = postgres_processes(data_dir)
        # The kill gave the app no chance to stop its PostgreSQL, nor to leave
        # pgserver's list of the server's users.
        assert left, "the embedded PostgreSQL did not outlive the killed app"
        assert killed.proc.pid in users_of(data_dir)
        if postgres_too:  # as when the whole machine's processes are killed
            family = [*left, *(child for proc in left for child in proc.children(recursive=True))]
            for proc in left:
                proc.kill()
            # Its backends exit by themselves once the postmaster is gone.
            _, alive = psutil.wait_procs(family, timeout=15)
            assert not alive, alive
    finally:
        killed.kill()
    # The next serve on the same data directory starts without any hand-cleaning.
    second = serve_ready(data_dir)
    try:
        assert second.stop(signal.SIGTERM) < 15
        # 128 + SIGTERM: the CLI's exit status for a stop it was asked for.
        assert second.proc.returncode == 128 + signal.SIGTERM, second.output()
    finally:
        second.kill()
    # A clean stop leaves no PostgreSQL of ours, kill or no kill before it.
    wait_until(lambda: not postgres_processes(data_dir), 15, "the embedded PostgreSQL to stop")
    assert users_of(data_dir) == []
    # And the one after that starts and stops cleanly too.
    third = serve_ready(data_dir)
    try:
        third.stop(signal.SIGTERM)
    finally:
        third.kill()
    wait_until(lambda: not postgres_processes(data_dir), 15, "the embedded PostgreSQL to stop")


def test_serve_waits_for_an_embedded_postgres_that_takes_longer_than_pg_ctl_allows(data_dir):
    # A clean first start creates the data directory.
    first = serve_ready(data_dir)
    first.stop(signal.SIGTERM)
    first.kill()
    wait_until(lambda: not postgres_processes(data_dir), 15, "the embedded PostgreSQL to stop")
    # Make the next start slow, as replaying a large WAL after a crash is: an
    # archive recovery whose first restore_command call takes 15 s, beyond the
    # 10 s pgserver gives pg_ctl.
    pgdata = data_dir / "pg"
    marker = pgdata / "slept"
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'test -e {marker} || (touch {marker}; sleep 15); false'\n")
    (pgdata / "recovery.signal").touch()
    (pgdata / "recovery.signal").chmod(0o666)
    slow = ServeProcess(data_dir=data_dir).wait_ready(timeout=90)
    try:
        assert marker.exists(), "the start was not slowed down"
        assert httpx.get(slow.url + "/readyz", timeout=10).status_code == 200
    finally:
        slow.stop(signal.SIGTERM)
        slow.kill()
    assert "still starting" in slow.output()
    wait_until(lambda: not postgres_processes(data_dir), 15, "the embedded PostgreSQL to stop")
