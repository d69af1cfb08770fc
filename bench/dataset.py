"""The benchmark dataset: a betting platform's database, generated inside PostgreSQL from a
seed (bench/sql/bench.sql), onto which the app is then installed as onto a real one."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from app.db import install as app_install
from app.db import migrate
from app.db.queries import Queries
from app.paths import MIGRATIONS_DIR, SCHEMA_DIR
from app.security import new_token, token_hash
from bench.database import connect
from bench.queries import BENCH_SQL_DIR

log = logging.getLogger(__name__)

QUERIES = (
    "bench_meta_create",
    "bench_meta_get",
    "bench_meta_set",
    "bench_meta_app",
    "bench_drop_platform",
    "bench_create_platform",
    "bench_platform_indexes",
    "bench_setseed",
    "bench_agents",
    "bench_customers",
    "bench_bets",
    "bench_fix_sequences",
    "bench_session",
    "bench_clear_sessions",
    "bench_app_installed",
    "bench_counts",
)

FULL_AGENTS = 2_000
FULL_CUSTOMERS = 200_000
FULL_BETS = 10_000_000
LARGE_AGENT_CUSTOMERS = 5_000
CHUNK = 500_000


@dataclass(frozen=True)
class Sizes:
    scale: float
    seed: float
    agents: int
    customers: int
    bets: int
    large_customers: int

    @classmethod
    def of(cls, scale: float, seed: float) -> Sizes:
        # The large agent keeps its 5,000 customers at every scale (it is the
        # case the targets are about), unless the whole dataset is smaller.
        customers = max(200, round(FULL_CUSTOMERS * scale))
        return cls(
            scale=scale,
            seed=seed,
            agents=max(10, round(FULL_AGENTS * scale)),
            customers=customers,
            bets=max(2_000, round(FULL_BETS * scale)),
            large_customers=min(LARGE_AGENT_CUSTOMERS, customers // 4),
        )


def _digest(*paths: Any) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def schema_fingerprint() -> str:
    """The platform generator's text: a dataset built by another is rebuilt."""
    return _digest(BENCH_SQL_DIR / "bench.sql")


def app_fingerprint() -> str:
    """The app's migrations and definitions: an install built from others is redone."""
    return _digest(*sorted(MIGRATIONS_DIR.glob("*.sql")), *sorted(SCHEMA_DIR.glob("*.sql")))


def existing(url: str, queries: Queries) -> dict[str, Any] | None:
    with connect(url) as conn:
        if conn.execute("select to_regclass('bench_meta')").fetchone() == (None,):
            return None
        cur = conn.execute(queries["bench_meta_get"])
        row = cur.fetchone()
        if row is None:
            return None
        names = [d.name for d in cur.description or ()]
        return dict(zip(names, row, strict=True))


def matches(meta: dict[str, Any] | None, sizes: Sizes) -> bool:
    return (
        meta is not None
        and Decimal(meta["scale"]) == Decimal(str(sizes.scale))
        and float(meta["seed"]) == sizes.seed
        and int(meta["bets"]) == sizes.bets
        and int(meta["agents"]) == sizes.agents
        and meta.get("schema") == schema_fingerprint()
    )


def installed(url: str, queries: Queries) -> bool:
    with connect(url) as conn:
        row = conn.execute(queries["bench_app_installed"]).fetchone()
    return bool(row and row[0])


def remove_app(url: str) -> None:
    """Take the app off the benchmark's database, even when the migrations it was
    installed from have since been edited (in development), which a rollback
    could not undo: the benchmark's platform tables are its own, not the app's."""
    app_queries = Queries.load(required=migrate.QUERIES)
    with connect(url) as conn:
        app_install.remove_definitions(conn, app_queries)
        app_install.drop_story_indexes(conn, app_queries)
        conn.execute(app_queries["drop_app_schema"])


def generate(url: str, queries: Queries, sizes: Sizes) -> dict[str, float]:
    """Empty the benchmark database and fill the platform's tables, without the app."""
    timings: dict[str, float] = {}
    anchor = datetime.now(UTC)
    params: dict[str, Any] = {**asdict(sizes), "anchor": anchor, "schema": schema_fingerprint()}
    if installed(url, queries):
        remove_app(url)
    with connect(url) as conn:
        conn.execute(queries["bench_meta_create"])
        conn.execute(queries["bench_drop_platform"])
        conn.execute(queries["bench_create_platform"])
        # Bulk load as the platform's own import would: without per-row foreign
        # key checks, and with the secondary indexes built once afterwards.
        conn.execute("set session_replication_role = replica")
        conn.execute("set maintenance_work_mem = '512MB'")
        conn.execute(queries["bench_setseed"], {"seed": sizes.seed})

        def step(name: str, query: str, **extra: Any) -> None:
            started = time.perf_counter()
            conn.execute(queries[query], {**params, **extra})
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

        step("agents", "bench_agents")
        step("customers", "bench_customers")
        for lo in range(1, sizes.bets + 1, CHUNK):
            hi = min(sizes.bets, lo + CHUNK - 1)
            step("bets", "bench_bets", lo=lo, hi=hi)
            log.info("bench: generated bets %d-%d of %d", lo, hi, sizes.bets)
        step("indexes", "bench_platform_indexes")
        conn.execute(queries["bench_fix_sequences"])
        conn.execute("set session_replication_role = origin")
        started = time.perf_counter()
        # Visibility map for index-only scans and fresh statistics, as a
        # long-running database would have from autovacuum.
        conn.execute("vacuum (analyze) agents, users, bets")
        timings["vacuum"] = time.perf_counter() - started
        conn.execute(queries["bench_meta_set"], {**params, "scale": Decimal(str(sizes.scale))})
    timings["total"] = sum(timings.values())
    return timings


def install(url: str, queries: Queries) -> dict[str, float]:
    """Install the app (again, if it was built from other migrations); seconds per step."""
    meta = existing(url, queries)
    if installed(url, queries) and (meta or {}).get("app") != app_fingerprint():
        log.info("bench: the app's schema changed since it was installed; reinstalling")
        remove_app(url)
    timings: dict[str, float] = {}
    migrate.apply_all(url, timings=timings)
    with connect(url) as conn:
        conn.execute("vacuum (analyze) cashout_feed.cash_outs, cashout_feed.hourly_totals")
        conn.execute(queries["bench_meta_app"], {"app": app_fingerprint()})
    return timings


def issue_tokens(url: str, queries: Queries, agent_ids: list[int]) -> dict[int, str]:
    """Fresh bearer tokens for the given agents (sessions written as sign-in would)."""
    tokens = {agent_id: new_token() for agent_id in agent_ids}
    with connect(url) as conn, conn.transaction():
        conn.execute(queries["bench_clear_sessions"])
        with conn.cursor() as cur:
            cur.executemany(
                queries["bench_session"],
                [{"token_hash": token_hash(t), "agent_id": a} for a, t in tokens.items()],
            )
    return tokens


def counts(conn: psycopg.Connection[TupleRow], queries: Queries) -> dict[str, int]:
    rows = conn.execute(queries["bench_counts"]).fetchone()
    assert rows is not None
    return dict(zip(("agents", "customers", "bets", "cash_outs"), map(int, rows), strict=True))
