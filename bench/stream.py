"""Stream: N SSE clients over the agents, a paced writer, commit→receive latency, memory."""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing as mp
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

from app.db.queries import Queries
from bench import sse_worker
from bench.database import APP_NAME, connect
from bench.server import ServeProcess
from bench.stats import summarize

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bets",
    "bench_place_open_bets",
    "bench_cash_out",
    "bench_events_of",
    "bench_connections",
)
STREAMS_PER_PROCESS = 2_500


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


async def _write(
    url: str,
    queries: Queries,
    bets: list[tuple[int, int]],
    rate: float,
    duration_s: float,
    writers: int,
) -> dict[int, int]:
    """Cash out one bet per transaction at `rate` per second; bet id → commit time (ns)."""
    committed: dict[int, int] = {}
    total = min(len(bets), math.ceil(rate * duration_s))
    queue = iter(range(total))
    t0 = time.monotonic() + 0.1

    async def writer() -> None:
        async with await psycopg.AsyncConnection.connect(
            url, autocommit=True, application_name=APP_NAME
        ) as conn:
            for i in queue:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                bet_id = bets[i][0]
                await conn.execute(queries["bench_cash_out"], {"bet_id": bet_id})
                committed[bet_id] = time.monotonic_ns()

    await asyncio.gather(*(writer() for _ in range(writers)))
    return committed


def _spawn(server: ServeProcess, tokens: list[str]) -> list[tuple[Any, Any]]:
    ctx = mp.get_context("spawn")
    procs = []
    for i in range(0, len(tokens), STREAMS_PER_PROCESS):
        parent, child = ctx.Pipe()
        job = sse_worker.Job("127.0.0.1", server.port, tokens[i : i + STREAMS_PER_PROCESS], 60.0)
        proc = ctx.Process(target=sse_worker.main, args=(job, child), daemon=True)
        proc.start()
        child.close()
        procs.append((proc, parent))
    return procs


def _recv(pipe: Any, timeout: float) -> Any:
    if not pipe.poll(timeout):
        raise TimeoutError("an SSE client process did not answer in time")
    msg = pipe.recv()
    if msg[0] == "error":
        raise RuntimeError(f"SSE client process failed: {msg[1]}")
    return msg


def run_one(
    url: str,
    queries: Queries,
    tokens: dict[int, str],
    streams: int,
    rate: float,
    duration_s: float,
    log_dir: Path,
    checkout: Path | None = None,
) -> dict[str, Any]:
    agents = sorted(tokens)
    assignment = [agents[i % len(agents)] for i in range(streams)]
    per_agent: dict[int, int] = {}
    for a in assignment:
        per_agent[a] = per_agent.get(a, 0) + 1
    with connect(url) as conn:
        # Fresh open bets to cash out, as the platform keeps placing them (an
        # earlier write benchmark may have used the dataset's up).
        conn.execute(queries["bench_place_open_bets"], {"n": math.ceil(rate * duration_s * 4)})
        bets = [
            (int(r[0]), int(r[1]))
            for r in conn.execute(
                queries["bench_open_bets"],
                {
                    "agent_ids": list(per_agent),
                    "per_agent": math.ceil(rate * duration_s / len(per_agent)) + 1,
                },
            ).fetchall()
        ]
    row: dict[str, Any] = {"streams": streams, "agents": len(per_agent), "target_rate": rate}
    # The app's per-process stream limit must admit the run (a deployment sizes it alike).
    env = {
        "CASHOUT_FEED_STREAM_MAX_TOTAL": str(max(10_000, streams)),
        "CASHOUT_FEED_STREAM_MAX_PER_AGENT": str(max(20, max(per_agent.values()))),
    }
    log_path = log_dir / f"serve-stream-{streams}.log"
    with ServeProcess(url, log_path=log_path, env=env, checkout=checkout) as server:
        server.warm_up(tokens[assignment[0]])
        rss_before = server.rss_bytes()
        procs = _spawn(server, [tokens[a] for a in assignment])
        try:
            opened, started = 0, time.perf_counter()
            errors: dict[str, int] = {}
            for _, pipe in procs:
                _, ok, errs = _recv(pipe, 300)
                opened += ok
                for k, v in errs.items():
                    errors[k] = errors.get(k, 0) + v
            row["open_s"] = round(time.perf_counter() - started, 1)
            row["opened"], row["open_errors"] = opened, errors or None
            time.sleep(1)  # let the allocator settle before reading RSS
            rss_after = server.rss_bytes()
            row["server_rss_mib"] = round(rss_after / 2**20, 1)
            row["kib_per_stream"] = round((rss_after - rss_before) / 1024 / max(1, opened), 1)
            with connect(url) as conn:
                row["app_db_connections"] = conn.execute(queries["bench_connections"]).fetchone()[0]  # type: ignore[index]
            floor = Floor(url, list(per_agent))
            floor.start()
            try:
                begun = time.perf_counter()
                cpu = CpuMeter(
                    {
                        "server": server.processes(),
                        "clients": [psutil.Process(p.pid) for p, _ in procs],
                    }
                )
                committed = asyncio.run(_write(url, queries, bets, rate, duration_s, writers=8))
                row["achieved_rate"] = round(len(committed) / (time.perf_counter() - begun), 1)
                row.update(cpu.cores())
                time.sleep(2.0)  # stragglers: the figures below count what did not arrive
            finally:
                floor.close()
            received: list[tuple[int, int]] = []
            for _, pipe in procs:
                pipe.send("stop")
            for _, pipe in procs:
                received += sse_worker.decode(_recv(pipe, 60)[1])
        finally:
            for proc, _ in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
    row.update(_latencies(url, queries, committed, received, floor.received, bets, per_agent))
    return row


def _latencies(
    url: str,
    queries: Queries,
    committed: dict[int, int],
    received: list[tuple[int, int]],
    floor: list[tuple[int, int, int]],
    bets: list[tuple[int, int]],
    per_agent: dict[int, int],
) -> dict[str, Any]:
    agent_of = dict(bets)
    expected = sum(per_agent[agent_of[b]] for b in committed)
    lat = [(t - committed[b]) / 1e9 for b, t in received if b in committed]
    ours = summarize(lat, 1.0)
    with connect(url) as conn:
        seq_to_bet = {
            (int(a), int(s)): int(b)
            for a, s, b in conn.execute(
                queries["bench_events_of"], {"bet_ids": list(committed)}
            ).fetchall()
        }
    floor_lat = [
        (t - committed[seq_to_bet[(a, s)]]) / 1e9
        for a, s, t in floor
        if (a, s) in seq_to_bet and seq_to_bet[(a, s)] in committed
    ]
    bare = summarize(floor_lat, 1.0)
    return {
        "cash_outs": len(committed),
        "deliveries_expected": expected,
        "deliveries_received": len(lat),
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "max_ms": ours["max_ms"],
        "listen_floor_p50_ms": bare["p50_ms"],
        "listen_floor_p99_ms": bare["p99_ms"],
        "listen_floor_max_ms": bare["max_ms"],
        "listen_floor_received": len(floor_lat),
    }


def run(
    url: str,
    queries: Queries,
    tokens: dict[int, str],
    stream_counts: list[int],
    rate: float,
    duration_s: float,
    log_dir: Path,
    checkout: Path | None = None,
) -> list[dict[str, Any]]:
    sse_worker.raise_fd_limit()  # inherited by the server subprocess
    rows = []
    for n in stream_counts:
        rows.append(run_one(url, queries, tokens, n, rate, duration_s, log_dir, checkout))
        log.info("bench stream: %s", rows[-1])
    return rows
