"""Merging the rollup's delta rows (app/db/maintenance.py): one row per bucket after, the
same sums as before, and nothing the readers see changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.config import Settings
from app.db.maintenance import merge_once
from app.db.pool import create_pool
from app.db.queries import Queries
from tests import factories

SUMS = (
    "select agent_id, hour, sum(cash_outs), sum(auto_cash_outs), sum(ratio_count), sum(stake),"
    " sum(cash_out_amount), sum(profit_loss), sum(ratio_sum)"
    " from cashout_feed.hourly_totals group by 1, 2 having sum(cash_outs) <> 0 order by 1, 2"
)


async def test_merging_keeps_the_sums_and_leaves_one_row_per_bucket(db, database_url):
    agent = factories.make_agent(db)
    customer = factories.make_customer(db, agent)
    hour = datetime.now(UTC).replace(minute=5, second=0, microsecond=0) - timedelta(hours=2)
    bets = [factories.cashed_out_bet(db, customer, "10.00", "7.50", hour) for _ in range(3)]
    factories.cash_out(db, factories.make_bet(db, customer), settled_at=hour)
    db.execute("update bets set cash_out_amount = 9 where id = %s", (bets[0],))
    db.execute("update bets set status = 'lost' where id = %s", (bets[1],))
    before = db.execute(SUMS).fetchall()
    rows = db.execute("select count(*) from cashout_feed.hourly_totals").fetchone()
    assert rows is not None and rows[0] > 2
    listed = db.execute("select count(*), sum(cash_out_amount) from cash_out_activity")
    expected = listed.fetchone()

    pool = create_pool(Settings(database_url=database_url), Queries.load())
    await pool.open()
    try:
        assert await merge_once(pool, Queries.load()) >= 1
    finally:
        await pool.close()

    assert db.execute(SUMS).fetchall() == before
    per_bucket = db.execute(
        "select count(*) from cashout_feed.hourly_totals group by agent_id, hour"
    ).fetchall()
    assert per_bucket == [(1,)]
    assert db.execute("select bool_and(merged) from cashout_feed.hourly_totals").fetchone() == (
        True,
    )
    totals = db.execute(
        "select cash_outs, cash_out_amount from cashout_feed.range_totals(%s, null, null)",
        (agent,),
    ).fetchone()
    assert totals == expected
