"""The benchmark's PostgreSQL server and its own database (never the app's data)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from app.db.embedded import EmbeddedPostgres
from app.db.urls import with_database

log = logging.getLogger(__name__)

MARKER = "cashout-feed benchmark database"
APP_NAME = "cashout-bench"

# Only for the benchmark's own embedded server: room for the many app and
# client connections, and a cache that holds the full-size dataset's hot part.
EMBEDDED_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "maintenance_work_mem": "512MB",
}


class BenchDatabaseError(RuntimeError):
    pass


def connect(url: str) -> psycopg.Connection[TupleRow]:
    return psycopg.connect(url, autocommit=True, application_name=APP_NAME, connect_timeout=10)


def _tune_embedded(embedded: EmbeddedPostgres, url: str) -> str:
    with connect(url) as conn:
        current: dict[str, str] = dict(
            conn.execute(
                "select name, setting from pg_settings where name = any(%s)",
                (list(EMBEDDED_SETTINGS),),
            ).fetchall()
        )
        for name, value in EMBEDDED_SETTINGS.items():
            conn.execute(
                sql.SQL("alter system set {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        needs_restart = current.get("max_connections") != EMBEDDED_SETTINGS["max_connections"]
    if needs_restart:
        log.info("restarting the benchmark's PostgreSQL with its settings")
        embedded.stop()
        url = embedded.start()
    with connect(url) as conn:
        conn.execute("select pg_reload_conf()")
    return url


@contextmanager
def server(database_url: str | None, data_dir: Path) -> Iterator[str]:
    """An admin URL: the server of DATABASE_URL, or an embedded one in data_dir."""
    if database_url is not None:
        yield database_url
        return
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        yield _tune_embedded(embedded, url)
    finally:
        embedded.stop()


def drop_bench_database(admin_url: str, name: str) -> None:
    """Drop a database the benchmark created (checked by its marker)."""
    bench_database(admin_url, name)  # refuses anything else
    with connect(admin_url) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def bench_database(admin_url: str, name: str) -> tuple[str, bool]:
    """Create (or reuse) the benchmark database; return its URL and whether it is new.

    A database that exists but was not created by the benchmark is refused, so
    that the generator, which empties every table, never touches real data.
    """
    with connect(admin_url) as conn:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
            (name,),
        ).fetchone()
        if row is not None and row[0] != MARKER:
            raise BenchDatabaseError(
                f"database {name!r} exists and is not a benchmark database: choose another"
                " --bench-db name"
            )
        created = row is None
        if created:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("comment on database {} is {}").format(
                    sql.Identifier(name), sql.Literal(MARKER)
                )
            )
    return with_database(admin_url, name), created
