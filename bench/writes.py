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
) -> float:
    script, _, queued = WORKLOADS[workload]
    size = round(QUEUE_PER_SECOND * duration_s)
    if queued:
        queue_open_bets(admin, queries, size)
    admin.execute("checkpoint")  # no checkpoint of earlier runs' writes lands in this one
    admin.execute(queries[f"bench_triggers_{variant}"])
    try:
        tps = tps_of(pgbench(bin_dir, url, [script], writers, duration_s, variables))
    finally:
        admin.execute(queries["bench_triggers_app"])
    if queued:
        taken = admin.execute("select last_value from bench_write_seq").fetchone()
        if taken and int(taken[0]) > size:
            raise RuntimeError(f"{workload}/{variant}: the queue of {size} open bets ran out")
        if variant != "app" and workload == "cash_out":
            # Copy the cash-outs made without the app, as its backfill would.
            lo, hi = admin.execute(queries["bench_queue_range"]).fetchone() or (0, 0)
            admin.execute(queries["bench_resync"], {"after": int(lo) - 1, "upto": int(hi)})
    return tps


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
        try:
            for writers in writer_counts:
                for workload, (_, variants, _) in WORKLOADS.items():
                    runs: dict[str, list[float]] = {v: [] for v in variants}
                    for r in range(rounds):
                        order = variants[r % len(variants) :] + variants[: r % len(variants)]
                        for variant in order:
                            runs[variant].append(
                                _one_run(
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
                            )
                    row: dict[str, Any] = {"workload": workload, "writers": writers}
                    for variant, figures in runs.items():
                        row[f"{variant}_tps"] = round(statistics.median(figures), 1)
                        row[f"{variant}_runs"] = [round(f) for f in figures]
                    row["ratio"] = ratio(row["app_tps"], row["none_tps"])
                    if "bare_tps" in row:
                        row["ratio_to_bare"] = ratio(row["app_tps"], row["bare_tps"])
                    rows.append(row)
                    log.info("bench write: %s", row)
        finally:
            admin.execute(queries["bench_triggers_app"])
            admin.execute(queries["bench_bare_notify_drop"])
            admin.execute(queries["bench_queue_drop"])
    return rows
