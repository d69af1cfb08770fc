"""The benchmark's queries: the app's ``sql/`` and its own ``bench/sql/``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.db.queries import Queries
from app.paths import SQL_DIR

BENCH_SQL_DIR = Path(__file__).resolve().parent / "sql"


def load(required: Iterable[str] = ()) -> Queries:
    return Queries.load(SQL_DIR, BENCH_SQL_DIR, required=required)
