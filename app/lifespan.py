"""The database for the app's lifetime: the embedded server if no URL is set, and the pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.db.pool import create_pool
from app.db.queries import Queries
from app.security import verify_password

log = logging.getLogger(__name__)


@asynccontextmanager
async def database(
    settings: Settings, queries: Queries
) -> AsyncIterator[tuple[Settings, AsyncConnectionPool]]:
    """The settings with the database URL settled, and the open pool."""
    embedded: EmbeddedPostgres | None = None
    if settings.database_url is None:
        # Run outside the CLI (e.g. `uvicorn --factory app.main:create_app`):
        # start our own database, as the CLI would have.
        embedded = EmbeddedPostgres(settings.data_dir)
        url = await anyio.to_thread.run_sync(embedded.start)
        await anyio.to_thread.run_sync(migrate.apply_all, url)
        settings = settings.with_database(url)
    pool = create_pool(settings, queries)
    # Not waiting for the pool: the app starts even if the database is down
    # and /readyz says so until it is back.
    await pool.open(wait=False)
    # Build the dummy hash now so the first failed login is not slower.
    await anyio.to_thread.run_sync(verify_password, None, "warm-up")
    try:
        yield settings, pool
    finally:
        await pool.close()
        if embedded is not None:
            await anyio.to_thread.run_sync(embedded.stop)
