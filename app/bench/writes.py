"""Write path: cash-out UPDATE throughput with and without the cash-out trigger."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import psycopg

from app.bench.database import APP_NAME, connect
from app.bench.stats import ratio, summarize
from app.queries import Queries

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bet_ids",
    "bench_cash_out",
    "bench_cash_out_many",
    "bench_resync_feed",
    "bench_trigger_disable",
    "bench_trigger_enable",
)


async def _writers(
    url: str,
    queries: Queries,
    ids: Iterator[list[int]],
    writers: int,
    duration_s: float,
    sync_commit: bool,
) -> tuple[dict[str, Any], list[int]]:
    done: list[int] = []
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_s
    query = queries["bench_cash_out_many"]

    async def writer() -> None:
        async with await psycopg.AsyncConnection.connect(
            url, autocommit=True, application_name=APP_NAME
        ) as conn:
            if not sync_commit:
                await conn.execute("set synchronous_commit = off")
            for batch in ids:
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                await conn.execute(query, {"bet_ids": batch})
                latencies.append(time.perf_counter() - started)
                done.extend(batch)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - started
    figures = summarize(latencies, elapsed)
    figures["cash_outs_per_s"] = round(len(done) / elapsed, 1)
    return figures, done


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def run(
    url: str,
    queries: Queries,
    writer_counts: list[int],
    duration_s: float,
    batch_sizes: list[int],
    max_bets: int,
) -> list[dict[str, Any]]:
    """Every combination of trigger on/off, writers, batch size and synchronous_commit."""
    rows: list[dict[str, Any]] = []
    with connect(url) as admin:
        for batch in batch_sizes:
            for sync_commit in (True, False):
                for writers in writer_counts:
                    pair: dict[bool, dict[str, Any]] = {}
                    for trigger in (False, True):
                        ids = [
                            int(r[0])
                            for r in admin.execute(
                                queries["bench_open_bet_ids"], {"n": max_bets}
                            ).fetchall()
                        ]
                        if not trigger:
                            admin.execute(queries["bench_trigger_disable"])
                        try:
                            figures, done = asyncio.run(
                                _writers(
                                    url,
                                    queries,
                                    _batches(ids, batch),
                                    writers,
                                    duration_s,
                                    sync_commit,
                                )
                            )
                        finally:
                            admin.execute(queries["bench_trigger_enable"])
                        if not trigger:
                            # Keep the copy equal to the bets for the runs that follow.
                            admin.execute(queries["bench_resync_feed"], {"bet_ids": done})
                        pair[trigger] = figures
                        if len(done) >= len(ids):
                            log.warning("bench write: ran out of open bets (%d)", len(ids))
                    rows.append(
                        {
                            "writers": writers,
                            "bets_per_statement": batch,
                            "synchronous_commit": "on" if sync_commit else "off",
                            "without_trigger_per_s": pair[False]["cash_outs_per_s"],
                            "with_trigger_per_s": pair[True]["cash_outs_per_s"],
                            "ratio": ratio(
                                pair[True]["cash_outs_per_s"], pair[False]["cash_outs_per_s"]
                            ),
                            "with_trigger_stmt_p50_ms": pair[True]["p50_ms"],
                            "with_trigger_stmt_p99_ms": pair[True]["p99_ms"],
                            "without_trigger_stmt_p50_ms": pair[False]["p50_ms"],
                        }
                    )
                    log.info("bench write: %s", rows[-1])
    return rows
