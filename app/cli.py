"""The ``cashout-feed`` command: its arguments and the entry point."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

import psycopg

from app import agent_admin
from app.commands import (
    CliError,
    cmd_agent_create,
    cmd_agent_set_password,
    cmd_bench,
    cmd_db_url,
    cmd_demo,
    cmd_migrate,
    cmd_serve,
    cmd_simulate,
)
from app.config import ConfigError, Settings
from app.db import migrate
from app.logs import configure_logging


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that `finally` blocks run and the
    # embedded PostgreSQL is stopped instead of orphaned.
    raise SystemExit(128 + signum)


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

    migrate_p = sub.add_parser(
        "migrate", help="install onto the database (or create it), apply pending migrations"
    )
    migrate_p.add_argument(
        "--rollback", action="store_true", help="remove everything the app added"
    )
    migrate_p.set_defaults(func=cmd_migrate)

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
    set_password = agent_sub.add_parser(
        "set-password", help="give agents that exist on the platform a password"
    )
    set_password.add_argument("usernames", nargs="+", metavar="USERNAME")
    set_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    set_password.set_defaults(func=cmd_agent_set_password)

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
    except (
        CliError,
        agent_admin.AgentAdminError,
        migrate.MigrationsNotFound,
        migrate.EarlierLayout,
    ) as exc:
        print(f"cashout-feed: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"cashout-feed: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
