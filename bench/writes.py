"""The platform's write path with and without the app: pgbench clients running the
platform's own transactions (bench/sql/pgbench/), one statement each.

- place, settle, edit: the writes that are not cash-outs, with the app's
  triggers and without them (the goal: at least 0.97 of the throughput);
- cash_out: with the app, without any trigger, and with a bare trigger that
  only NOTIFYs the agent, the floor of a design that NOTIFYs per agent (the
  goal: at least 0.9 of that floor).

Variants alternate within each round, and each figure is the median of the
rounds, so that a slow minute of the machine does not land on one variant.
The writers are pgbench clients: on two cores a Python client would spend as
much CPU per statement as the database and flatten the differences.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from app.db.queries import Queries
from bench.database import APP_NAME, connect
from bench.queries import BENCH_SQL_DIR
from bench.stats import ratio

log = logging.getLogger(__name__)

QUERIES = (
    "bench_open_bet_count",
    "bench_place_open_bets",
    "bench_resync",
    "bench_bare_notify_create",
    "bench_bare_notify_drop",
    "bench_triggers_app",
    "bench_triggers_none",
    "bench_triggers_bare",
    "bench_queue_drop",
    "bench_queue_create",
    "bench_queue_fill",
    "bench_queue_seq",
    "bench_queue_seq_create",
    "bench_queue_range",
    "bench_wal_position",
    "bench_wal_since",
)
SCRIPTS = BENCH_SQL_DIR / "pgbench"
# workload: (script, the variants measured, whether it takes queued open bets)
WORKLOADS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "place": ("place.sql", ("app", "none"), False),
    "settle": ("settle.sql", ("app", "none"), True),
    "edit": ("edit.sql", ("app", "none"), False),
    "cash_out": ("cash_out.sql", ("app", "none", "bare"), True),
}
ROUNDS = 3
# Open bets queued per second of a run: above what two cores commit.
QUEUE_PER_SECOND = 20_000


def queue_open_bets(admin: psycopg.Connection[TupleRow], queries: Queries, n: int) -> None:
    count = admin.execute(queries["bench_open_bet_count"]).fetchone()
    missing = n - int(count[0]) if count else n
    if missing > 0:  # the platform keeps placing bets; so does the benchmark
        admin.execute(queries["bench_place_open_bets"], {"n": missing})
        # A stale estimate of the open bets makes the planner scan them all.
        admin.execute("analyze bets")
    admin.execute(queries["bench_queue_drop"])
    admin.execute(queries["bench_queue_create"])
    admin.execute(queries["bench_queue_fill"], {"n": n})
    admin.execute(queries["bench_queue_seq"])
    admin.execute(queries["bench_queue_seq_create"])
    admin.execute("analyze bench_write_queue")


def pgbench(
    bin_dir: Path,
    url: str,
    scripts: list[str],
    writers: int,
    duration_s: float,
    variables: dict[str, int],
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(bin_dir / "pgbench"),
        "-n",
        "-c",
        str(writers),
        "-j",
        str(min(writers, 2)),
        "-T",
        str(max(1, round(duration_s))),
        *(arg for name, value in variables.items() for arg in ("-D", f"{name}={value}")),
        *(arg for script in scripts for arg in ("-f", str(SCRIPTS / script))),
        *(extra or []),
        url,
    ]
    env = {**os.environ, "PGAPPNAME": APP_NAME}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600, check=False)  # noqa: S603


def tps_of(done: subprocess.CompletedProcess[str]) -> float:
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {done.stderr[-800:]}")
    return float(found.group(1))


def _one_run(
    admin: psycopg.Connection[TupleRow],
    queries: Queries,
    bin_dir: Path,
    url: str,
    workload: str,
    variant: str,
    writers: int,
    duration_s: float,
    variables: dict[str, int],
) -> dict[str, Any]:
    """One pgbench run: transactions per second, and WAL bytes per transaction."""
    script, _, queued = WORKLOADS[workload]
    size = round(QUEUE_PER_SECOND * duration_s)
    if queued:
        queue_open_bets(admin, queries, size)
    admin.execute(queries[f"bench_triggers_{variant}"])
    start = admin.execute(queries["bench_wal_position"]).fetchone()
    try:
        done = pgbench(bin_dir, url, [script], writers, duration_s, variables)
        wal = admin.execute(
            queries["bench_wal_since"], {"since": start[0] if start else None}
        ).fetchone()
    finally:
        admin.execute(queries["bench_triggers_app"])
    tps, transactions = tps_of(done), _transactions(done)
    if queued:
        taken = admin.execute("select last_value from bench_write_seq").fetchone()
        if taken and int(taken[0]) > size:
            raise RuntimeError(f"{workload}/{variant}: the queue of {size} open bets ran out")
        if variant != "app" and workload == "cash_out":
            # Copy the cash-outs made without the app, as its backfill would.
            lo, hi = admin.execute(queries["bench_queue_range"]).fetchone() or (0, 0)
            admin.execute(queries["bench_resync"], {"after": int(lo) - 1, "upto": int(hi)})
    wal_per_tx = (
        round(int(wal[0]) / transactions) if wal and wal[0] is not None and transactions else None
    )
    return {"tps": tps, "wal_per_tx": wal_per_tx}


def _transactions(done: subprocess.CompletedProcess[str]) -> int:
    found = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    return int(found.group(1)) if found else 0


def run(
    url: str,
    queries: Queries,
    bin_dir: Path,
    writer_counts: list[int],
    duration_s: float,
    variables: dict[str, int],
    rounds: int = ROUNDS,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with connect(url) as admin:
        admin.execute(queries["bench_bare_notify_create"])
        # One checkpoint before the part, none between runs: a run that starts
        # right after one writes a full page image of every page it touches
        # first, which weighs most on the variant that touches the most pages
        # and is not the steady state of a server that checkpoints every few
        # minutes. A warm-up round, not counted, touches the hot pages first.
        admin.execute("checkpoint")
        try:
            for writers in writer_counts:
                for workload, (_, variants, _) in WORKLOADS.items():
                    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
                    for r in range(-1, rounds):
                        order = variants[r % len(variants) :] + variants[: r % len(variants)]
                        for variant in order:
                            got = _one_run(
                                admin,
                                queries,
                                bin_dir,
                                url,
                                workload,
                                variant,
                                writers,
                                duration_s,
                                variables,
                            )
                            if r >= 0:
                                runs[variant].append(got)
                    rows.append(_row(workload, writers, runs))
                    log.info("bench write: %s", rows[-1])
        finally:
            admin.execute(queries["bench_triggers_app"])
            admin.execute(queries["bench_bare_notify_drop"])
            admin.execute(queries["bench_queue_drop"])
    return rows


def _row(workload: str, writers: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    row: dict[str, Any] = {"workload": workload, "writers": writers}
    for variant, figures in runs.items():
        row[f"{variant}_tps"] = round(statistics.median(f["tps"] for f in figures), 1)
        row[f"{variant}_runs"] = [round(f["tps"]) for f in figures]
        wal = [f["wal_per_tx"] for f in figures if f["wal_per_tx"] is not None]
        row[f"{variant}_wal_bytes_per_tx"] = round(statistics.median(wal)) if wal else None
    row["ratio"] = ratio(row["app_tps"], row["none_tps"])
    if "bare_tps" in row:
        row["ratio_to_bare"] = ratio(row["app_tps"], row["bare_tps"])
    return row
