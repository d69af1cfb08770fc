from decimal import Decimal

import psycopg
import pytest

from app.db import migrate
from tests import factories

TABLES = {"agents", "users", "bets", "agent_sessions", "cash_out_events", "cash_out_event_counters"}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_apply_rollback_apply(empty_db):
    applied = migrate.apply_all(empty_db)
    assert applied >= 3
    assert _tables(empty_db) >= TABLES
    assert migrate.rollback_all(empty_db) == applied
    assert not (TABLES & _tables(empty_db))
    assert migrate.apply_all(empty_db) == applied
    assert _tables(empty_db) >= TABLES


def test_migrate_is_idempotent(empty_db):
    migrate.apply_all(empty_db)
    assert migrate.apply_all(empty_db) == 0


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


def test_story_indexes_exist(db):
    rows = db.execute("select indexdef from pg_indexes where tablename = 'bets'").fetchall()
    defs = " ".join(r[0] for r in rows)
    assert "(status, settled_at)" in defs
    assert "(user_id, status)" in defs


def test_long_selection_is_stored_whole(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    selection = "Arsenal v Chelsea — " + "x" * 20_000
    bet = factories.make_bet(db, customer, selection=selection)
    row = db.execute("select selection from bets where id = %s", (bet,)).fetchone()
    assert row == (selection,)
