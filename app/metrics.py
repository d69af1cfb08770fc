"""Prometheus metrics: one registry per app (served by ``controllers/metrics.py``; requests
are timed by ``middleware/timing.py``), summed over the workers under ``serve --workers N``.

Under several workers, prometheus_client's multiprocess mode keeps each worker's
figures in files of ``PROMETHEUS_MULTIPROC_DIR``, and whichever worker answers
``/metrics`` sums them all. The mode is chosen when prometheus_client is
imported, so ``serve`` sets the directory before it starts the workers
(``multiprocess_dir``).
"""

from __future__ import annotations

import asyncio
import glob
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A live gauge's file names its process: gauge_livesum_<pid>.db.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


class Metrics:
    """The app's own registry (not the global one), so that several apps in one
    process (the tests) do not collide. With ``PROMETHEUS_MULTIPROC_DIR`` set,
    ``render`` answers for every worker of the server instead of this one."""

    def __init__(self, multiproc_dir: str | None = None) -> None:
        self.multiproc_dir = multiproc_dir or os.environ.get(MULTIPROC_ENV) or None
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.open_streams = Gauge(
            "cashout_feed_open_streams",
            "Live streams currently open.",
            registry=r,
            # Summed over the workers alive now: a dead worker's streams are gone.
            multiprocess_mode="livesum",
        )
        self.asyncio_tasks = Gauge(
            "cashout_feed_asyncio_tasks",
            "asyncio tasks alive in this process, counted when scraped (one worker only:"
            " not summed under --workers).",
            registry=r,
        )
        self.asyncio_tasks.set_function(_running_tasks)
        self.events_delivered = Counter(
            "cashout_feed_stream_events_delivered",
            "Cash-out events written to live streams (replayed or live).",
            registry=r,
        )
        self.streams_cut_off = Counter(
            "cashout_feed_stream_cut_offs",
            "Streams ended because the client did not read fast enough.",
            registry=r,
        )
        self.listener_reconnects = Counter(
            "cashout_feed_listener_reconnects",
            "Times the LISTEN connection was re-established after it dropped.",
            registry=r,
        )
        self.request_latency = Histogram(
            "cashout_feed_http_request_duration_seconds",
            "Time until the response starts (streamed bodies are not included),"
            " by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._workers: CollectorRegistry | None = None
        if self.multiproc_dir is not None:
            self._workers = CollectorRegistry()
            MultiProcessCollector(self._workers, path=self.multiproc_dir)  # type: ignore[no-untyped-call]

    def render(self) -> bytes:
        if self._workers is None or self.multiproc_dir is None:
            return generate_latest(self.registry)
        forget_dead_workers(self.multiproc_dir)
        return generate_latest(self._workers)


def forget_dead_workers(path: str) -> None:
    """Drop the live gauges of workers that no longer run (uvicorn replaces a worker
    that dies, under a new pid); their counters stay, so that totals never go back."""
    for name in os.listdir(path):
        found = _LIVE_GAUGE_FILE.fullmatch(name)
        if found is not None and not _running(int(found.group(1))):
            mark_process_dead(int(found.group(1)), path)  # type: ignore[no-untyped-call]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not one of our workers
        return False
    return True


@contextmanager
def multiprocess_dir(workers: int) -> Iterator[str | None]:
    """The metrics directory of one ``serve`` run, set in the environment for its workers.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used and emptied first (a
    previous run's files would be summed in); else, with more than one worker,
    a fresh temporary one, removed at the end. One worker needs none.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        yield given
        return
    if workers <= 1:
        yield None
        return
    path = tempfile.mkdtemp(prefix="cashout-feed-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def _running_tasks() -> float:
    # Scraped on the server's event loop; a render outside one (a script, a
    # test) has no tasks to count, which NaN says rather than a made-up 0.
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:
        return math.nan
