"""Graceful shutdown of ``cashout-feed serve``: SIGTERM → out within 5 s, nothing left behind."""

import json
import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from tests.helpers import CLI, ServeProcess, postgres_processes

EXIT_BUDGET = 5.0


@pytest.fixture
def served(tmp_path):
    with ServeProcess(data_dir=tmp_path / "data") as s:
        yield s


def test_sigterm_exits_within_5s_and_stops_the_embedded_database(served):
    served.wait_ready()
    assert postgres_processes(served.data_dir)
    elapsed = served.stop()
    assert served.proc.returncode is not None
    assert elapsed < EXIT_BUDGET, f"took {elapsed:.2f}s"
    assert not postgres_processes(served.data_dir), "embedded PostgreSQL left running"


def test_sigterm_with_a_request_in_flight_still_exits_in_time(served):
    served.wait_ready()
    # A client that opened a connection and sends nothing more holds a socket.
    idle = socket.create_connection(("127.0.0.1", served.port))
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    try:
        elapsed = served.stop()
    finally:
        idle.close()
    assert elapsed < EXIT_BUDGET, f"took {elapsed:.2f}s"
    assert not postgres_processes(served.data_dir)


def test_serve_logs_json_lines_only(served):
    served.wait_ready()
    httpx.get(served.url + "/healthz", headers={"X-Request-ID": "from-test"})
    served.stop()
    lines = served.output().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e.get("request_id") == "from-test"]
    assert access and access[0]["route"] == "/healthz" and access[0]["status"] == 200
    assert any(e["logger"].startswith("uvicorn") for e in entries)


async def test_sigterm_with_open_streams_ends_them_and_exits_within_5s(served):
    import asyncio

    from tests.sse import open_stream

    served.wait_ready()
    created = subprocess.run(
        [*CLI, "agent", "create", "streamer", "--password-stdin"],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        env={**os.environ, "CASHOUT_FEED_DATA_DIR": str(served.data_dir)},
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    with httpx.Client(base_url=served.url) as c:
        r = c.post(
            "/api/v1/auth/login", json={"username": "streamer", "password": "a-long-password"}
        )
        token = r.json()["token"]
    async with (
        httpx.AsyncClient(base_url=served.url, timeout=10) as c,
        open_stream(c, token) as first,
        open_stream(c, token) as second,
        open_stream(c, token) as third,
    ):
        started = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        for sse in (first, second, third):
            while (await sse.next(timeout=5)) is not None:
                pass  # the goodbye comment, then the end
        await asyncio.to_thread(served.proc.wait, 15)
        elapsed = time.monotonic() - started
    assert elapsed < EXIT_BUDGET, f"took {elapsed:.2f}s"
    assert not postgres_processes(served.data_dir), "embedded PostgreSQL left running"
