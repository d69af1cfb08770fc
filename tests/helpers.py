"""Helpers shared by the tests: ports, bounded waits, a ``serve`` child process, processes,
the access log's lines."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.services import runtime_of

CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], timeout: float = 15.0, what: str = "the condition"
) -> None:
    """Poll a condition (there is no event to wait on), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come true within {timeout:g} s")


async def wait_until_async(predicate: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)  # polling a condition, bounded by the timeout


def hub_of(server: Any) -> Any:
    """The hub of a ``LiveServer`` (tests/conftest.py)."""
    return runtime_of(server.server.config.app).services.hub


def metric(server_url: str, name: str) -> float:
    text = httpx.get(server_url + "/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The access log's lines among what the ``captured`` fixture caught."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in lines if e["logger"] == "cashout_feed.access"]


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Live PostgreSQL processes whose command line names ``data_dir``."""
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


class ServeProcess:
    """``cashout-feed serve`` (or ``demo``) in a child process on a free port.

    ``database_url=None`` runs it on the embedded database in ``data_dir``.
    """

    def __init__(
        self,
        *args: str,
        database_url: str | None = None,
        data_dir: Path | None = None,
        env: dict[str, str] | None = None,
        command: Sequence[str] = (*CLI, "serve"),
        cwd: Path | None = None,
        stdout: Any = subprocess.DEVNULL,
        stderr: Any = subprocess.PIPE,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        full_env = {**os.environ, **(env or {})}
        full_env.pop("DATABASE_URL", None)
        if database_url is not None:
            full_env["DATABASE_URL"] = database_url
        if data_dir is not None:
            full_env["CASHOUT_FEED_DATA_DIR"] = str(data_dir)
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port), *args],
            env=full_env,
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}: {self.output()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling start-up, bounded by the deadline
        raise AssertionError(f"serve did not become ready within {timeout:g} s")

    def output(self) -> str:
        stream = self.proc.stderr or self.proc.stdout
        return stream.read() if stream is not None and self.proc.poll() is not None else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> float:
        """Send ``sig`` and wait for the exit; returns how long it took."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            finally:
                self.kill()
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
