"""A real PgBouncer (Debian's package) in transaction mode, in front of the test PostgreSQL."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from tests.helpers import free_port, wait_until
from tests.replica import hand_over

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _run_as() -> str | None:
    """PgBouncer refuses to run as root: as root, run it as the database's user."""
    if os.geteuid() != 0:
        return None
    for name in ("pgserver", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no user to run PgBouncer as")


class PgBouncer:
    """Listens on 127.0.0.1, any database name passed through to ``server_url``'s server.

    ``pool_size`` server connections per database: fewer than the app's pool,
    so that clients really take turns on the server sessions.
    """

    def __init__(self, server_url: str, work_dir: Path, pool_size: int = 3) -> None:
        if not Path(BINARY).exists():
            raise RuntimeError(f"PgBouncer is not installed ({BINARY}): apt-get install pgbouncer")
        server = conninfo_to_dict(server_url)
        self.user = str(server.get("user") or "postgres")
        password = str(server.get("password") or "")
        self.port = free_port()
        run_as = _run_as()
        hand_over(work_dir, run_as)
        self.log = work_dir / "pgbouncer.log"
        (work_dir / "userlist.txt").write_text(f'"{self.user}" "{password}"\n')
        config = work_dir / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={server.get('host') or 'localhost'} port={server.get('port') or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {work_dir / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\n"
            "max_client_conn = 500\n"
            f"logfile = {self.log}\npidfile = {work_dir / 'pgbouncer.pid'}\n"
        )
        if run_as is not None:
            for path in work_dir.iterdir():
                shutil.chown(path, run_as)
        user_args = ("-u", run_as) if run_as else ()
        self.proc = subprocess.Popen(
            [BINARY, *user_args, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(self._answers, 15, "PgBouncer accepting connections")

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"PgBouncer exited with {self.proc.returncode}: {stderr}")
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
