"""Notify: how many notifying commits per second the server takes, the ceiling of the
cash-outs a primary can announce (docs/scaling.md).

PostgreSQL serialises notifying commits: ``PreCommit_Notify`` takes a
database-wide lock that is held until the commit record is flushed, so
notifying transactions that wrote something cannot share a WAL flush.
pgbench runs four transactions (bench/sql/pgbench/): a one-row write with a
NOTIFY (a cash-out's shape) and without, and a bare NOTIFY and a bare SELECT
(neither waits for a flush at commit). A LISTEN connection like an instance's is open
meanwhile, on 1 or 10,000 channels: the CPU its backend spends reading the
notification queue is what each instance costs the primary.
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from psycopg import sql

from app.db.queries import Queries
from bench.database import connect
from bench.writes import pgbench, tps_of

log = logging.getLogger(__name__)

QUERIES = ("bench_backend_pid", "bench_notify_rows_create", "bench_notify_rows_drop")
VARIANTS = {
    "write_notify": "write_notify.sql",
    "write": "write_only.sql",
    "notify": "notify_only.sql",
    "select": "select_only.sql",
}
ROUNDS = 3


class Listener(threading.Thread):
    """One LISTEN connection on ``channels`` agents' channels, drained as an instance would."""

    def __init__(self, url: str, queries: Queries, channels: int) -> None:
        super().__init__(name="notify-listener", daemon=True)
        self.conn = connect(url)
        for agent in range(1, channels + 1):
            self.conn.execute(sql.SQL("listen {}").format(sql.Identifier(f"cash_out_{agent}")))
        row = self.conn.execute(queries["bench_backend_pid"]).fetchone()
        assert row is not None
        try:
            self.backend: psutil.Process | None = psutil.Process(int(row[0]))
        except psutil.Error:  # a server on another machine: its CPU is not measured
            self.backend = None
        self.received = 0
        self.halt = threading.Event()

    def cpu_s(self) -> float:
        if self.backend is None:
            return float("nan")
        times = self.backend.cpu_times()
        return float(times.user + times.system)

    def run(self) -> None:
        while not self.halt.is_set():
            for _ in self.conn.notifies(timeout=0.2):
                self.received += 1

    def close(self) -> None:
        self.halt.set()
        self.join(5)
        self.conn.close()


def fdatasync_per_s(directory: Path, seconds: float = 2.0) -> float:
    """8 kB writes each followed by fdatasync, per second, in ``directory`` (as
    pg_test_fsync's first test): the flushes the disk allows, one per notifying commit."""
    path = directory / "fdatasync-probe"
    block = b"\0" * 8192
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            os.pwrite(fd, block, 0)
            os.fdatasync(fd)
            done += 1
        return round(done / (time.perf_counter() - started), 1)
    finally:
        os.close(fd)
        path.unlink()


def run(
    url: str,
    queries: Queries,
    bin_dir: Path,
    client_counts: list[int],
    duration_s: float,
    scratch: Path,
    channel_counts: tuple[int, ...] = (1, 10_000),
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"fdatasync_per_s": fdatasync_per_s(scratch)}
    rows: list[dict[str, Any]] = []
    with connect(url) as admin:
        admin.execute(queries["bench_notify_rows_create"])
    for channels in channel_counts:
        listener = Listener(url, queries, channels)
        listener.start()
        try:
            for clients in client_counts:
                runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
                listener_cores: list[float] = []
                for r in range(rounds):
                    names = list(VARIANTS)
                    for variant in names[r % len(names) :] + names[: r % len(names)]:
                        cpu, started = listener.cpu_s(), time.perf_counter()
                        script = VARIANTS[variant]
                        done = pgbench(bin_dir, url, [script], clients, duration_s, {})
                        runs[variant].append(tps_of(done))
                        if variant == "write_notify":
                            used = listener.cpu_s() - cpu
                            listener_cores.append(used / (time.perf_counter() - started))
                row: dict[str, Any] = {"listen_channels": channels, "clients": clients}
                for variant, figures in runs.items():
                    row[f"{variant}_tps"] = round(statistics.median(figures), 1)
                row["write_notify_runs"] = [round(f) for f in runs["write_notify"]]
                row["listener_backend_cores"] = round(statistics.median(listener_cores), 3)
                rows.append(row)
                log.info("bench notify: %s", row)
        finally:
            listener.close()
    with connect(url) as admin:
        admin.execute(queries["bench_notify_rows_drop"])
    result["runs"] = rows
    return result
