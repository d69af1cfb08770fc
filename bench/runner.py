"""``cashout-feed bench``: build or reuse the dataset, run the chosen parts, write the report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from app.config import Settings
from app.db.queries import Queries
from bench import dataset, fleet, notify, reads, soak, stream, writes
from bench import install as install_part
from bench import queries as bench_queries
from bench.database import bench_database, connect, drop_bench_database, server
from bench.report import markdown, write
from bench.scenarios import AgentCase, floor_queries
from bench.server import ServeProcess

log = logging.getLogger(__name__)

PARTS = ("install", "read", "stream", "write")
# Asked for by name only: fleet starts nginx and a second instance; notify measures
# the server alone (docs/scaling.md).
EXTRA_PARTS = ("fleet", "notify")
QUERIES = (
    *dataset.QUERIES,
    *writes.QUERIES,
    *stream.QUERIES,
    *install_part.QUERIES,
    *notify.QUERIES,
    *soak.QUERIES,
    "bench_typical_agent",
    "bench_busiest_customer",
    "bench_agent_cash_outs",
    "bench_settings",
)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="dataset size relative to the full one (2,000 agents, 200,000 customers,"
        " 10,000,000 bets); e.g. 0.01",
    )
    p.add_argument("--seed", type=float, default=0.42, help="setseed() value in [-1, 1]")
    p.add_argument("--bench-db", default="cashout_bench", help="database to create and use")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".data/bench"),
        help="embedded server's directory when DATABASE_URL is not set",
    )
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="report directory")
    p.add_argument(
        "--parts",
        help="which of install,read,stream,write to run (default: all four; with --soak,"
        " none); also fleet (--streams through deploy/nginx.conf to two instances, beside one"
        " instance direct) and notify (notifying commits per second, --writers clients,"
        " --write-duration)",
    )
    p.add_argument(
        "--pg",
        type=int,
        choices=(15, 18),
        default=18,
        help="without DATABASE_URL: the wheel's PostgreSQL 18 or Debian's PostgreSQL 15",
    )
    p.add_argument("--regenerate", action="store_true", help="rebuild the dataset even if it fits")
    p.add_argument("--concurrency", type=_ints, default=[1, 8, 32])
    p.add_argument(
        "--requests",
        type=int,
        default=200,
        help="requests per read scenario and concurrency (export: 1/25 of it)",
    )
    p.add_argument("--budget", type=float, default=8.0, help="seconds at most per read run")
    p.add_argument("--streams", type=_ints, default=[1_000, 5_000, 10_000])
    p.add_argument("--rate", type=float, default=1_000.0, help="cash-outs per second (stream)")
    p.add_argument("--stream-duration", type=float, default=15.0)
    p.add_argument("--writers", type=_ints, default=[8])
    p.add_argument("--write-duration", type=float, default=6.0)
    p.add_argument("--write-rounds", type=int, default=3, help="rounds of every variant (median)")
    p.add_argument("--install-rate", type=int, default=300, help="platform writes/s (install)")
    p.add_argument(
        "--install-window",
        type=float,
        default=10.0,
        help="seconds of the platform's load measured alone before the install",
    )
    p.add_argument(
        "--serve-checkout",
        type=Path,
        default=None,
        help="run `serve` from another checkout (its .venv) to compare builds",
    )
    soak.add_arguments(p)


def _machine(url: str, queries: Queries) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
            cpu = names[0] if names else cpu
    except OSError:
        pass
    with connect(url) as conn:
        pg = {str(n): f"{s}{u or ''}" for n, s, u in conn.execute(queries["bench_settings"])}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        **{f"pg_{k}": v for k, v in pg.items()},
    }


def _case(url: str, queries: Queries, label: str, agent_id: int, anchor: datetime) -> AgentCase:
    with connect(url) as conn:
        n = conn.execute(queries["bench_agent_cash_outs"], {"agent_id": agent_id}).fetchone()
        c = conn.execute(queries["bench_busiest_customer"], {"agent_id": agent_id}).fetchone()
    assert n is not None and c is not None
    return AgentCase(label, agent_id, int(n[0]), int(c[0]), anchor)


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    queries = bench_queries.load(QUERIES)
    floor_queries(queries)
    default = "" if args.soak else ",".join(PARTS)
    parts = [p for p in (args.parts or default).split(",") if p]
    unknown = sorted(set(parts) - set(PARTS) - set(EXTRA_PARTS))
    if unknown:
        raise SystemExit(f"cashout-feed bench: unknown part(s) {', '.join(unknown)}")
    if args.soak:
        parts.append("soak")
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    log_dir = args.out / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with server(settings.database_url, args.data_dir, args.pg) as (admin_url, bin_dir):
        url, _ = bench_database(admin_url, args.bench_db)
        sizes = dataset.Sizes.of(args.scale, args.seed)
        meta = dataset.existing(url, queries)
        if meta is not None and meta.get("schema") != dataset.schema_fingerprint():
            log.info("bench: the generator changed since the dataset was built; recreating it")
            drop_bench_database(admin_url, args.bench_db)
            url, _ = bench_database(admin_url, args.bench_db)
            meta = None
        if args.regenerate or not dataset.matches(meta, sizes):
            log.info("bench: generating the dataset %s", sizes)
            result["generation_s"] = {
                k: round(v, 1) for k, v in dataset.generate(url, queries, sizes).items()
            }
            meta = dataset.existing(url, queries)
        assert meta is not None
        variables = {"customers": sizes.customers, "bets": sizes.bets}
        with connect(url) as conn:
            result["dataset"] = {
                "scale": args.scale,
                "seed": args.seed,
                "large_agent_customers": sizes.large_customers,
                **dataset.counts(conn, queries),
                "generated_at": str(meta["generated_at"]),
            }
        if "install" in parts:
            result["install"] = install_part.measure(
                url, queries, variables, rate=args.install_rate, baseline_s=args.install_window
            )
        else:
            result["install_s"] = {k: round(v, 1) for k, v in dataset.install(url, queries).items()}
        result["machine"] = _machine(url, queries)
        agents = list(range(1, sizes.agents + 1))
        tokens = dataset.issue_tokens(url, queries, agents)
        if "read" in parts:
            with connect(url) as conn:
                typical = conn.execute(queries["bench_typical_agent"]).fetchone()
            assert typical is not None
            cases = [
                _case(url, queries, "large", 1, meta["anchor"]),
                _case(url, queries, "typical", int(typical[0]), meta["anchor"]),
            ]
            result["agents"] = [
                {"label": c.label, "agent_id": c.agent_id, "cash_outs": c.cash_outs} for c in cases
            ]
            with ServeProcess(
                url, log_path=log_dir / "serve-read.log", checkout=args.serve_checkout
            ) as srv:
                result["read"] = asyncio.run(
                    reads.run(
                        ("127.0.0.1", srv.port),
                        url,
                        queries,
                        [(c, tokens[c.agent_id]) for c in cases],
                        args.concurrency,
                        args.requests,
                        args.budget,
                    )
                )
        # Streams straight to one instance, then through nginx to two.
        for name, streams_part in (("stream", stream.run), ("fleet", fleet.run)):
            if name in parts:
                result[name] = streams_part(
                    url,
                    queries,
                    tokens,
                    args.streams,
                    args.rate,
                    args.stream_duration,
                    log_dir,
                    args.serve_checkout,
                )
        if "notify" in parts:
            result["notify"] = notify.run(
                url, queries, bin_dir, args.writers, args.write_duration, args.data_dir
            )
        if "write" in parts:
            result["write"] = writes.run(
                url,
                queries,
                bin_dir,
                args.writers,
                args.write_duration,
                variables,
                rounds=args.write_rounds,
            )
        if "soak" in parts:
            result["soak"] = soak.run(
                url, queries, tokens, soak.plan_of(args), log_dir, args.serve_checkout
            )
    json_path, md_path = write(result, args.out)
    print(markdown(result))
    print(f"written: {md_path} and {json_path}")
    return result
