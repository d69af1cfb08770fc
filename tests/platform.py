"""A platform's database written by the tests themselves (tests/platform.sql), and what a
platform's database looks like from the catalog, to compare before and after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "platform.sql"
DATA = HERE / "platform_data.sql"
TABLES = ("agents", "users", "bets")

_CATALOG = {
    "schemas": "select nspname from pg_namespace where nspname !~ '^pg_'"
    " and nspname <> 'information_schema' order by 1",
    "columns": "select c.table_name, c.column_name, c.data_type, c.character_maximum_length,"
    " c.numeric_precision, c.numeric_scale, c.is_nullable, c.column_default"
    " from information_schema.columns c join information_schema.tables t"
    " using (table_schema, table_name)"
    " where c.table_schema = 'public' and t.table_type = 'BASE TABLE' order by 1, 2",
    # Constraint triggers (contype t) are the app's commit-time triggers: they
    # constrain nothing and are compared with the triggers.
    "constraints": "select conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
    " from pg_constraint where connamespace = 'public'::regnamespace and contype <> 't'"
    " order by 1, 2",
    "indexes": "select indexrelid::regclass::text, pg_get_indexdef(indexrelid)"
    " from pg_index i join pg_class c on c.oid = i.indrelid"
    " where c.relnamespace = 'public'::regnamespace order by 1",
    "triggers": "select tgrelid::regclass::text, tgname from pg_trigger"
    " where not tgisinternal order by 1, 2",
    "relations": "select relname, relkind from pg_class"
    " where relnamespace = 'public'::regnamespace order by 1",
    "functions": "select proname from pg_proc where pronamespace = 'public'::regnamespace"
    " order by 1",
}


def create(conn: psycopg.Connection, with_data: bool = True) -> None:
    conn.execute(SCHEMA.read_text().encode())
    if with_data:
        conn.execute(DATA.read_text().encode())


def catalog(conn: psycopg.Connection) -> dict[str, list[Any]]:
    """Everything of the database's structure an install could add or change."""
    return {name: conn.execute(query).fetchall() for name, query in _CATALOG.items()}


def row_checksums(conn: psycopg.Connection) -> dict[str, str]:
    """An MD5 of every row of each platform table, in id order."""
    checksums = {}
    for table in TABLES:
        row = conn.execute(
            psycopg.sql.SQL("select md5(string_agg(t::text, '|' order by t.id)) from {} t").format(
                psycopg.sql.Identifier(table)
            )
        ).fetchone()
        checksums[table] = row[0] if row else ""
    return checksums
