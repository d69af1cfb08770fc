"""What the soak watches on the server, and when a series counts as flat."""

from __future__ import annotations

import urllib.request
from typing import Any

from app.db.queries import Queries
from bench import slope
from bench.database import connect
from bench.server import ServeProcess

SERIES = ("rss_mib", "asyncio_tasks", "open_fds", "db_connections", "open_streams")


def _metrics(base_url: str) -> dict[str, float]:
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as r:  # noqa: S310
        text = r.read().decode()
    return {
        name: float(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if name and not name.startswith("#")
    }


def server_figures(server: ServeProcess, url: str, queries: Queries) -> dict[str, float]:
    """The server's memory and open files (psutil), its asyncio tasks and open streams
    (its /metrics), and its database connections (pool and listener, pg_stat_activity)."""
    procs = server.processes()
    metrics = _metrics(server.url)
    with connect(url) as conn:
        pool, listener = conn.execute(queries["soak_app_connections"]).fetchone() or (0, 0)
    return {
        "rss_mib": round(sum(p.memory_info().rss for p in procs) / 2**20, 2),
        "asyncio_tasks": int(metrics["cashout_feed_asyncio_tasks"]),
        "open_fds": sum(p.num_fds() for p in procs),
        "db_connections": int(pool) + int(listener),
        "open_streams": int(metrics["cashout_feed_open_streams"]),
    }


def trends(
    samples: list[dict[str, Any]],
    warmup_s: float,
    leak_bound: float,
    reconnects_per_h: float,
    kib_per_stream: float,
) -> list[dict[str, Any]]:
    """Each series' slope per hour over the samples taken from `warmup_s` on (memory
    rises while caches fill). Its tolerance: a leak of `leak_bound` of one stream per
    reconnect, i.e. of its request task, its socket or its memory (`kib_per_stream`)."""
    kept = [s for s in samples if s["t_s"] >= warmup_s]
    times = [float(s["t_s"]) for s in kept]
    per_h = leak_bound * reconnects_per_h
    tolerance = dict.fromkeys(SERIES, per_h) | {"rss_mib": per_h * kib_per_stream / 1024}
    return [
        slope.judge(name, slope.fit(times, [float(s[name]) for s in kept]), tolerance[name])
        for name in SERIES
    ]
