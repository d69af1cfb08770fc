"""Schema migrations with yoyo (``migrations/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from yoyo import get_backend, read_migrations

from app.db.urls import yoyo_url
from app.paths import MIGRATIONS_DIR


class MigrationsNotFound(RuntimeError):
    pass


def _run(database_url: str, migrations_dir: Path, direction: Literal["apply", "rollback"]) -> int:
    migrations = read_migrations(str(migrations_dir))
    if not migrations:
        # Never a silent "up to date" from a broken install.
        raise MigrationsNotFound(f"no migrations found in {migrations_dir}")
    backend = get_backend(yoyo_url(database_url))
    try:
        # The lock makes concurrent starts (several workers or hosts) take turns.
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


def apply_all(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    """Apply every pending migration; return how many were applied. Safe to repeat."""
    return _run(database_url, migrations_dir, "apply")


def rollback_all(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    return _run(database_url, migrations_dir, "rollback")
