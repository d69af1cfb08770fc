"""The migrations on a fresh database: the app creates the platform's tables exactly as
SPEC §3 lists them, and its own in the schema cashout_feed."""

from decimal import Decimal

import psycopg
import pytest
from yoyo import read_migrations

from app.db import migrate
from app.paths import MIGRATIONS_DIR
from tests import factories

PLATFORM_TABLES = {"agents", "users", "bets"}
APP_TABLES = {
    "install",
    "definitions",
    "added_indexes",
    "credentials",
    "sessions",
    "login_attempts",
    "keys",
    "events",
    "cash_outs",
    "hourly_totals",
    "pending",
}
YOYO_TABLES = {"_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock"}


def _tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s"
            " and table_type = 'BASE TABLE'",
            (schema,),
        ).fetchall()
    return {r[0] for r in rows}


def test_apply_rollback_apply(empty_db):
    applied = migrate.apply_all(empty_db)
    assert applied == len(read_migrations(str(MIGRATIONS_DIR)))
    assert _tables(empty_db, "public") == PLATFORM_TABLES
    assert _tables(empty_db, "cashout_feed") == APP_TABLES | YOYO_TABLES
    assert migrate.rollback_all(empty_db) == applied
    assert _tables(empty_db, "public") == set()
    assert _tables(empty_db, "cashout_feed") == set()
    assert migrate.apply_all(empty_db) == applied
    assert _tables(empty_db, "public") == PLATFORM_TABLES


def test_migrate_is_idempotent(empty_db):
    migrate.apply_all(empty_db)
    assert migrate.apply_all(empty_db) == 0


def test_created_tables_narrow_nothing_spec_does_not(created_database_url):
    db = psycopg.connect(created_database_url, autocommit=True)
    # Null wherever SPEC §3 does not say not null.
    agent = db.execute("insert into agents (username) values (null) returning id").fetchone()[0]
    customer = db.execute(
        "insert into users (agent_id, username, display_name) values (%s, null, null) returning id",
        (agent,),
    ).fetchone()[0]
    db.execute(
        "insert into bets (user_id, stake, odds, selection, status)"
        " values (%s, 1, null, null, 'open')",
        (customer,),
    )
    columns = db.execute(
        "select table_name || '.' || column_name from information_schema.columns"
        " where table_schema = 'public' and is_nullable = 'NO' order by 1"
    ).fetchall()
    assert [c for (c,) in columns] == [
        "agents.id",
        "bets.id",
        "bets.is_auto_cash_out",
        "bets.placed_at",
        "bets.user_id",
        "users.agent_id",
        "users.id",
    ]


def test_stake_must_be_positive(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    with pytest.raises(psycopg.errors.CheckViolation):
        factories.make_bet(db, customer, stake="0.00")


def test_status_values_are_fixed(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    with pytest.raises(psycopg.errors.CheckViolation):
        factories.make_bet(db, customer, status="pending")


def test_cashed_out_bet_needs_amount_and_settled_at(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    with pytest.raises(psycopg.errors.CheckViolation):
        factories.make_bet(db, customer, status="cashed_out", cash_out_amount=None, settled_at=None)
    bet = factories.make_bet(db, customer)
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "update bets set status = 'cashed_out', cash_out_amount = 5 where id = %s", (bet,)
        )


def test_cash_out_amount_not_negative(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    bet = factories.make_bet(db, customer)
    with pytest.raises(psycopg.errors.CheckViolation):
        factories.cash_out(db, bet, amount=Decimal("-1.00"))


def test_customer_needs_an_agent(db):
    with pytest.raises(psycopg.errors.NotNullViolation):
        db.execute("insert into users (agent_id, username, display_name) values (null, 'x', 'x')")


@pytest.mark.parametrize("columns", [["status", "settled_at"], ["user_id", "status"]])
def test_story_indexes_exist(db, columns):
    # The app's own, or the platform's that starts with the same columns.
    found = db.execute(
        "select exists (select 1 from pg_index i where i.indrelid = 'bets'::regclass"
        " and array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k (n, o)"
        " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n"
        " where k.o <= cardinality(%s::text[]) order by k.o) = %s::text[])",
        (columns, columns),
    ).fetchone()
    assert found == (True,)


def test_long_selection_is_stored_whole(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    selection = "Arsenal v Chelsea — " + "x" * 20_000
    bet = factories.make_bet(db, customer, selection=selection)
    row = db.execute("select selection from bets where id = %s", (bet,)).fetchone()
    assert row == (selection,)
