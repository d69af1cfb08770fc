"""The betting platform's tables as SPEC §3 requires them, and the check ``migrate`` runs
before it changes anything."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from app.db.queries import Queries

# Compatible types by PostgreSQL's internal names (a domain counts as its base
# type): any numeric precision for money and odds, integer or bigint for ids,
# text or varchar for text, timestamptz for times.
ID = frozenset({"int8", "int4"})
TEXT = frozenset({"text", "varchar"})
MONEY = frozenset({"numeric"})
TIME = frozenset({"timestamptz"})
BOOLEAN = frozenset({"bool"})
_NAMES = {"int8": "bigint", "int4": "integer", "varchar": "varchar", "timestamptz": "timestamptz"}

REQUIRED: dict[str, dict[str, frozenset[str]]] = {
    "agents": {"id": ID, "username": TEXT, "display_name": TEXT, "created_at": TIME},
    "users": {
        "id": ID,
        "agent_id": ID,
        "username": TEXT,
        "display_name": TEXT,
        "created_at": TIME,
    },
    "bets": {
        "id": ID,
        "user_id": ID,
        "stake": MONEY,
        "odds": MONEY,
        "selection": TEXT,
        "status": TEXT,
        "cash_out_amount": MONEY,
        "is_auto_cash_out": BOOLEAN,
        "cash_out_trigger_reason": TEXT,
        "placed_at": TIME,
        "settled_at": TIME,
    },
}


@dataclass(frozen=True, slots=True)
class Platform:
    # Where the platform's tables are (or will be created): the views go there.
    schema: str
    exists: bool
    problems: tuple[str, ...]


class PlatformMismatch(Exception):
    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def inspect(conn: psycopg.Connection, queries: Queries) -> Platform:
    """Find the platform's tables on the connection's search_path and check them."""
    found: dict[str, str | None] = {}
    for table in REQUIRED:
        row = conn.execute(queries["platform_table"], {"table": table}).fetchone()
        found[table] = row[0] if row else None
    present = [t for t, oid in found.items() if oid is not None]
    if not present:
        row = conn.execute(queries["current_schema"]).fetchone()
        return Platform(str(row[0]) if row and row[0] else "public", exists=False, problems=())
    row = conn.execute(queries["platform_table_schema"], {"table": found[present[0]]}).fetchone()
    assert row is not None
    schema = str(row[0])
    problems = [f"{table}: table is missing" for table, oid in found.items() if oid is None]
    types: dict[tuple[str, str], str] = {}
    cur = conn.execute(queries["platform_columns"], {"tables": [found[t] for t in present]})
    for table, column, type_name in cur.fetchall():
        types[(str(table), str(column))] = str(type_name)
    for table in present:
        for column, allowed in REQUIRED[table].items():
            actual = types.get((table, column))
            if actual is None:
                problems.append(f"{table}.{column}: column is missing")
            elif actual not in allowed:
                wanted = " or ".join(sorted(_NAMES.get(a, a) for a in allowed))
                problems.append(
                    f"{table}.{column}: type {_NAMES.get(actual, actual)} is not compatible"
                    f" (expected {wanted})"
                )
    return Platform(schema, exists=True, problems=tuple(problems))
