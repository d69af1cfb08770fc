"""Stream: N SSE clients over the agents, a paced writer, commit→receive latency, memory."""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from app.db.queries import Queries
from bench import sse_worker
from bench.database import connect
from bench.deliveries import latencies, write
from bench.probes import CpuMeter, Floor
from bench.server import ServeProcess

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bets",
    "bench_place_open_bets",
    "bench_cash_out",
    "bench_events_of",
    "bench_connections",
)
STREAMS_PER_PROCESS = 2_500


@dataclass
class Plan:
    """Which agent each stream follows, and the open bets the writer will cash out."""

    assignment: list[int]
    per_agent: dict[int, int]
    bets: list[tuple[int, int]]
    rate: float
    duration_s: float

    @classmethod
    def make(
        cls, url: str, queries: Queries, agents: list[int], streams: int, rate: float, s: float
    ) -> Plan:
        assignment = [agents[i % len(agents)] for i in range(streams)]
        per_agent: dict[int, int] = {}
        for a in assignment:
            per_agent[a] = per_agent.get(a, 0) + 1
        with connect(url) as conn:
            # Fresh open bets to cash out, as the platform keeps placing them (an
            # earlier write benchmark may have used the dataset's up).
            conn.execute(queries["bench_place_open_bets"], {"n": math.ceil(rate * s * 4)})
            params = {
                "agent_ids": list(per_agent),
                "per_agent": math.ceil(rate * s / len(per_agent)) + 1,
            }
            rows = conn.execute(queries["bench_open_bets"], params).fetchall()
        return cls(assignment, per_agent, [(int(r[0]), int(r[1])) for r in rows], rate, s)

    def server_env(self) -> dict[str, str]:
        """The app's per-process stream limits, sized to admit the run (as a deployment would)."""
        return {
            "CASHOUT_FEED_STREAM_MAX_TOTAL": str(max(10_000, len(self.assignment))),
            "CASHOUT_FEED_STREAM_MAX_PER_AGENT": str(max(20, max(self.per_agent.values()))),
        }


@dataclass
class Target:
    """Where the clients connect (an instance, or a proxy before several) and what runs there."""

    port: int
    servers: list[ServeProcess]
    tls_ca: str | None = None
    proxy: list[psutil.Process] = field(default_factory=list)
    # Figures read while the streams are open (e.g. how they spread over instances).
    while_open: Callable[[], dict[str, Any]] | None = None

    def rss_bytes(self) -> int:
        return sum(server.rss_bytes() for server in self.servers)


def _spawn(target: Target, tokens: list[str]) -> list[tuple[Any, Any]]:
    ctx = mp.get_context("spawn")
    procs = []
    for i in range(0, len(tokens), STREAMS_PER_PROCESS):
        parent, child = ctx.Pipe()
        share = tokens[i : i + STREAMS_PER_PROCESS]
        job = sse_worker.Job("127.0.0.1", target.port, share, 60.0, tls_ca=target.tls_ca)
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
    """Streams straight to one instance."""
    plan = Plan.make(url, queries, sorted(tokens), streams, rate, duration_s)
    log_path = log_dir / f"serve-stream-{streams}.log"
    with ServeProcess(url, log_path=log_path, env=plan.server_env(), checkout=checkout) as server:
        return measure(url, queries, tokens, plan, Target(server.port, [server]))


def measure(
    url: str, queries: Queries, tokens: dict[int, str], plan: Plan, target: Target
) -> dict[str, Any]:
    """Open the plan's streams on the target, commit at the plan's rate, and time each event."""
    row: dict[str, Any] = {
        "streams": len(plan.assignment),
        "agents": len(plan.per_agent),
        "target_rate": plan.rate,
    }
    for server in target.servers:
        server.warm_up(tokens[plan.assignment[0]])
    rss_before = target.rss_bytes()
    procs = _spawn(target, [tokens[a] for a in plan.assignment])
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
        if target.while_open is not None:
            row.update(target.while_open())
        time.sleep(1)  # let the allocator settle before reading RSS
        rss_after = target.rss_bytes()
        row["server_rss_mib"] = round(rss_after / 2**20, 1)
        row["kib_per_stream"] = round((rss_after - rss_before) / 1024 / max(1, opened), 1)
        with connect(url) as conn:
            row["app_db_connections"] = conn.execute(queries["bench_connections"]).fetchone()[0]  # type: ignore[index]
        floor = Floor(url, list(plan.per_agent))
        floor.start()
        try:
            begun = time.perf_counter()
            groups = {
                "server": [p for server in target.servers for p in server.processes()],
                "clients": [psutil.Process(p.pid) for p, _ in procs],
            }
            if target.proxy:
                groups["proxy"] = target.proxy
            cpu = CpuMeter(groups)
            committed = asyncio.run(
                write(url, queries, plan.bets, plan.rate, plan.duration_s, writers=8)
            )
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
    row.update(
        latencies(url, queries, committed, received, floor.received, plan.bets, plan.per_agent)
    )
    return row


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
