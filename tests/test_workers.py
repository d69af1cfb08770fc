"""`serve --workers 2`: each worker's own listener delivers every event to its streams."""

import re
import socket
import time

import httpx
import psutil
import pytest

from tests import factories
from tests.conftest import login
from tests.helpers import ServeProcess, wait_until
from tests.test_metrics import samples

BET_ID = re.compile(rb'"bet_id":\s*(\d+)')


@pytest.fixture
def two_workers(database_url):
    env = {"CASHOUT_FEED_LOG_LEVEL": "WARNING"}
    with ServeProcess(
        "--workers", "2", "--no-migrate", database_url=database_url, env=env, stderr=None
    ) as served:
        served.wait_ready()
        children = psutil.Process(served.proc.pid).children(recursive=True)
        # uvicorn's workers, not multiprocessing's resource tracker.
        workers = [w for w in children if "spawn_main" in " ".join(w.cmdline())]
        yield served.url, served.port, workers
        served.stop()


class Stream:
    """One SSE connection read with a plain socket (no client library buffering)."""

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(
            f"GET /api/v1/agent/cash-out/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "stream closed before its headers"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        self.data = head.split(b"\r\n\r\n", 1)[1]

    def owner(self, workers: list[psutil.Process]) -> int:
        """The pid of the worker holding the server side of this connection."""
        local_port = self.sock.getsockname()[1]
        for worker in workers:
            for conn in worker.net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == local_port:
                    return worker.pid
        raise AssertionError("no worker holds this stream")

    def bet_ids(self, want: set[int], timeout: float) -> set[int]:
        deadline = time.monotonic() + timeout
        seen = {int(m) for m in BET_ID.findall(self.data)}
        while not want <= seen and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            self.data += chunk
            seen = {int(m) for m in BET_ID.findall(self.data)}
        return seen

    def close(self) -> None:
        self.sock.close()


@pytest.mark.timeout(120)
def test_both_workers_deliver_every_event_to_their_streams(two_workers, db):
    url, port, workers = two_workers
    assert len(workers) == 2
    agent = factories.make_agent(db)
    username = db.execute("select username from agents where id = %s", (agent,)).fetchone()[0]
    customer = factories.make_customer(db, agent)
    bets = [factories.make_bet(db, customer) for _ in range(3)]
    with httpx.Client(base_url=url, timeout=10) as client:
        token = login(client, username)

    streams: list[Stream] = []
    owners: set[int] = set()
    try:
        # The kernel hands each new connection to one worker: open streams
        # until both workers serve at least one.
        while len(owners) < 2 and len(streams) < 16:
            streams.append(Stream(port, token))
            owners.add(streams[-1].owner(workers))
        assert owners == {w.pid for w in workers}

        for bet in bets:
            factories.cash_out(db, bet)
        for stream in streams:
            assert stream.bet_ids(set(bets), timeout=15) >= set(bets)
    finally:
        for stream in streams:
            stream.close()


OPEN_STREAMS = ("cashout_feed_open_streams", ())
HEALTHZ_COUNT = (
    "cashout_feed_http_request_duration_seconds_count",
    (("method", "GET"), ("route", "/healthz"), ("status", "200")),
)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A new connection per scrape: the kernel hands it to either worker.
    with httpx.Client(base_url=url, timeout=10) as client:
        return samples(client)


@pytest.mark.timeout(120)
def test_metrics_add_up_over_both_workers(two_workers, db):
    url, port, workers = two_workers
    agent = factories.make_agent(db)
    username = db.execute("select username from agents where id = %s", (agent,)).fetchone()[0]
    with httpx.Client(base_url=url, timeout=10) as client:
        token = login(client, username)

    streams: list[Stream] = []
    owners: dict[int, int] = {}
    try:
        while len(owners) < 2 and len(streams) < 16:
            streams.append(Stream(port, token))
            owner = streams[-1].owner(workers)
            owners[owner] = owners.get(owner, 0) + 1
        assert len(owners) == 2
        sent = 40
        for _ in range(sent):
            assert httpx.get(url + "/healthz", timeout=10).status_code == 200
        for _ in range(10):
            found = scrape(url)
            assert found[OPEN_STREAMS] == len(streams)
            assert found[HEALTHZ_COUNT] == sent

        # A worker killed: uvicorn starts another; the dead one's streams leave the
        # gauge, and the requests it counted stay in the total.
        victim = streams[-1].owner(workers)
        psutil.Process(victim).kill()
        survivors = len(streams) - owners[victim]
        wait_until(
            lambda: scrape(url)[OPEN_STREAMS] == survivors,
            timeout=30,
            what="the dead worker's streams leaving the gauge",
        )
        assert scrape(url)[HEALTHZ_COUNT] == sent
    finally:
        for stream in streams:
            stream.close()
