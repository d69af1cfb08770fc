"""Two `serve` instances sharing one database behind deploy/nginx.conf, as two machines
would be (tests/test_proxy.py), and a writer committing cash-outs at a steady rate."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.nginx import Nginx
from tests import factories
from tests.helpers import ServeProcess, wait_until

# A client on another loopback address than nginx's, so that "the client's address"
# and "the proxy's address" differ, as they would across a network.
CLIENT_ADDRESS = "127.0.0.2"


@dataclass
class Fleet:
    nginx: Nginx
    instances: list[ServeProcess]
    logs: list[Path]
    database_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A client of the proxy, from CLIENT_ADDRESS, trusting the test certificate."""
        transport = httpx.HTTPTransport(
            local_address=CLIENT_ADDRESS,
            verify=ssl.create_default_context(cafile=self.nginx.certificate),
        )
        client = httpx.Client(base_url=self.nginx.url, transport=transport, timeout=10, **kwargs)
        self.clients.append(client)
        return client

    def access_lines(self) -> list[dict[str, Any]]:
        lines = []
        for log in self.logs:
            # Only whole lines: an instance may be writing the last one.
            for line in log.read_text().split("\n")[:-1]:
                if line.startswith("{"):
                    entry = json.loads(line)
                    if entry.get("logger") == "cashout_feed.access":
                        lines.append(entry)
        return lines

    def logged_client(self, request_id: str) -> str:
        """The client address an instance logged for a request (its line is written once
        the response has gone, so it may come a moment after the client has it)."""
        found: list[dict[str, Any]] = []

        def logged() -> bool:
            found[:] = [e for e in self.access_lines() if e["request_id"] == request_id]
            return bool(found)

        wait_until(logged, timeout=10, what=f"the access line of request {request_id}")
        client: str = found[0]["client"]
        return client


@contextmanager
def running_fleet(database_url: str, directory: Path) -> Iterator[Fleet]:
    env = {"CASHOUT_FEED_LOG_FORMAT": "json", "CASHOUT_FEED_LOG_LEVEL": "INFO"}
    instances, logs, files = [], [], []
    try:
        for i in range(2):
            logs.append(directory / f"instance-{i}.log")
            files.append(logs[-1].open("w"))
            instances.append(
                ServeProcess("--no-migrate", database_url=database_url, env=env, stderr=files[-1])
            )
        for instance in instances:
            instance.wait_ready()
        with Nginx(directory / "nginx", [i.port for i in instances]) as nginx:
            fleet = Fleet(nginx, instances, logs, database_url)
            yield fleet
            for client in fleet.clients:
                client.close()
    finally:
        for instance in instances:
            instance.stop()
        for file in files:
            file.close()


class Writer(threading.Thread):
    """Commits cash-outs one per transaction at a steady rate, over the agents in turn."""

    def __init__(self, database_url: str, bets: dict[int, list[int]], per_second: float) -> None:
        super().__init__(name="cash-out-writer", daemon=True)
        self.url, self.bets, self.interval = database_url, bets, 1 / per_second
        self.committed: dict[int, list[int]] = {agent: [] for agent in bets}
        self.count = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                queues = {agent: iter(bets) for agent, bets in self.bets.items()}
                while not self._halt.is_set():
                    for agent, queue in queues.items():
                        bet = next(queue)
                        factories.cash_out(conn, bet)
                        self.committed[agent].append(bet)
                        self.count += 1
                        # Pacing the load (not waiting for anything).
                        if self._halt.wait(self.interval):
                            return
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self._halt.set()
        self.join(10)
        assert self.error is None, self.error
