"""Named SQL queries from ``sql/*.sql``, loaded once at start-up.

Each query starts with a ``-- name: <name>`` line (the aiosql convention) and
runs until the next one. Values are always bound parameters (``%(x)s``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import LiteralString

from app.paths import SQL_DIR

_NAME = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


class QueryError(LookupError):
    pass


def parse(text: str, source: str = "<sql>") -> dict[str, str]:
    queries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _NAME.match(line.strip())
        if match:
            name = match.group(1)
            if name in queries:
                raise QueryError(f"query {name!r} is defined twice ({source})")
            current = queries[name] = []
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in queries.items()}


class Queries:
    def __init__(self, queries: dict[str, str]) -> None:
        self._queries = queries

    @classmethod
    def load(cls, *directories: Path, required: Iterable[str] = ()) -> Queries:
        """Every ``-- name:`` block of ``*.sql`` in the directories (default: ``sql/``)."""
        found: dict[str, str] = {}
        paths = [p for d in directories or (SQL_DIR,) for p in sorted(d.glob("*.sql"))]
        if not paths:
            raise QueryError(
                f"no SQL files found in {', '.join(map(str, directories or (SQL_DIR,)))}"
            )
        for path in paths:
            for name, text in parse(path.read_text(encoding="utf-8"), str(path)).items():
                if name in found:
                    raise QueryError(f"query {name!r} is defined twice (again in {path})")
                found[name] = text
        queries = cls(found)
        queries.require(required)
        return queries

    def require(self, names: Iterable[str]) -> None:
        missing = sorted(set(names) - self._queries.keys())
        if missing:
            raise QueryError(f"SQL queries not found in sql/: {', '.join(missing)}")

    def __getitem__(self, name: str) -> LiteralString:
        try:
            # The text comes from our own files, never from a client.
            return self._queries[name]
        except KeyError:
            raise QueryError(f"SQL query {name!r} not found in sql/") from None

    def __contains__(self, name: object) -> bool:
        return name in self._queries
