"""Prometheus metrics: one registry per app (served by ``controllers/metrics.py``; requests
are timed by ``middleware/timing.py``)."""

from __future__ import annotations

import asyncio
import math

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's own registry (not the global one), so that several apps in one
    process (the tests) do not collide. Per process: with several workers each
    answers for itself."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.open_streams = Gauge(
            "cashout_feed_open_streams", "Live streams currently open in this process.", registry=r
        )
        self.asyncio_tasks = Gauge(
            "cashout_feed_asyncio_tasks",
            "asyncio tasks alive in this process, counted when scraped.",
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

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _running_tasks() -> float:
    # Scraped on the server's event loop; a render outside one (a script, a
    # test) has no tasks to count, which NaN says rather than a made-up 0.
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:
        return math.nan
