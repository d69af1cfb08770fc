"""What each ``cashout-feed`` command does (the parser and the entry point are in ``app.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app import agent_admin, demo, simulator
from app.config import Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.db.queries import Queries
from app.metrics import multiprocess_dir

# uvicorn's own setting; passed explicitly so that the default cannot change under us.
FORWARDED_ALLOW_IPS = "FORWARDED_ALLOW_IPS"
LOOPBACK = "127.0.0.1,::1"


class CliError(Exception):
    pass


@contextmanager
def database(settings: Settings, direct: bool = False) -> Iterator[str]:
    """The database URL: DATABASE_URL, or the embedded server for as long as the block runs.

    ``direct``: DATABASE_LISTEN_URL if set, for commands that need a session
    of their own (never a transaction pooler's): migrations hold an advisory
    lock across transactions, and psycopg prepares repeated statements.
    """
    if settings.database_url is not None:
        yield (settings.direct_url if direct else None) or settings.database_url
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
    with multiprocess_dir(workers):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # X-Forwarded-For / -Proto are believed only from these addresses
            # (the proxy's); anyone else's are ignored.
            proxy_headers=True,
            forwarded_allow_ips=os.environ.get(FORWARDED_ALLOW_IPS, LOOPBACK),
            timeout_graceful_shutdown=3,
            log_level=log_level.lower(),
            # Logging is ours (app.logs, JSON lines, with our own access log).
            log_config=None,
            access_log=False,
        )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings) as url:
        if not args.no_migrate:
            migrate.apply_all(settings.database_listen_url or url)  # as database(direct=True)
        _serve(url, args.host, args.port, args.workers, settings.log_level)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, direct=True) as url:
        if args.rollback:
            removed = migrate.rollback_all(url)
            print(f"removed the app ({removed} migration(s) rolled back)")
            return 0
        try:
            applied = migrate.apply_all(url)
        except migrate.PlatformMismatch as exc:
            for problem in exc.problems:
                print(f"cashout-feed: {problem}", file=sys.stderr)
            print(
                "cashout-feed: the platform's tables do not match; nothing changed", file=sys.stderr
            )
            return 1
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


def _password_from_stdin(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise CliError("pass --password-stdin and the password on standard input")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_agent_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _password_from_stdin(args)
    queries = Queries.load(required=agent_admin.QUERIES)
    with database(settings, direct=True) as url:
        print(agent_admin.create(url, queries, args.username, args.display_name, password))
    return 0


def cmd_agent_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _password_from_stdin(args)
    queries = Queries.load(required=agent_admin.QUERIES)
    with database(settings, direct=True) as url:
        agent_admin.set_password(url, queries, args.usernames, password)
    print(f"password set for {len(args.usernames)} agent(s)")
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    queries = Queries.load(required=simulator.QUERIES)
    stop = threading.Event()
    with database(settings, direct=True) as url:
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
