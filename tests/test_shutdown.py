"""Graceful shutdown of ``cashout-feed serve``: SIGTERM → out within 5 s, nothing left behind."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

CLI = [sys.executable, "-m", "app.cli"]
EXIT_BUDGET = 5.0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_processes(data_dir):
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            alive = proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        if "postgres" in (proc.info["name"] or "") and str(data_dir) in cmdline and alive:
            found.append(proc)
    return found


class Served:
    """``cashout-feed serve`` on the embedded database, in a child process."""

    def __init__(self, data_dir, env_extra=None):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CASHOUT_FEED_DATA_DIR": str(data_dir), **(env_extra or {})}
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def terminate_and_time(self):
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return time.monotonic() - started

    def stderr_lines(self):
        return self.proc.stderr.read().splitlines()


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path / "data")
    yield s
    if s.proc.poll() is None:
        s.proc.kill()
        s.proc.wait()


def test_sigterm_exits_within_5s_and_stops_the_embedded_database(served):
    served.wait_ready()
    assert _postgres_processes(served.data_dir)
    elapsed = served.terminate_and_time()
    assert served.proc.returncode is not None
    assert elapsed < EXIT_BUDGET, f"took {elapsed:.2f}s"
    assert not _postgres_processes(served.data_dir), "embedded PostgreSQL left running"


def test_sigterm_with_a_request_in_flight_still_exits_in_time(served):
    served.wait_ready()
    # A client that opened a connection and sends nothing more holds a socket.
    idle = socket.create_connection(("127.0.0.1", served.port))
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    try:
        elapsed = served.terminate_and_time()
    finally:
        idle.close()
    assert elapsed < EXIT_BUDGET, f"took {elapsed:.2f}s"
    assert not _postgres_processes(served.data_dir)


def test_serve_logs_json_lines_only(served):
    served.wait_ready()
    httpx.get(served.url + "/healthz", headers={"X-Request-ID": "from-test"})
    served.terminate_and_time()
    lines = served.stderr_lines()
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
    assert not _postgres_processes(served.data_dir), "embedded PostgreSQL left running"
