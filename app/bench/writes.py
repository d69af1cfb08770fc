"""Write path: cash-out UPDATE throughput with and without the cash-out trigger."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any, LiteralString, cast

import psycopg
from psycopg.rows import TupleRow

from app.bench.database import APP_NAME, connect
from app.bench.stats import ratio, summarize
from app.queries import Queries

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bet_ids",
    "bench_open_bet_count",
    "bench_place_open_bets",
    "bench_cash_out_many",
    "bench_resync_feed",
    "bench_trigger_disable",
    "bench_trigger_enable",
    "bench_trigger_source",
)
NOTIFY_CALL = "pg_notify('cash_out_' || agent_id, last_seq::text)"
# The three ways a cash-out UPDATE is measured: bare, with the trigger's work
# but its NOTIFY replaced by a constant (benchmark database only), and as
# deployed. The middle one separates the trigger's own cost from NOTIFY's
# commit-time lock.
VARIANTS = ("no_trigger", "trigger_without_notify", "trigger")


async def _writers(
    url: str,
    query: LiteralString,
    ids: Iterator[list[int]],
    writers: int,
    duration_s: float,
    sync_commit: bool,
) -> tuple[dict[str, Any], list[int]]:
    done: list[int] = []
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_s

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


class TriggerVariants:
    """Switches the bench database's trigger between the measured variants."""

    def __init__(self, admin: psycopg.Connection[TupleRow], queries: Queries) -> None:
        self.admin, self.queries = admin, queries
        row = admin.execute(queries["bench_trigger_source"]).fetchone()
        self.source = str(row[0]) if row else ""

    def available(self, variant: str) -> bool:
        return variant != "trigger_without_notify" or NOTIFY_CALL in self.source

    def use(self, variant: str) -> None:
        self.restore()
        if variant == "no_trigger":
            self.admin.execute(self.queries["bench_trigger_disable"])
        elif variant == "trigger_without_notify":
            # Function text from pg_get_functiondef, not client input.
            self.admin.execute(cast(LiteralString, self.source.replace(NOTIFY_CALL, "1")))  # type: ignore[redundant-cast]

    def restore(self) -> None:
        self.admin.execute(cast(LiteralString, self.source))  # type: ignore[redundant-cast]
        self.admin.execute(self.queries["bench_trigger_enable"])


def run(
    url: str,
    queries: Queries,
    writer_counts: list[int],
    duration_s: float,
    batch_sizes: list[int],
    max_bets: int,
) -> list[dict[str, Any]]:
    """Every combination of variant, writers, batch size and synchronous_commit."""
    rows: list[dict[str, Any]] = []
    with connect(url) as admin:
        variants = TriggerVariants(admin, queries)
        try:
            for batch in batch_sizes:
                for sync_commit in (True, False):
                    for writers in writer_counts:
                        row: dict[str, Any] = {
                            "writers": writers,
                            "bets_per_statement": batch,
                            "synchronous_commit": "on" if sync_commit else "off",
                        }
                        for variant in VARIANTS:
                            if not variants.available(variant):
                                continue
                            figures = _one(
                                admin,
                                url,
                                queries,
                                variants,
                                variant,
                                writers,
                                duration_s,
                                batch,
                                sync_commit,
                                max_bets,
                            )
                            row[f"{variant}_per_s"] = figures["cash_outs_per_s"]
                            row[f"{variant}_stmt_p50_ms"] = figures["p50_ms"]
                        row["ratio"] = ratio(row.get("trigger_per_s"), row.get("no_trigger_per_s"))
                        rows.append(row)
                        log.info("bench write: %s", row)
        finally:
            variants.restore()
    return rows


def _one(
    admin: psycopg.Connection[TupleRow],
    url: str,
    queries: Queries,
    variants: TriggerVariants,
    variant: str,
    writers: int,
    duration_s: float,
    batch: int,
    sync_commit: bool,
    max_bets: int,
) -> dict[str, Any]:
    count = admin.execute(queries["bench_open_bet_count"]).fetchone()
    missing = max_bets - int(count[0]) if count else max_bets
    if missing > 0:  # the platform keeps placing bets; so does the benchmark
        admin.execute(queries["bench_place_open_bets"], {"n": missing})
    ids = [int(r[0]) for r in admin.execute(queries["bench_open_bet_ids"], {"n": max_bets})]
    variants.use(variant)
    try:
        figures, done = asyncio.run(
            _writers(
                url,
                queries["bench_cash_out_many"],
                _batches(ids, batch),
                writers,
                duration_s,
                sync_commit,
            )
        )
    finally:
        variants.restore()
    if variant == "no_trigger":
        # Keep the copy equal to the bets for the runs that follow.
        admin.execute(queries["bench_resync_feed"], {"bet_ids": done})
    if len(done) >= len(ids):
        log.warning("bench write: ran out of open bets (%d)", len(ids))
    return figures
