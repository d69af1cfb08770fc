"""Soak: streams held for minutes while cash-outs commit and clients drop and resume.

Every ``--soak-sample`` seconds it records the server's memory, asyncio tasks, open file
descriptors and database connections, fits each series' slope per hour after a warm-up
(bench/slope.py says when a slope counts as flat), and checks that every client received
every cash-out of its agent exactly once across its reconnects (bench/soak_worker.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from app.db.queries import Queries
from app.live.sse import RETRY_MILLISECONDS
from bench import soak_probe
from bench.database import APP_NAME, connect
from bench.server import ServeProcess
from bench.soak_clients import ClientProcesses
from bench.sse_worker import raise_fd_limit

log = logging.getLogger(__name__)

QUERIES = ("bench_open_bets", "bench_cash_out", "soak_place_open_bets", "soak_app_connections")
# A sample's "lost so far" counts commits older than this: a dropped client is back
# after its reconnection delay (3 s) and the replay, well within it.
GRACE_S = 10.0
FINISH_WAIT_S = 30.0


@dataclass(frozen=True)
class Plan:
    minutes: float
    streams: int
    agents: int
    rate: float
    churn: float
    sample_s: float
    warmup_s: float
    leak_bound: float
    reconnect_delay_s: float


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="run the soak for MINUTES (alone, unless --parts names other parts too)",
    )
    p.add_argument("--soak-streams", type=int, default=5_000, help="streams held open (soak)")
    p.add_argument("--soak-agents", type=int, default=500, help="agents they are spread over")
    p.add_argument("--soak-rate", type=float, default=50.0, help="cash-outs per second (soak)")
    p.add_argument("--soak-churn", type=float, default=10.0, help="reconnects per second")
    p.add_argument("--soak-sample", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--soak-warmup", type=float, default=60.0, help="seconds left out of slopes")
    p.add_argument(
        "--soak-leak-bound",
        type=float,
        default=0.01,
        help="tolerance of a slope: this fraction of one stream (task, fd, memory) per reconnect",
    )


def plan_of(args: argparse.Namespace) -> Plan:
    return Plan(
        args.soak, args.soak_streams, args.soak_agents, args.soak_rate, args.soak_churn,
        args.soak_sample, args.soak_warmup, args.soak_leak_bound,
        # EventSource waits the server's `retry:` before it reconnects.
        reconnect_delay_s=RETRY_MILLISECONDS / 1000,
    )  # fmt: skip


def _bets(url: str, queries: Queries, agents: list[int], total: int) -> list[tuple[int, int]]:
    """`total` open bets of the agents, (agent, bet), in a random order over the agents."""
    per_agent = math.ceil(total / len(agents)) + 1
    with connect(url) as conn:
        conn.execute(queries["soak_place_open_bets"], {"agent_ids": agents, "per_agent": per_agent})
        rows = conn.execute(
            queries["bench_open_bets"], {"agent_ids": agents, "per_agent": per_agent}
        ).fetchall()
    bets = [(int(agent), int(bet)) for bet, agent in rows]
    random.Random(0).shuffle(bets)
    return bets[:total]


Commit = tuple[int, int, float]  # agent, bet, monotonic time of the commit


async def _write(
    url: str, queries: Queries, bets: list[tuple[int, int]], rate: float, t0: float,
    done: list[Commit],
) -> None:  # fmt: skip
    """Cash out one bet per transaction at `rate` a second; (agent, bet, commit time)."""
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, application_name=APP_NAME
    ) as conn:
        for i, (agent_id, bet_id) in enumerate(bets):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            cur = await conn.execute(queries["bench_cash_out"], {"bet_id": bet_id})
            if cur.rowcount == 1:  # still open when cashed out: its event exists
                done.append((agent_id, bet_id, time.monotonic()))


async def _soak(
    url: str, queries: Queries, server: ServeProcess, clients: ClientProcesses, plan: Plan,
    bets: list[tuple[int, int]],
) -> tuple[list[dict[str, Any]], list[Commit], dict[str, Any], float]:  # fmt: skip
    """The writer, the churn and a sample every `sample_s`; then every client's tally."""
    commits: list[Commit] = []
    sent, samples = 0, []
    clients.go()
    t0 = time.monotonic()
    writer = asyncio.create_task(_write(url, queries, bets, plan.rate, t0, commits))
    for k in range(int(plan.minutes * 60 // plan.sample_s) + 1):
        await asyncio.sleep(max(0.0, t0 + k * plan.sample_s - time.monotonic()))
        if writer.done() and writer.exception():
            break
        at, cutoff = time.monotonic() - t0, time.monotonic() - GRACE_S
        due = sent
        while due < len(commits) and commits[due][2] <= cutoff:
            due += 1
        pairs, sent = [(a, b) for a, b, _ in commits[sent:due]], due
        figures = await asyncio.to_thread(soak_probe.server_figures, server, url, queries)
        tally = await asyncio.to_thread(clients.ask, ("expect", pairs), 60)
        samples.append(
            {"t_s": round(at), **figures, "clients_connected": tally["connected"],
             "cash_outs": len(commits), "delivered": tally["received"], "lost": tally["missing"],
             "duplicated": tally["duplicated"], "reconnects": tally["drops"]}
        )  # fmt: skip
        log.info("bench soak: %s", samples[-1])
    await writer
    elapsed = time.monotonic() - t0
    rest = [(a, b) for a, b, _ in commits[sent:]]
    final = await asyncio.to_thread(
        clients.ask, ("finish", rest, FINISH_WAIT_S), FINISH_WAIT_S + 60
    )
    return samples, commits, final, elapsed


def run(
    url: str, queries: Queries, tokens: dict[int, str], plan: Plan, log_dir: Path,
    checkout: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    raise_fd_limit()  # inherited by the server subprocess
    ids = sorted(tokens)
    step = max(1.0, len(ids) / plan.agents)
    agents = sorted({ids[int(i * step)] for i in range(min(plan.agents, len(ids)))})
    clients = [(a, tokens[a]) for a in (agents[i % len(agents)] for i in range(plan.streams))]
    per_agent = Counter(a for a, _ in clients)
    bets = _bets(url, queries, agents, math.ceil(plan.rate * plan.minutes * 60))
    env = {
        "CASHOUT_FEED_STREAM_MAX_TOTAL": str(max(10_000, 2 * plan.streams)),
        "CASHOUT_FEED_STREAM_MAX_PER_AGENT": str(max(20, 2 * max(per_agent.values()))),
    }
    row: dict[str, Any] = {
        "minutes": plan.minutes, "streams": plan.streams, "agents": len(agents),
        "target_rate": plan.rate, "target_churn_per_s": plan.churn,
        "sample_s": plan.sample_s, "warmup_s": plan.warmup_s, "leak_bound": plan.leak_bound,
    }  # fmt: skip
    with ServeProcess(url, log_path=log_dir / "serve-soak.log", env=env, checkout=checkout) as srv:
        srv.warm_up(clients[0][1])
        rss_before, started = srv.rss_bytes(), time.perf_counter()
        procs = ClientProcesses(srv.port, clients, plan.churn, plan.reconnect_delay_s)
        try:
            opened, failures = procs.connected(300)
            row["open_s"], row["opened"] = round(time.perf_counter() - started, 1), opened
            if opened < plan.streams:
                raise RuntimeError(f"soak: {opened} of {plan.streams} streams opened: {failures}")
            time.sleep(1)  # let the allocator settle before reading RSS
            kib = (srv.rss_bytes() - rss_before) / 1024 / opened
            samples, commits, final, elapsed = asyncio.run(
                _soak(url, queries, srv, procs, plan, bets)
            )
        finally:
            procs.stop()
    committed = Counter(agent_id for agent_id, _, _ in commits)
    reconnects_per_h = final["drops"] / elapsed * 3600
    trends = soak_probe.trends(samples, plan.warmup_s, plan.leak_bound, reconnects_per_h, kib)
    failed = final["failures"]
    row |= {
        "kib_per_stream": round(kib, 1),
        "achieved_rate": round(len(commits) / elapsed, 1),
        "reconnects": final["drops"],
        "open_failures": ", ".join(f"{k}: {v}" for k, v in failed.items()) or None,
        "server_closed": final["server_closed"],
        "resets": final["resets"],
        "cash_outs": len(commits),
        "deliveries_expected": sum(per_agent[a] * n for a, n in committed.items()),
        "delivered": final["received"],
        "lost": final["missing"],
        "duplicated": final["duplicated"],
        "unexpected": final["unexpected"],
        "settle_s": final["settle_s"],
        "all_flat": all(t["flat"] for t in trends),
        "samples": samples,
        "trends": trends,
    }
    return row
