"""What the stream benchmarks watch besides the clients: CPU per process group, and a bare
LISTEN client on the same channels (the latency floor)."""

from __future__ import annotations

import threading
import time

import psutil
from psycopg import sql

from bench.database import connect


class CpuMeter:
    """CPU used by process groups while the writer runs, in cores (1.0 = one core busy)."""

    def __init__(self, groups: dict[str, list[psutil.Process]]) -> None:
        self.groups = groups
        self.started = time.perf_counter()
        self.before = {name: self._cpu(procs) for name, procs in groups.items()}
        self.machine_before = self._busy()

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return float(sum(t)) - float(t.idle) - float(getattr(t, "iowait", 0.0))

    @staticmethod
    def _cpu(procs: list[psutil.Process]) -> float:
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
        return total

    def cores(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.started
        figures = {
            f"{name}_cores": round((self._cpu(procs) - self.before[name]) / elapsed, 2)
            for name, procs in self.groups.items()
        }
        # Everything on the machine: PostgreSQL, the writer, and anyone else's work.
        figures["machine_cores"] = round((self._busy() - self.machine_before) / elapsed, 2)
        return figures


class Floor(threading.Thread):
    """A bare psycopg LISTEN client on the same channels: the latency floor."""

    def __init__(self, url: str, agent_ids: list[int]) -> None:
        super().__init__(name="listen-floor", daemon=True)
        self.conn = connect(url)
        for agent_id in agent_ids:
            self.conn.execute(sql.SQL("listen {}").format(sql.Identifier(f"cash_out_{agent_id}")))
        self.received: list[tuple[int, int, int]] = []  # agent, seq, monotonic ns
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for n in self.conn.notifies(timeout=0.2):
                self.received.append(
                    (int(n.channel.rsplit("_", 1)[1]), int(n.payload), time.monotonic_ns())
                )

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.conn.close()
