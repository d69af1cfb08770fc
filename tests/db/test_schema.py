"""sql/schema/: the copy and the rollups behind the views stay equal to bets x users, and
the views and totals equal their definitions read straight from the platform's tables."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from tests import factories

# cash_out_activity as SPEC §3 and §5 define it, read straight from the platform's tables.
REFERENCE = """
select u.agent_id,
       (select max(e.seq) from cashout_feed.events e
         where e.bet_id = b.id and e.agent_id = u.agent_id)::text,
       b.id, u.id, u.username, b.selection, round(b.stake, 2), round(b.cash_out_amount, 2),
       round(b.cash_out_amount - b.stake, 2), round(b.cash_out_amount / b.stake, 4),
       b.is_auto_cash_out, b.cash_out_trigger_reason, b.placed_at, b.settled_at
from bets b join users u on u.id = b.user_id
where b.status = 'cashed_out'
order by b.id
"""
VIEW = """
select agent_id, event_id, bet_id, customer_id, customer_username, selection, stake,
       cash_out_amount, profit_loss, return_ratio, is_auto_cash_out, cash_out_trigger_reason,
       placed_at, settled_at
from cash_out_activity order by bet_id
"""


# The rollups summed per bucket (whatever delta rows a bucket has, merged or
# not) against the same sums over the cashed-out bets themselves.
ROLLUPS = {
    "hourly": (
        "select agent_id, hour, sum(cash_outs), sum(auto_cash_outs), sum(stake),"
        " sum(cash_out_amount), sum(ratio_sum) from cashout_feed.hourly_totals"
        " group by 1, 2 having sum(cash_outs) <> 0 order by 1, 2",
        "select u.agent_id, date_bin('1 hour', b.settled_at, timestamptz '2000-01-01Z'),"
        " count(*), count(*) filter (where b.is_auto_cash_out), sum(b.stake),"
        " sum(b.cash_out_amount), sum(b.cash_out_amount / b.stake)"
        " from bets b join users u on u.id = b.user_id"
        " where b.status = 'cashed_out' group by 1, 2 order by 1, 2",
    ),
}

# The summary views as SPEC §4 and §5 define them, over the platform's tables.
REFERENCE_VIEWS = {
    "agent_cash_out_summary": """
select a.id as agent_id, a.username as agent_username, w.period, w.window_start, w.window_end,
       count(c.bet_id) as total_cash_outs, count(distinct c.customer_id) as unique_customers,
       round(coalesce(sum(c.stake), 0), 2) as total_stake,
       round(coalesce(sum(c.cash_out_amount), 0), 2) as total_cash_out_amount,
       round(coalesce(sum(c.cash_out_amount - c.stake), 0), 2) as net_profit_loss,
       count(c.bet_id) filter (where c.is_auto_cash_out) as auto_cash_out_count,
       round(100.0 * count(c.bet_id) filter (where c.is_auto_cash_out)
             / nullif(count(c.bet_id), 0), 2) as auto_cash_out_percentage,
       round(avg(c.cash_out_amount / c.stake), 4) as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
left join (select b.id as bet_id, u.agent_id, u.id as customer_id, b.stake, b.cash_out_amount,
                  b.is_auto_cash_out, b.settled_at
           from bets b join users u on u.id = b.user_id where b.status = 'cashed_out') c
       on c.agent_id = a.id and c.settled_at between w.window_start and w.window_end
group by a.id, a.username, w.period, w.window_start, w.window_end
""",
    "agent_cash_out_top_customers": """
