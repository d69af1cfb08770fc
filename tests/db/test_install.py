"""Installing onto a platform's own database (SPEC §3): checked first, nothing narrowed,
history copied, and removed without a trace."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest

from app.db import migrate
from tests import platform
from tests.helpers import CLI


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def platform_db(empty_db: str) -> str:
    """A database holding the platform's own tables and data, without the app."""
    with _connect(empty_db) as conn:
        platform.create(conn)
    return empty_db


def _cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [*CLI, *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


def test_install_adds_only_its_own_objects_and_copies_the_history(platform_db):
    with _connect(platform_db) as conn:
        before = platform.catalog(conn)
        cashed_out = conn.execute("select count(*) from bets where status = 'cashed_out'")
        (expected,) = cashed_out.fetchone()
    assert migrate.apply_all(platform_db) > 0
    with _connect(platform_db) as conn:
        after = platform.catalog(conn)
        listed = conn.execute("select count(*), count(event_id) from cash_out_activity")
        assert listed.fetchone() == (expected, 0)  # earlier cash-outs, without event ids
        added = conn.execute("select name from cashout_feed.added_indexes").fetchall()
    # Not one column or constraint of the platform's added, dropped or narrowed.
    assert after["columns"] == before["columns"]
    assert after["constraints"] == before["constraints"]
    # Its (user_id, status, placed_at) index serves the story's (user_id, status).
    assert added == [("cashout_feed_bets_status_settled_at_idx",)]
    new_indexes = {name for name, _ in after["indexes"]} - {name for name, _ in before["indexes"]}
    assert new_indexes == {"cashout_feed_bets_status_settled_at_idx"}
    assert {name for _, name in after["triggers"]} - {name for _, name in before["triggers"]} == {
        "cashout_feed_stage_insert",
        "cashout_feed_stage_update",
        "cashout_feed_stage_delete",
        "cashout_feed_truncate",
        "cashout_feed_customer_moved",
        "flush",
    }
    new_relations = set(after["relations"]) - set(before["relations"])
    assert {name for name, kind in new_relations if kind == "v"} == {
        "cash_out_activity",
        "cash_out_summary_periods",
        "agent_cash_out_summary",
        "agent_cash_out_top_customers",
    }
    assert all(kind in ("v", "i") for _, kind in new_relations)  # no table beside theirs
    assert set(after["schemas"]) - set(before["schemas"]) == {("cashout_feed",)}


def test_the_install_runs_again_without_touching_anything(platform_db):
    migrate.apply_all(platform_db)
    with _connect(platform_db) as conn:
        applied = conn.execute("select file, applied_at from cashout_feed.definitions").fetchall()
    assert migrate.apply_all(platform_db) == 0
    with _connect(platform_db) as conn:
        again = conn.execute("select file, applied_at from cashout_feed.definitions").fetchall()
    assert sorted(again) == sorted(applied) and applied


def test_rollback_leaves_the_platform_as_it_was(platform_db):
    with _connect(platform_db) as conn:
        before = platform.catalog(conn)
    migrate.apply_all(platform_db)
    with _connect(platform_db) as conn:
        # The platform goes on writing while the app is installed.
        conn.execute(
            "update bets set status = 'cashed_out', cash_out_amount = 1, settled_at = now()"
            " where id in (select id from bets where status = 'open' order by id limit 5)"
        )
        conn.execute("update bets set odds = 2 where id = (select min(id) from bets)")
        rows = platform.row_checksums(conn)
    assert migrate.rollback_all(platform_db) > 0
    with _connect(platform_db) as conn:
        assert platform.catalog(conn) == before
        assert platform.row_checksums(conn) == rows


def test_rollback_on_a_fresh_database_removes_the_tables_it_created(empty_db):
    with _connect(empty_db) as conn:
        before = platform.catalog(conn)
    migrate.apply_all(empty_db)
    migrate.rollback_all(empty_db)
    with _connect(empty_db) as conn:
        assert platform.catalog(conn) == before


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("alter table bets drop column settled_at", "bets.settled_at: column is missing"),
        (
            "alter table bets alter column stake type integer",
            "bets.stake: type integer is not compatible (expected numeric)",
        ),
        ("drop table bets", "bets: table is missing"),
    ],
)
def test_a_mismatch_is_refused_with_a_line_naming_it_and_nothing_changes(
    platform_db, change, problem
):
    with _connect(platform_db) as conn:
        conn.execute(change)
        before = platform.catalog(conn)
    result = _cli(platform_db, "migrate")
    assert result.returncode != 0
    assert f"cashout-feed: {problem}" in result.stderr.splitlines()
    assert "nothing changed" in result.stderr
    with _connect(platform_db) as conn:
        assert platform.catalog(conn) == before


def test_set_password_gives_existing_agents_a_password(platform_db):
    migrate.apply_all(platform_db)
    result = _cli(
        platform_db,
        "agent",
        "set-password",
        "platform_agent_1",
        "platform_agent_3",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert result.returncode == 0, result.stderr
    with _connect(platform_db) as conn:
        rows = conn.execute(
            "select a.username from cashout_feed.credentials c join agents a on a.id = c.agent_id"
            " where c.password_hash like '$argon2id$%%' order by 1"
        ).fetchall()
    assert rows == [("platform_agent_1",), ("platform_agent_3",)]


def test_set_password_for_an_unknown_agent_changes_nothing(platform_db):
    migrate.apply_all(platform_db)
    result = _cli(
        platform_db,
        "agent",
        "set-password",
        "platform_agent_2",
        "nobody_here",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert result.returncode != 0
    assert "nobody_here" in result.stderr
    with _connect(platform_db) as conn:
        assert conn.execute("select count(*) from cashout_feed.credentials").fetchone() == (0,)


def test_migrate_rollback_from_the_command_line(platform_db):
    assert _cli(platform_db, "migrate").returncode == 0
    result = _cli(platform_db, "migrate", "--rollback")
    assert result.returncode == 0, result.stderr
    with _connect(platform_db) as conn:
        assert conn.execute("select to_regnamespace('cashout_feed')").fetchone() == (None,)
