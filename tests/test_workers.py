"""`serve --workers 2`: each worker's own listener delivers every event to its streams."""

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests import factories
from tests.conftest import login

CLI = [sys.executable, "-m", "app.cli"]
BET_ID = re.compile(rb'"bet_id":\s*(\d+)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_workers(database_url):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CASHOUT_FEED_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [*CLI, "serve", "--workers", "2", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline and proc.poll() is None and not ready:
        try:
            ready = httpx.get(url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        assert ready, "serve --workers 2 did not become ready"
        workers = psutil.Process(proc.pid).children(recursive=True)
        yield url, port, [w for w in workers if "python" in (w.name() or "").lower()]
    finally:
        proc.terminate()
        proc.wait(20)


def _open_stream(port: int, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"GET /api/v1/agent/cash-out/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "stream closed before its headers"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    sock.leftover = head.split(b"\r\n\r\n", 1)[1]  # type: ignore[attr-defined]
    return sock


def _owner(workers: list[psutil.Process], sock: socket.socket) -> int:
    """The pid of the worker holding the server side of this client socket."""
    local_port = sock.getsockname()[1]
    for worker in workers:
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == local_port:
                return worker.pid
    raise AssertionError("no worker holds this stream")


def _bet_ids(sock: socket.socket, want: set[int], timeout: float) -> set[int]:
    seen = {int(m) for m in BET_ID.findall(sock.leftover)}  # type: ignore[attr-defined]
    data = b""
    deadline = time.monotonic() + timeout
    while not want <= seen and time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        seen |= {int(m) for m in BET_ID.findall(data)}
    return seen


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

    streams: list[socket.socket] = []
    owners: set[int] = set()
    try:
        # The kernel hands each new connection to one worker: open streams
        # until both workers serve at least one.
        while len(owners) < 2 and len(streams) < 16:
            streams.append(_open_stream(port, token))
            owners.add(_owner(workers, streams[-1]))
        assert owners == {w.pid for w in workers}

        for bet in bets:
            factories.cash_out(db, bet)
        for sock in streams:
            assert _bet_ids(sock, set(bets), timeout=15) >= set(bets)
    finally:
        for sock in streams:
            sock.close()