select * from (
    select u.agent_id, w.period, u.id as customer_id, u.username as customer_username,
           count(*) as cash_out_count, round(sum(b.cash_out_amount), 2) as total_cash_out_amount,
           round(sum(b.cash_out_amount - b.stake), 2) as net_profit_loss,
           row_number() over (partition by u.agent_id, w.period
                              order by count(*) desc, sum(b.cash_out_amount) desc, u.id) as rank
    from bets b join users u on u.id = b.user_id
    join cash_out_summary_periods w on b.settled_at between w.window_start and w.window_end
    where b.status = 'cashed_out'
    group by u.agent_id, w.period, u.id, u.username
) r
""",
}


def _same(db: psycopg.Connection) -> None:
    assert db.execute(VIEW).fetchall() == db.execute(REFERENCE).fetchall()
    for name, (ours, reference) in ROLLUPS.items():
        assert db.execute(ours).fetchall() == db.execute(reference).fetchall(), name


def _reference_views(db: psycopg.Connection) -> None:
    """The summary views by their definition, as temporary ref_* views."""
    for name, body in REFERENCE_VIEWS.items():
        db.execute(
            sql.SQL("create temp view {} as {}").format(
                sql.Identifier(f"ref_{name}"), sql.SQL(body)
            )
        )


def test_live_cash_out_appears_with_its_event(db):
    agent = factories.make_agent(db)
    customer = factories.make_customer(db, agent)
    bet = factories.make_bet(db, customer)
    factories.cash_out(db, bet, amount="7.25", auto=True, reason="stop_loss")
    rows = db.execute("select bet_id, event_id, profit_loss from cash_out_activity").fetchall()
    (seq,) = db.execute("select seq::text from cashout_feed.events").fetchone()
    assert rows == [(bet, seq, Decimal("-2.75"))]
    _same(db)


def test_backfill_appears_without_event(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    now = datetime.now(UTC)
    bet = factories.make_bet(
        db, customer, status="cashed_out", cash_out_amount="3.00", settled_at=now
    )
    assert db.execute("select bet_id, event_id from cash_out_activity").fetchall() == [(bet, None)]
    _same(db)


def test_bet_leaving_cashed_out_disappears(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    bet = factories.make_bet(db, customer)
    factories.cash_out(db, bet)
    db.execute("update bets set status = 'won' where id = %s", (bet,))
    assert db.execute("select count(*) from cash_out_activity").fetchone() == (0,)
    _same(db)


def test_deleted_bet_disappears(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    bet = factories.make_bet(
        db, customer, status="cashed_out", cash_out_amount="3.00", settled_at=datetime.now(UTC)
    )
    db.execute("delete from bets where id = %s", (bet,))
    assert db.execute("select count(*) from cash_out_activity").fetchone() == (0,)


def test_correction_updates_the_copy_without_a_new_event(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    bet = factories.make_bet(db, customer)
    factories.cash_out(db, bet, amount="12.50")
    db.execute("update bets set cash_out_amount = 11.00 where id = %s", (bet,))
    row = db.execute("select cash_out_amount, event_id is not null from cash_out_activity")
    assert row.fetchone() == (Decimal("11.00"), True)
    assert db.execute("select count(*) from cashout_feed.events").fetchone() == (1,)
    _same(db)


def test_moved_customer_takes_cash_outs_to_new_agent(db):
    old, new = factories.make_agent(db), factories.make_agent(db)
    customer = factories.make_customer(db, old)
    factories.cash_out(db, factories.make_bet(db, customer))
    db.execute("update users set agent_id = %s where id = %s", (new, customer))
    rows = db.execute("select agent_id, event_id from cash_out_activity").fetchall()
    assert rows == [(new, None)]
    summary = db.execute(
        "select agent_id, total_cash_outs from agent_cash_out_summary where period = '24h'"
        " order by agent_id"
    ).fetchall()
    assert summary == [(old, 0), (new, 1)]
    _same(db)


def test_bulk_statement_numbers_per_agent_and_notifies_once_each(db, database_url):
    a1, a2 = factories.make_agent(db), factories.make_agent(db)
    c1, c2 = factories.make_customer(db, a1), factories.make_customer(db, a2)
    bets = [factories.make_bet(db, c1) for _ in range(3)] + [factories.make_bet(db, c2)]
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"listen cash_out_{a1}")
        listener.execute(f"listen cash_out_{a2}")
        db.execute(
            "update bets set status = 'cashed_out', cash_out_amount = 1, settled_at = now()"
            " where id = any(%s)",
            (bets,),
        )
        got = dict((n.channel, n.payload) for n in listener.notifies(timeout=5, stop_after=2))
    events = db.execute(
        "select agent_id, seq, bet_id from cashout_feed.events order by 1, 2"
    ).fetchall()
    # Per agent, ids follow the bets' order within one statement; each agent is
    # notified once, with its newest id.
    assert [(a, b) for a, _, b in events] == [
        (a1, bets[0]),
        (a1, bets[1]),
        (a1, bets[2]),
        (a2, bets[3]),
    ]
    assert events[0][1] < events[1][1] < events[2][1]
    assert got == {f"cash_out_{a1}": str(events[2][1]), f"cash_out_{a2}": str(events[3][1])}
    _same(db)


def test_rolled_back_cash_out_leaves_nothing(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    bet = factories.make_bet(db, customer)
    with db.transaction(force_rollback=True):
        factories.cash_out(db, bet)
    assert db.execute("select count(*) from cashout_feed.cash_outs").fetchone() == (0,)
    assert db.execute("select count(*) from cashout_feed.hourly_totals").fetchone() == (0,)
    assert db.execute("select count(*) from cashout_feed.pending").fetchone() == (0,)
    _same(db)


def test_top_customers_rank_as_specified(db):
    agent = factories.make_agent(db)
    now = datetime.now(UTC)
    customers = [factories.make_customer(db, agent) for _ in range(3)]
    for customer, count, amount in zip(
        customers, (2, 2, 1), ("5.00", "9.00", "50.00"), strict=True
    ):
        for _ in range(count):
            factories.make_bet(
                db,
                customer,
                status="cashed_out",
                cash_out_amount=amount,
                settled_at=now - timedelta(hours=1),
            )
    rows = db.execute(
        "select customer_id, cash_out_count, total_cash_out_amount, rank"
        " from agent_cash_out_top_customers where agent_id = %s and period = '24h' order by rank",
        (agent,),
    ).fetchall()
    assert rows == [
        (customers[1], 2, Decimal("18.00"), 1),
        (customers[0], 2, Decimal("10.00"), 2),
        (customers[2], 1, Decimal("50.00"), 3),
    ]


def test_random_histories_match_the_platform_tables(db):
    rng = random.Random(7)
    agents = [factories.make_agent(db) for _ in range(3)]
    customers = [factories.make_customer(db, rng.choice(agents)) for _ in range(6)]
    bets: list[int] = []
    for _ in range(120):
        op = rng.random()
        if op < 0.35 or not bets:
            status = rng.choice(["open", "open", "cashed_out"])
            bets.append(
                factories.make_bet(
                    db,
                    rng.choice(customers),
                    status=status,
                    cash_out_amount="4.00" if status == "cashed_out" else None,
                    settled_at=datetime.now(UTC) if status == "cashed_out" else None,
                )
            )
        elif op < 0.7:
            picked = rng.sample(bets, min(len(bets), rng.randint(1, 4)))
            db.execute(
                "update bets set status = 'cashed_out', cash_out_amount = %s,"
                " settled_at = coalesce(settled_at, now()) where id = any(%s)",
                (Decimal(rng.randint(0, 3000)) / 100, picked),
            )
        elif op < 0.8:
            db.execute("update bets set status = 'lost' where id = %s", (rng.choice(bets),))
        elif op < 0.9:
            db.execute(
                "update users set agent_id = %s where id = %s",
                (rng.choice(agents), rng.choice(customers)),
            )
        else:
            victim = bets.pop(rng.randrange(len(bets)))
            db.execute("delete from cashout_feed.events where bet_id = %s", (victim,))
            db.execute("delete from bets where id = %s", (victim,))
    _same(db)


def test_truncating_bets_empties_the_copy(db):
    customer = factories.make_customer(db, factories.make_agent(db))
    factories.make_bet(
        db, customer, status="cashed_out", cash_out_amount="3.00", settled_at=datetime.now(UTC)
    )
    db.execute("truncate bets cascade")
    assert db.execute("select count(*) from cashout_feed.cash_outs").fetchone() == (0,)
    assert db.execute("select count(*) from cashout_feed.hourly_totals").fetchone() == (0,)


def _random_history(db: psycopg.Connection, seed: int) -> list[int]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    agents = [factories.make_agent(db) for _ in range(3)]
    customers = [factories.make_customer(db, rng.choice(agents)) for _ in range(8)]
    for _ in range(150):
        settled = now - timedelta(minutes=rng.randint(0, 60 * 24 * 40))
        factories.make_bet(
            db,
            rng.choice(customers),
            stake=rng.choice(["5.00", "7.50", "20.00"]),
            status="cashed_out",
            cash_out_amount=Decimal(rng.randint(0, 4000)) / 100,
            is_auto_cash_out=rng.random() < 0.4,
            settled_at=settled,
        )
    return agents


def test_summary_views_equal_their_definitions(db):
    agents = _random_history(db, 11)
    db.execute(
        "update users set agent_id = %s where id = (select min(id) from users)", (agents[2],)
    )
    _reference_views(db)
    with db.transaction():  # one now() for both sides
        for view in ("agent_cash_out_summary", "agent_cash_out_top_customers"):
            ref = db.execute(
                sql.SQL("select * from {} order by 1, 2, 3").format(sql.Identifier(f"ref_{view}"))
            )
            # Columns beyond the definition (ranked_customers) are checked below.
            columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in ref.description or [])
            ref_rows = ref.fetchall()
            ours = db.execute(
                sql.SQL("select {} from {} order by 1, 2, 3").format(columns, sql.Identifier(view))
            ).fetchall()
            assert ours == ref_rows, view
            assert len(ours) > 0


def test_totals_equal_the_view_over_any_range(db):
    agents = _random_history(db, 12)
    rng = random.Random(13)
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    points = [
        None,
        midnight - timedelta(days=3),
        midnight - timedelta(days=20),
        now,
        now - timedelta(days=2, hours=5),
        midnight - timedelta(days=2, microseconds=1),
    ]
    points += [now - timedelta(minutes=rng.randint(0, 60 * 24 * 45)) for _ in range(6)]
    customer = db.execute("select id from users where agent_id = %s limit 1", (agents[0],))
    customers = [None, *(row[0] for row in customer)]
    checked = 0
    for agent in agents:
        for customer_id in customers:
            for start in points:
                for end in points:
                    args = (agent, customer_id, start, end)
                    function = "range_totals" if customer_id is None else "customer_range_totals"
                    got = db.execute(
                        sql.SQL(
                            "select cash_outs, round(cash_out_amount, 2), round(profit_loss, 2)"
                            " from cashout_feed.{}(%(a)s, {} %(s)s, %(e)s)"
                        ).format(
                            sql.Identifier(function),
                            sql.SQL("" if customer_id is None else "%(c)s,"),
                        ),
                        {"a": agent, "c": customer_id, "s": start, "e": end},
                    )
                    want = db.execute(
                        "select count(*), coalesce(sum(cash_out_amount), 0.00),"
                        " coalesce(sum(profit_loss), 0.00) from cash_out_activity"
                        " where agent_id = %(a)s and (%(c)s::bigint is null or customer_id = %(c)s)"
                        " and (%(s)s::timestamptz is null or settled_at >= %(s)s)"
                        " and (%(e)s::timestamptz is null or settled_at < %(e)s)",
                        {"a": agent, "c": customer_id, "s": start, "e": end},
                    )
                    assert got.fetchone() == want.fetchone(), args
                    checked += 1
    assert checked == len(agents) * len(customers) * len(points) ** 2


def test_window_sums_equal_the_rows_over_any_window(db):
    agents = _random_history(db, 14)
    rng = random.Random(15)
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Midnights, a microsecond either side of one, sub-day and multi-day spans.
    points = [
        now,
        midnight,
        midnight - timedelta(days=3),
        midnight - timedelta(days=3, microseconds=1),
        midnight - timedelta(days=3) + timedelta(microseconds=1),
        now - timedelta(hours=24),
        now - timedelta(hours=720),
    ]
    points += [now - timedelta(minutes=rng.randint(0, 60 * 24 * 45)) for _ in range(5)]
    checked = 0
    for agent in agents:
        for start in points:
            for end in points:
                args = {"a": agent, "s": start, "e": end}
                got = db.execute(
                    "select cash_outs, stake, cash_out_amount, auto_cash_outs, ratio_sum"
                    " from cashout_feed.range_totals(%(a)s, %(s)s,"
                    " %(e)s::timestamptz + interval '1 microsecond')",
                    args,
                ).fetchone()
                want = db.execute(
                    "select count(*), coalesce(sum(stake), 0), coalesce(sum(cash_out_amount), 0),"
                    " count(*) filter (where is_auto_cash_out),"
                    " coalesce(sum(cash_out_amount / stake), 0)"
                    " from bets b join users u on u.id = b.user_id"
                    " where b.status = 'cashed_out' and u.agent_id = %(a)s"
                    " and b.settled_at between %(s)s and %(e)s",
                    args,
                ).fetchone()
                assert got == want, (agent, start, end)
                checked += 1
    assert checked == len(agents) * len(points) ** 2


def test_ranked_customers_counts_the_window_customers(db):
    agents = _random_history(db, 16)
    with db.transaction():  # one now() for both sides
        got = db.execute(
            "select agent_id, period, max(ranked_customers), min(ranked_customers), count(*)"
            " from agent_cash_out_top_customers group by 1, 2 order by 1, 2"
        ).fetchall()
        want = db.execute(
            "select u.agent_id, w.period, count(distinct b.user_id)"
            " from bets b join users u on u.id = b.user_id"
            " join cash_out_summary_periods w"
            "   on b.settled_at between w.window_start and w.window_end"
            " where b.status = 'cashed_out' group by 1, 2 order by 1, 2"
        ).fetchall()
    assert [(a, p, n, n, n) for a, p, n in want] == got
    assert {a for a, *_ in got} <= set(agents) and len(got) > 0


def test_top_customers_equal_the_views_first_ranks(db):
    agents = _random_history(db, 17)
    with db.transaction():  # one now() for both sides
        for agent in agents:
            for period, top in (("24h", 5), ("7d", 5), ("30d", 3), ("30d", 1)):
                want = db.execute(
                    "select customer_id, cash_out_count, total_cash_out_amount, net_profit_loss,"
                    " rank, ranked_customers from agent_cash_out_top_customers"
                    " where agent_id = %s and period = %s and rank <= %s order by rank",
                    (agent, period, top),
                ).fetchall()
                got = db.execute(
                    "select t.customer_id, t.cash_out_count, round(t.cash_out_amount, 2),"
                    " round(t.profit_loss, 2), t.rank, t.ranked_customers"
                    " from cash_out_summary_periods w,"
                    " cashout_feed.top_customers(%s, w.window_start, w.window_end, %s) t"
                    " where w.period = %s order by t.rank",
                    (agent, top, period),
                ).fetchall()
                assert got == want, (agent, period, top)
