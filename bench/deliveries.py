"""The stream benchmarks' writer (cash-outs at a steady rate, each commit timed) and the
commit→receive latencies of what the clients and the bare LISTEN floor received."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import psycopg

from app.db.queries import Queries
from bench.database import APP_NAME, connect
from bench.stats import summarize


async def write(
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


def latencies(
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
