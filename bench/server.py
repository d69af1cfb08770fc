"""``cashout-feed serve`` as a subprocess, as it runs in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServeProcess:
    """One ``serve`` process (uvicorn; with --workers N a supervisor and N workers)."""

    def __init__(
        self,
        database_url: str,
        workers: int = 1,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        checkout: Path | None = None,
    ) -> None:
        # Another checkout of the app (its own .venv) can be measured on the
        # same data: `bench --serve-checkout ../other` compares two builds.
        self.checkout = checkout
        self.database_url = database_url
        self.extra_env = env or {}
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServeProcess:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CASHOUT_FEED_LOG_LEVEL": "WARNING",
            **self.extra_env,
        }
        python = sys.executable
        if self.checkout is not None:
            python = str((self.checkout / ".venv" / "bin" / "python").absolute())
        cmd = [python, "-m", "app.cli", "serve", "--no-migrate"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.checkout
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("serve did not become ready")

    def warm_up(self, token: str, requests: int = 20) -> None:
        """A few signed-in requests, so a memory baseline has the code paths loaded."""
        for _ in range(requests):
            req = urllib.request.Request(  # noqa: S310
                self.url + "/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
                r.read()

    def processes(self) -> list[psutil.Process]:
        assert self.proc is not None
        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children(recursive=True)]

    def rss_bytes(self) -> int:
        """Resident memory of the server and its worker processes."""
        total = 0
        for p in self.processes():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
