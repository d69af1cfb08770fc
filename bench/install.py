"""The install onto the platform's database while the platform writes: how long it takes,
and the longest any platform transaction took meanwhile, against the same load without it.

The load is the platform's own writes at a fixed rate (a bet placed, one
settled, one cashed out, in turn) from a few threads. A transaction's time is
measured from when it was due to when its COMMIT returned, so that a
transaction that had to wait to start behind a slow one counts that wait too.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.db import migrate
from app.db.queries import Queries
from bench import dataset, writes
from bench.database import connect
from bench.stats import summarize

log = logging.getLogger(__name__)

QUERIES = ("bench_load_place", "bench_load_settle", "bench_load_cash_out")
BASELINE_SECONDS = 10.0
AFTER_SECONDS = 5.0
# The install this load is sized for, at most (the full dataset takes far less).
MAX_INSTALL_S = 300


@dataclass
class Load:
    """Platform writers at ``rate`` transactions per second over ``threads`` connections."""

    url: str
    queries: Queries
    rate: int
    customers: int
    threads: int = 4
    # (due time, seconds from due to COMMIT returned, seconds from start to COMMIT)
    done: list[tuple[float, float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        begin = time.time() + 0.2
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i, begin), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def _run(self, index: int, begin: float) -> None:
        kinds = ("bench_load_place", "bench_load_settle", "bench_load_cash_out")
        rng = random.Random(index)
        interval = self.threads / self.rate
        due = begin + index * interval / self.threads
        with connect(self.url) as conn:
            k = index
            while not self._stop.is_set():
                wait = due - time.time()
                if wait > 0:
                    self._stop.wait(wait)  # the schedule, not a stand-in for an event
                    continue
                query = self.queries[kinds[k % len(kinds)]]
                began = time.time()
                try:
                    with conn.transaction():
                        conn.execute(query, {"customer": rng.randint(1, self.customers)})
                except Exception as exc:  # reported with the figures, counted as done
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                ended = time.time()
                self.done.append((due, ended - due, ended - began))
                k += self.threads
                due += interval

    def window(self, lo: float, hi: float) -> dict[str, Any]:
        """The transactions due in [lo, hi): their own time (a lock wait shows here), and
        their time from when they were due (a writer behind its schedule shows here)."""
        inside = [(late, own) for t, late, own in self.done if lo <= t < hi]
        own = summarize([o for _, o in inside], hi - lo)
        late = summarize([d for d, _ in inside], hi - lo)
        return {
            "seconds": round(hi - lo, 1),
            **own,
            "from_due_p99_ms": late["p99_ms"],
            "from_due_max_ms": late["max_ms"],
        }


def measure(
    url: str,
    queries: Queries,
    variables: dict[str, int],
    rate: int = 300,
    baseline_s: float = BASELINE_SECONDS,
) -> dict[str, Any]:
    result: dict[str, Any] = {"load_per_s": rate}
    if dataset.installed(url, queries):
        meta = dataset.existing(url, queries) or {}
        started = time.perf_counter()
        if meta.get("app") == dataset.app_fingerprint():
            migrate.rollback_all(url)
            result["rollback_s"] = round(time.perf_counter() - started, 1)
        else:
            dataset.remove_app(url)
    with connect(url) as admin:
        # Enough queued open bets for the whole run at the load's rate.
        writes.queue_open_bets(admin, queries, round(rate * (2 * baseline_s + MAX_INSTALL_S)))
    load = Load(url, queries, rate, variables["customers"], threads=8)
    load.start()
    try:
        time.sleep(baseline_s)  # the platform's load alone, for comparison
        timings: dict[str, float] = {}
        start = time.time()
        migrate.apply_all(url, timings=timings)
        end = time.time()
        time.sleep(min(baseline_s, AFTER_SECONDS))  # the load with the app installed
        stop = time.time()
    finally:
        load.stop()
    result["install_s"] = round(end - start, 1)
    result["steps_s"] = {k: round(v, 2) for k, v in timings.items() if k != "backfilled_cash_outs"}
    result["backfilled_cash_outs"] = int(timings.get("backfilled_cash_outs", 0))
    result["platform_before"] = load.window(start - baseline_s + 1, start)
    result["platform_during"] = load.window(start, end)
    result["platform_after"] = load.window(end, stop)
    result["platform_errors"] = load.errors[:5]
    with connect(url) as conn:
        conn.execute(queries["bench_meta_app"], {"app": dataset.app_fingerprint()})
        conn.execute("vacuum (analyze) cashout_feed.cash_outs")
    log.info("bench install: %s", result)
    return result
