"""Install the app onto a database, or create the platform's tables there first (SPEC §3),
and remove it again.

The order matters. The platform's tables are checked before anything
changes. yoyo then applies ``migrations/`` (the app's tables; the platform's
where they are absent), keeping its bookkeeping in the app's schema. Then the
story's indexes, the current definitions of ``sql/schema/`` (triggers
included), and last the copy of earlier cash-outs: the trigger is in place
before it starts, so no cash-out falls between the two.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations

from app.db import install
from app.db.platform import PlatformMismatch, inspect
from app.db.queries import Queries
from app.db.urls import yoyo_url
from app.paths import MIGRATIONS_DIR, SCHEMA_DIR

QUERIES = (
    *install.QUERIES,
    "install_lock",
    "install_unlock",
    "platform_table",
    "platform_table_schema",
    "current_schema",
    "platform_columns",
    "create_app_schema",
    "app_schema_exists",
    "drop_app_schema",
    "earlier_layout",
)
APP_SCHEMA = "cashout_feed"

__all__ = ["MigrationsNotFound", "PlatformMismatch", "apply_all", "rollback_all"]


class MigrationsNotFound(RuntimeError):
    pass


class EarlierLayout(RuntimeError):
    pass


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _yoyo(
    url: str, platform_schema: str, migrations_dir: Path, direction: Literal["apply", "rollback"]
) -> int:
    migrations = read_migrations(str(migrations_dir))
    # yoyo sets this search_path: its own tables and ours go into the app's
    # schema, and the platform's tables resolve as they do for the app.
    parts = urlsplit(yoyo_url(url))
    args = dict(parse_qsl(parts.query))
    # Read by migrations/0002: where the platform's tables are (or go).
    option = f"-c cashout_feed.platform_schema={_quote(platform_schema)}"
    args["options"] = f"{args['options']} {option}" if args.get("options") else option
    args["schema"] = f"{APP_SCHEMA},{_quote(platform_schema)}"
    query = list(args.items())
    backend = get_backend(urlunsplit(parts._replace(query=urlencode(query))))
    try:
        with backend.lock():
            if direction == "apply":
                todo = backend.to_apply(migrations)
                backend.apply_migrations(todo)
            else:
                todo = backend.to_rollback(migrations)
                backend.rollback_migrations(todo)
            return len(todo)
    finally:
        backend.connection.close()


@contextmanager
def _locked(url: str, queries: Queries) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries["install_lock"])
        try:
            yield conn
        finally:
            conn.execute(queries["install_unlock"])


def _migrations_in(migrations_dir: Path) -> None:
    if not read_migrations(str(migrations_dir)):
        # Never a silent "up to date" from a broken install.
        raise MigrationsNotFound(f"no migrations found in {migrations_dir}")


def apply_all(
    database_url: str,
    migrations_dir: Path = MIGRATIONS_DIR,
    schema_dir: Path = SCHEMA_DIR,
    timings: dict[str, float] | None = None,
) -> int:
    """Install or update the app; return how many migrations were applied. Safe to repeat.

    Raises PlatformMismatch, having changed nothing, when the platform's tables
    lack a column SPEC §3 needs or have an incompatible type. ``timings``, if
    given, receives the seconds each step took.
    """
    _migrations_in(migrations_dir)
    queries = Queries.load(required=QUERIES)
    clock = _Clock(timings)
    with _locked(database_url, queries) as conn:
        row = conn.execute(queries["earlier_layout"]).fetchone()
        if row and row[0]:
            raise EarlierLayout(
                "this database holds the schema of an earlier, never-released version of"
                " cash-out-feed (public._yoyo_migration); use a new database or data directory"
            )
        platform = inspect(conn, queries)
        if platform.problems:
            raise PlatformMismatch(platform.problems)
        clock.lap("check")
        conn.execute(queries["create_app_schema"])
        applied = _yoyo(database_url, platform.schema, migrations_dir, "apply")
        clock.lap("migrations")
        install.add_story_indexes(conn, queries)
        clock.lap("indexes")
        install.apply_definitions(conn, queries, schema_dir, platform.schema, force=applied > 0)
        clock.lap("definitions")
        copied = install.backfill(conn, queries)
        clock.lap("backfill")
        clock.record("backfilled_cash_outs", copied)
    return applied


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.record(step, now - self.last)
        self.last = now

    def record(self, name: str, value: float) -> None:
        if self.timings is not None:
            self.timings[name] = value


def rollback_all(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    """Remove everything the app added; return how many migrations were rolled back.

    The platform's tables, rows and indexes stay as they were before the
    install; tables the install created (a fresh database) go with it.
    """
    _migrations_in(migrations_dir)
    queries = Queries.load(required=QUERIES)
    with _locked(database_url, queries) as conn:
        row = conn.execute(queries["app_schema_exists"]).fetchone()
        if not (row and row[0]):
            return 0
        platform = inspect(conn, queries)
        install.remove_definitions(conn, queries)
        install.drop_story_indexes(conn, queries)
        rolled_back = _yoyo(database_url, platform.schema, migrations_dir, "rollback")
        conn.execute(queries["drop_app_schema"])
    return rolled_back
