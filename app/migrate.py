"""Schema migrations with yoyo (``migrations/``)."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

from app.dburl import yoyo_url
from app.paths import MIGRATIONS_DIR


def apply_all(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    """Apply every pending migration; return how many were applied. Safe to repeat."""
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(migrations_dir))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
            return len(pending)
    finally:
        backend.connection.close()


def rollback_all(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(migrations_dir))
    try:
        with backend.lock():
            applied = backend.to_rollback(migrations)
            backend.rollback_migrations(applied)
            return len(applied)
    finally:
        backend.connection.close()
