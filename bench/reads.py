"""Read path: each scenario over HTTP against ``serve`` and as bare SQL, at concurrencies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from app.config import Settings
from app.db.pool import configure
from app.db.queries import Queries
from app.export.rows import BATCH_ROWS, next_chunk, read_chunk, timeouts
from app.security import token_hash
from bench.database import APP_NAME
from bench.http import Connection
from bench.scenarios import SIGN_IN_QUERY, AgentCase, Scenario, floor_queries, scenarios
from bench.stats import ratio, summarize

log = logging.getLogger(__name__)

Call = Callable[[], Awaitable[None]]


async def _load(workers: list[Call], requests: int, budget_s: float) -> dict[str, Any]:
    """Run up to `requests` calls spread over the workers, stopping new ones after the budget."""
    for call in workers:
        # Warm-up: connections opened, plans and caches primed (failures show below).
        with contextlib.suppress(Exception):
            await call()
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    remaining = requests
    deadline = time.perf_counter() + budget_s

    async def worker(call: Call) -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            started = time.perf_counter()
            try:
                await call()
            except Exception as exc:  # a failed request is counted, not fatal
                errors += 1
                kind = str(exc) if isinstance(exc, StatusError) else type(exc).__name__
                kinds[kind] = kinds.get(kind, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in workers))
    figures = summarize(latencies, time.perf_counter() - started, errors)
    if kinds:
        figures["error_kinds"] = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))
    return figures


class StatusError(RuntimeError):
    """A response other than 200; the message is what the report shows."""


async def http_run(
    base: tuple[str, int],
    token: str,
    scenario: Scenario,
    concurrency: int,
    requests: int,
    budget_s: float,
) -> dict[str, Any]:
    conns = [Connection(*base, {"Authorization": f"Bearer {token}"}) for _ in range(concurrency)]

    def call_for(conn: Connection) -> Call:
        async def call() -> None:
            status, _ = await conn.get(scenario.path)
            if status != 200:
                raise StatusError(f"HTTP {status}")

        return call

    try:
        return await _load([call_for(c) for c in conns], requests, budget_s)
    finally:
        for c in conns:
            await c.close()


async def sql_run(
    url: str, queries: Queries, scenario: Scenario, concurrency: int, requests: int, budget_s: float
) -> dict[str, Any]:
    conns = [
        await psycopg.AsyncConnection.connect(url, autocommit=True, application_name=APP_NAME)
        for _ in range(concurrency)
    ]
    names = floor_queries(queries)[scenario.kind]
    split = names.index("begin_snapshot") if "begin_snapshot" in names else len(names)
    before, inside = names[:split], names[split:]
    export_limits = timeouts(Settings())

    def call_for(conn: psycopg.AsyncConnection[Any]) -> Call:
        async def call() -> None:
            await (await conn.execute(queries[SIGN_IN_QUERY], scenario.params)).fetchall()
            if scenario.kind == "export":
                # As the export does: keyset chunks, each in a transaction of its own.
                params = {**scenario.params, "after_settled_at": None, "after_bet_id": None}
                params["limit"] = BATCH_ROWS
                while next_chunk(params, await read_chunk(conn, queries, params, export_limits)):
                    pass
                return
            # Checks the app makes before its snapshot transaction run outside it.
            for name in before:
                await (await conn.execute(queries[name], scenario.params)).fetchall()
            if not inside:
                return
            async with conn.transaction():
                for name in inside:
                    cur = await conn.execute(queries[name], scenario.params)
                    if cur.description is not None:
                        await cur.fetchall()

        return call

    try:
        for conn in conns:
            await configure(conn, queries, Settings())
        return await _load([call_for(c) for c in conns], requests, budget_s)
    finally:
        for c in conns:
            await c.close()


async def run(
    base: tuple[str, int],
    url: str,
    queries: Queries,
    cases: list[tuple[AgentCase, str]],
    concurrencies: list[int],
    requests: int,
    budget_s: float,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for case, token in cases:
        for scenario in scenarios(case, token_hash(token)):
            # The export reads every row of the agent: far fewer of those.
            n = max(2, requests // 25) if scenario.kind == "export" else requests
            for c in concurrencies:
                api = await http_run(base, token, scenario, c, max(n, c), budget_s)
                floor = await sql_run(url, queries, scenario, c, max(n, c), budget_s)
                row = {
                    "agent": case.label,
                    "scenario": scenario.name,
                    "concurrency": c,
                    "api_p50_ms": api["p50_ms"],
                    "api_p99_ms": api["p99_ms"],
                    "api_rps": api["rps"],
                    "api_n": api["n"],
                    "api_errors": api["errors"],
                    "api_error_kinds": api.get("error_kinds"),
                    "sql_p50_ms": floor["p50_ms"],
                    "sql_p99_ms": floor["p99_ms"],
                    "sql_rps": floor["rps"],
                    "sql_n": floor["n"],
                    "sql_errors": floor["errors"],
                    "p50_ratio": ratio(api["p50_ms"], floor["p50_ms"]),
                }
                log.info("bench read: %s", row)
                rows.append(row)
    return rows
