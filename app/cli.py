"""The ``cashout-feed`` command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import psycopg

from app import demo, simulator
from app.config import ConfigError, Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.db.queries import Queries
from app.logs import configure_logging
from app.security import hash_password

QUERIES = ("agent_create",)

log = logging.getLogger("cashout_feed")


class CliError(Exception):
    pass


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that `finally` blocks run and the
    # embedded PostgreSQL is stopped instead of orphaned.
    raise SystemExit(128 + signum)


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL: DATABASE_URL, or the embedded server for as long as the block runs."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()


def _serve(url: str, host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn

    # Workers are separate processes: they read the URL from the environment.
    os.environ["DATABASE_URL"] = url
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=3,
        log_level=log_level.lower(),
        # Logging is ours (app.logs, JSON lines, with our own access log).
        log_config=None,
        access_log=False,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as url:
        if not args.no_migrate:
            migrate.apply_all(url)
        _serve(url, args.host, args.port, args.workers, settings.log_level)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as url:
        applied = migrate.apply_all(url)
    print(f"applied {applied} migration(s)" if applied else "database is up to date")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    queries = Queries.load(required=(*demo.QUERIES, *simulator.QUERIES))
    with database(settings) as url:
        migrate.apply_all(url)
        creds = demo.seed(url, queries)
        _thread, stop = simulator.start_in_background(url, args.rate, queries)
        shown_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
        print(
            "\ncash-out-feed demo\n"
            f"  open:     http://{shown_host}:{args.port}/\n"
            f"  username: {creds.username}\n"
            f"  password: {creds.password}\n"
            f"  simulator: about {args.rate:g} cash-out(s) per second\n"
            f"  psql:     psql '{url}'\n",
            flush=True,
        )
        try:
            _serve(url, args.host, args.port, 1, settings.log_level)
        finally:
            stop.set()
    return 0


def cmd_agent_create(args: argparse.Namespace, settings: Settings) -> int:
    if not args.password_stdin:
        raise CliError("pass --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise CliError("the password must be at least 8 characters")
    queries = Queries.load(required=QUERIES)
    with database(settings) as url, psycopg.connect(url) as conn:
        try:
            row = conn.execute(
                queries["agent_create"],
                {
                    "username": args.username,
                    "display_name": args.display_name or args.username,
                    "password_hash": hash_password(password),
                },
            ).fetchone()
        except psycopg.errors.UniqueViolation:
            raise CliError(f"an agent named {args.username!r} already exists") from None
        except psycopg.errors.UndefinedTable:
            raise CliError("the database has no schema yet: run 'cashout-feed migrate'") from None
    assert row is not None
    print(row[0])
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    queries = Queries.load(required=simulator.QUERIES)
    stop = threading.Event()
    with database(settings) as url:
        try:
            done = simulator.run(url, args.rate, stop, queries, args.agent_id, args.duration)
        except KeyboardInterrupt:
            done = -1
    if done >= 0:
        print(f"cashed out {done} bet(s)")
    return 0


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is not None:
        print(settings.database_url)
        return 0
    embedded = EmbeddedPostgres(settings.data_dir)
    print(embedded.start())
    embedded.stop()
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    # The benchmark lives beside the app in a checkout (bench/), not in the
    # package: imported only when asked for, with its own arguments.
    try:
        from bench import runner
    except ImportError as exc:
        raise CliError(
            f"the benchmark runs from a checkout with the 'bench' dependency group ({exc})"
        ) from None
    parser = argparse.ArgumentParser(
        prog="cashout-feed bench", description="benchmark on a generated dataset"
    )
    runner.add_arguments(parser)
    runner.run(parser.parse_args(args.bench_args), settings)
    return 0


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cashout-feed",
        description="Live and historical cash-out activity for betting agents.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_server_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")

    serve = sub.add_parser("serve", help="run the web app")
    add_server_args(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    demo_p = sub.add_parser("demo", help="embedded database, demo data, simulator and server")
    add_server_args(demo_p)
    demo_p.add_argument(
        "--rate",
        type=_positive_float,
        default=0.3,
        help="simulated cash-outs per second (default 0.3)",
    )
    demo_p.set_defaults(func=cmd_demo)

    agent = sub.add_parser("agent", help="manage agents")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True)
    create = agent_sub.add_parser("create", help="create an agent; prints its id")
    create.add_argument("username")
    create.add_argument("--display-name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=cmd_agent_create)

    sim = sub.add_parser("simulate", help="cash out bets at a given rate")
    sim.add_argument(
        "--rate", type=_positive_float, default=1.0, help="cash-outs per second (default 1)"
    )
    sim.add_argument("--agent-id", type=int, help="only this agent's customers")
    sim.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    sim.set_defaults(func=cmd_simulate)

    sub.add_parser("db-url", help="print the database URL (for psql)").set_defaults(func=cmd_db_url)

    bench = sub.add_parser(
        "bench",
        help="benchmark on a generated dataset (see BENCHMARKS.md; 'bench --help' for options)",
        add_help=False,
    )
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # The benchmark parses its own options (it is imported only when run).
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"cashout-feed: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        result: int = args.func(args, settings)
        return result
    except (CliError, migrate.MigrationsNotFound) as exc:
        print(f"cashout-feed: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"cashout-feed: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
