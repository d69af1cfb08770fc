"""No route ever returns anything of another agent's customers (property-based)."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

ACTIVITY = "/api/v1/agent/cash-out/activity"
EXPORT = "/api/v1/agent/cash-out/activity/export"
CUSTOMERS = "/api/v1/agent/customers"
SUMMARY = "/api/v1/agent/cash-out/summary"

bets = st.tuples(
    st.integers(1, 100_000),  # stake, cents
    st.integers(0, 200_000),  # cash-out amount, cents
    st.integers(-60, 40 * 24 * 60),  # settled this many minutes ago
    st.booleans(),  # auto cash-out
    st.sampled_from(["backfill", "live", "open", "lost"]),
)
books = st.lists(  # agents → customers → bets
    st.lists(st.lists(bets, max_size=4), max_size=3), min_size=2, max_size=4
)
# (customer index, agent index) pairs: customers handed to another agent afterwards.
moves = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 3)), max_size=2)


def _reset(db):
    db.execute(
        "truncate agents, users, bets, agent_sessions, cash_out_events,"
        " cash_out_event_counters cascade"
    )


def _build(db, book, moves_):
    now = datetime.now(UTC)
    agents = [factories.make_agent(db) for _ in book]
    customers, bets_of = [], {}
    for agent_id, agent_customers in zip(agents, book, strict=True):
        for customer_bets in agent_customers:
            customer = factories.make_customer(db, agent_id)
            customers.append(customer)
            bets_of[customer] = []
            for stake, amount, minutes, auto, kind in customer_bets:
                settled = now - timedelta(minutes=minutes)
                stake_d, amount_d = Decimal(stake) / 100, Decimal(amount) / 100
                if kind == "backfill":
                    bet = factories.cashed_out_bet(
                        db, customer, stake_d, amount_d, settled, auto=auto
                    )
                elif kind == "live":
                    bet = factories.make_bet(db, customer, stake=stake_d)
                    factories.cash_out(db, bet, amount_d, auto=auto, settled_at=settled)
                else:
                    factories.make_bet(db, customer, stake=stake_d, status=kind)
                    continue
                bets_of[customer].append((bet, settled))
    for customer_index, agent_index in moves_:
        if customer_index < len(customers) and agent_index < len(agents):
            db.execute(
                "update users set agent_id = %s where id = %s",
                (agents[agent_index], customers[customer_index]),
            )
    owner = dict(db.execute("select id, agent_id from users").fetchall())
    return agents, owner, bets_of


def _all_pages(client, headers):
    ids, offset = [], 0
    while True:
        r = client.get(ACTIVITY, params={"limit": 100, "offset": offset}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [(item["bet_id"], item["customer_id"]) for item in body["items"]]
        if not body["pagination"]["has_more"]:
            return ids, body
        offset += 100


def _check_agent(client, db, agent_id, owner, bets_of):
    headers = {"Authorization": f"Bearer {factories.make_session(db, agent_id)}"}
    mine = {c for c, a in owner.items() if a == agent_id}
    theirs = set(owner) - mine
    my_bets = {bet for c in mine for bet, _ in bets_of[c]}

    listed, body = _all_pages(client, headers)
    assert {bet for bet, _ in listed} == my_bets
    assert {customer for _, customer in listed} <= mine
    assert body["totals"]["total_count"] == len(my_bets)
    counter = db.execute(
        "select last_seq::text from cash_out_event_counters where agent_id = %s", (agent_id,)
    ).fetchone()
    assert body["last_event_id"] == (counter[0] if counter else "0")

    export = client.get(EXPORT, headers=headers)
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text, newline="")))[1:]
    assert {int(row[1]) for row in rows} == my_bets
    assert {int(row[2]) for row in rows} <= mine

    customers = client.get(CUSTOMERS, headers=headers).json()["items"]
    assert {c["id"] for c in customers} == mine

    for period in ("24h", "7d", "30d"):
        summary = client.get(SUMMARY, params={"period": period}, headers=headers).json()
        start = datetime.fromisoformat(summary["window_start"])
        end = datetime.fromisoformat(summary["window_end"])
        in_window = [
            (bet, c) for c in mine for bet, settled in bets_of[c] if start <= settled <= end
        ]
        assert summary["total_cash_outs"] == len(in_window)
        assert summary["unique_customers"] == len({c for _, c in in_window})
        assert {t["customer_id"] for t in summary["top_customers"]} <= mine

    for customer in theirs:
        for url in (ACTIVITY, EXPORT):
            r = client.get(url, params={"customer_id": customer}, headers=headers)
            assert r.status_code == 404, (url, r.text)
    for customer in mine:
        listed_for_one, _ = _all_pages_for(client, headers, customer)
        assert listed_for_one == {bet for bet, _ in bets_of[customer]}


def _all_pages_for(client, headers, customer):
    r = client.get(ACTIVITY, params={"limit": 100, "customer_id": customer}, headers=headers)
    assert r.status_code == 200, r.text
    return {item["bet_id"] for item in r.json()["items"]}, r.json()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(book=books, moves_=moves)
def test_no_route_shows_another_agents_customers(server, db, book, moves_):
    # One server and database for every example; each example starts from empty tables.
    _reset(db)
    agents, owner, bets_of = _build(db, book, moves_)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for agent_id in agents:
            _check_agent(client, db, agent_id, owner, bets_of)
