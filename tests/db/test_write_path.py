"""The platform's write path with the app installed (SPEC §3, "a good guest"): its
transactions never deadlock, fail or wait on each other because of us.

Concurrent transactions are stepped from this thread, one statement at a time:
with the old design (a counter row per agent and rollup rows updated by the
trigger) one of these steps blocked and the pair deadlocked. Each connection
has a lock_timeout, so a step that would wait fails the test instead of
hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import psycopg

from tests import factories

WAIT = "200ms"  # longer than any step should take; a lock wait fails at once after it


@contextmanager
def connections(url: str, n: int, isolation: str = "read committed") -> Iterator[list]:
    with ExitStack() as stack:
        conns = [stack.enter_context(psycopg.connect(url)) for _ in range(n)]
        for conn in conns:
            conn.execute(f"set lock_timeout = '{WAIT}'")
            conn.execute(f"set default_transaction_isolation = '{isolation}'")
            conn.commit()
        yield conns


def commit_together(*conns: psycopg.Connection) -> None:
    """COMMIT on every connection at the same moment, from threads."""
    start = threading.Barrier(len(conns))

    def commit(conn: psycopg.Connection) -> None:
        start.wait(10)
        conn.commit()

    with ThreadPoolExecutor(len(conns)) as pool:
        for future in [pool.submit(commit, c) for c in conns]:
            future.result(30)


def two_agents(db: psycopg.Connection, bets_each: int) -> tuple[list[int], list[int]]:
    a, b = factories.make_agent(db), factories.make_agent(db)
    ca, cb = factories.make_customer(db, a), factories.make_customer(db, b)
    return (
        [factories.make_bet(db, ca) for _ in range(bets_each)],
        [factories.make_bet(db, cb) for _ in range(bets_each)],
    )


def cash_out(conn: psycopg.Connection, bet: int) -> None:
    factories.cash_out(conn, bet)


def events(db: psycopg.Connection) -> int:
    return int(db.execute("select count(*) from cashout_feed.events").fetchone()[0])


def test_opposite_order_multi_agent_transactions_both_commit(db, database_url):
    bets_a, bets_b = two_agents(db, 2)
    with connections(database_url, 2) as (t1, t2):
        cash_out(t1, bets_a[0])
        cash_out(t2, bets_b[0])
        cash_out(t1, bets_b[1])  # agent B while t2 holds a cash-out of B
        cash_out(t2, bets_a[1])  # agent A while t1 holds a cash-out of A
        commit_together(t1, t2)
    assert events(db) == 4


def insert_cashed_out(conn: psycopg.Connection, customer: int, when: datetime) -> None:
    factories.cashed_out_bet(conn, customer, "10.00", "8.00", when)


def test_interleaved_inserts_of_cashed_out_bets_both_commit(db, database_url):
    a, b = factories.make_agent(db), factories.make_agent(db)
    ca, cb = factories.make_customer(db, a), factories.make_customer(db, b)
    day = datetime.now(UTC) - timedelta(days=3)
    with connections(database_url, 2) as (t1, t2):
        insert_cashed_out(t1, ca, day)
        insert_cashed_out(t2, cb, day)
        insert_cashed_out(t1, cb, day)  # the same agent and day as t2's
        insert_cashed_out(t2, ca, day)
        commit_together(t1, t2)
    assert db.execute("select count(*) from cash_out_activity").fetchone() == (4,)


def _in_threads(*steps: Callable[[], None]) -> None:
    start = threading.Barrier(len(steps))

    def run(step: Callable[[], None]) -> None:
        start.wait(10)
        step()

    with ThreadPoolExecutor(len(steps)) as pool:
        for future in [pool.submit(run, s) for s in steps]:
            future.result(120)


def test_concurrent_bulk_inserts_of_cashed_out_bets_both_commit(db, database_url):
    agents = [factories.make_agent(db) for _ in range(5)]
    customers = [factories.make_customer(db, a) for a in agents]
    base = datetime.now(UTC) - timedelta(days=10)

    def bulk(order: list[int]) -> Callable[[], None]:
        def load() -> None:
            with psycopg.connect(database_url) as conn:
                conn.execute(
                    "insert into bets (user_id, stake, status, cash_out_amount, settled_at)"
                    " select c, 10, 'cashed_out', 9, %s + (g %% 5) * interval '1 day'"
                    " from generate_series(1, 500) g, unnest(%s::bigint[]) c",
                    (base, order),
                )

        return load

    _in_threads(bulk(customers), bulk(customers[::-1]))
    assert db.execute("select count(*) from cash_out_activity").fetchone() == (5000,)


def test_concurrent_bulk_updates_both_commit(db, database_url):
    bets_a, bets_b = two_agents(db, 200)
    first = bets_a[:100] + bets_b[:100]
    second = bets_b[100:] + bets_a[100:]
    with connections(database_url, 2) as (t1, t2):
        sql = (
            "update bets set status = 'cashed_out', cash_out_amount = 5, settled_at = now()"
            " where id = any(%s)"
        )
        t1.execute(sql, (first,))
        t2.execute(sql, (second,))
        commit_together(t1, t2)
    assert events(db) == 400


def test_platform_writes_never_wait_for_an_open_cash_out(db, database_url):
    agent = factories.make_agent(db)
    customer = factories.make_customer(db, agent)
    open_cash_out, settle, edit, another = (factories.make_bet(db, customer) for _ in range(4))
    with connections(database_url, 2) as (holder, platform):
        cash_out(holder, open_cash_out)  # open: not committed during the whole test
        platform.execute(
            "update bets set status = 'won', settled_at = now() where id = %s", (settle,)
        )
        platform.commit()
        factories.make_bet(platform, customer)
        platform.commit()
        platform.execute("update bets set odds = 3.25 where id = %s", (edit,))
        platform.commit()
        cash_out(platform, another)  # even another cash-out of the same agent
        platform.commit()
        holder.commit()
    assert events(db) == 2


def test_an_open_cash_out_holds_no_lock_of_ours(db, database_url):
    bets_a, _ = two_agents(db, 1)
    with connections(database_url, 1) as (holder,):
        cash_out(holder, bets_a[0])
        ours = db.execute(
            "select count(*) from pg_locks l left join pg_class c on c.oid = l.relation"
            " where l.pid = %s and (l.locktype = 'advisory'"
            "   or c.relnamespace = 'cashout_feed'::regnamespace and l.mode <> 'RowExclusiveLock')",
            (holder.info.backend_pid,),
        ).fetchone()
        holder.commit()
    assert ours == (0,)


def test_cash_outs_of_one_agent_both_commit_under_repeatable_read(db, database_url):
    # (Under SERIALIZABLE the trigger's reads take predicate locks, and
    # PostgreSQL may cancel one of two such transactions: docs/schema.md.)
    bets_a, _ = two_agents(db, 2)
    with connections(database_url, 2, "repeatable read") as (t1, t2):
        t1.execute("select 1")  # both snapshots taken before either commits
        t2.execute("select 1")
        cash_out(t1, bets_a[0])
        cash_out(t2, bets_a[1])
        t1.commit()
        t2.commit()
    assert events(db) == 2
