"""Fleet: the stream benchmark through ``deploy/nginx.conf`` in front of two instances, beside
the same streams straight to one instance, in the same run.

Both instances run on this machine, so they share its cores with nginx, the
clients and PostgreSQL: the figures show what the proxy adds to a stream's
latency and cost, not what two machines would carry.
"""

from __future__ import annotations

import logging
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from app.db.queries import Queries
from bench import sse_worker, stream
from bench.nginx import Nginx
from bench.server import ServeProcess

log = logging.getLogger(__name__)

INSTANCES = 2


def _open_streams(server: ServeProcess) -> int:
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as r:  # noqa: S310
        for line in r.read().decode().splitlines():
            if line.startswith("cashout_feed_open_streams "):
                return int(float(line.split()[1]))
    raise RuntimeError("no cashout_feed_open_streams in /metrics")


def _rss_mib(procs: list[psutil.Process]) -> float:
    total: int = sum(p.memory_info().rss for p in procs)
    return round(total / 2**20, 1)


def run_one(
    url: str,
    queries: Queries,
    tokens: dict[int, str],
    streams: int,
    rate: float,
    duration_s: float,
    log_dir: Path,
    checkout: Path | None = None,
) -> dict[str, Any]:
    """Streams through nginx, which spreads them over the instances."""
    plan = stream.Plan.make(url, queries, sorted(tokens), streams, rate, duration_s)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                ServeProcess(
                    url,
                    log_path=log_dir / f"serve-fleet-{streams}-{i}.log",
                    env=plan.server_env(),
                    checkout=checkout,
                )
            )
            for i in range(INSTANCES)
        ]
        nginx = stack.enter_context(Nginx(log_dir / "nginx", [s.port for s in servers]))
        assert nginx.proc is not None
        master = psutil.Process(nginx.proc.pid)
        proxy = [master, *master.children(recursive=True)]
        idle = _rss_mib(proxy)

        def while_open() -> dict[str, Any]:
            return {
                "instance_streams": " + ".join(str(_open_streams(s)) for s in servers),
                "proxy_rss_idle_mib": idle,
                "proxy_rss_mib": _rss_mib(proxy),
            }

        target = stream.Target(
            nginx.port, servers, str(nginx.certificate), proxy, while_open=while_open
        )
        return stream.measure(url, queries, tokens, plan, target)


def run(
    url: str,
    queries: Queries,
    tokens: dict[int, str],
    stream_counts: list[int],
    rate: float,
    duration_s: float,
    log_dir: Path,
    checkout: Path | None = None,
) -> list[dict[str, Any]]:
    """For each number of streams: straight to one instance, then through the proxy."""
    sse_worker.raise_fd_limit()  # inherited by the servers and nginx
    rows = []
    for n in stream_counts:
        direct = stream.run_one(url, queries, tokens, n, rate, duration_s, log_dir, checkout)
        rows.append({"path": "direct, 1 instance", **direct})
        log.info("bench fleet: %s", rows[-1])
        proxied = run_one(url, queries, tokens, n, rate, duration_s, log_dir, checkout)
        rows.append({"path": f"nginx (TLS), {INSTANCES} instances", **proxied})
        log.info("bench fleet: %s", rows[-1])
    return rows
