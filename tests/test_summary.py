"""GET /api/v1/agent/cash-out/summary: every metric against an independent computation."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from tests import factories

URL = "/api/v1/agent/cash-out/summary"
DAY = timedelta(hours=23)
LENGTHS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def parse_ts(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected_summary(rows, start, end):
    inside = [r for r in rows if start <= r["settled_at"] <= end]
    count = len(inside)
    auto = sum(1 for r in inside if r["auto"])
    with localcontext() as ctx:
        ctx.prec = 60
        percentage = ratio = None
        if count:
            percentage = (Decimal(100) * auto / count).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            mean = sum(r["amount"] / r["stake"] for r in inside) / count
            ratio = mean.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    per_customer = defaultdict(list)
    for r in inside:
        per_customer[r["customer_id"]].append(r)
    ranked = sorted(
        per_customer.items(),
        key=lambda kv: (-len(kv[1]), -sum(r["amount"] for r in kv[1]), kv[0]),
    )
    return {
        "total_cash_outs": count,
        "unique_customers": len(per_customer),
        "total_stake": money(sum((r["stake"] for r in inside), Decimal(0))),
        "total_cash_out_amount": money(sum((r["amount"] for r in inside), Decimal(0))),
        "net_profit_loss": money(sum((r["amount"] - r["stake"] for r in inside), Decimal(0))),
        "auto_cash_out_count": auto,
        "auto_cash_out_percentage": None if percentage is None else str(percentage),
        "avg_return_ratio": None if ratio is None else str(ratio),
        "top_customers": [
            {
                "customer_id": cid,
                "customer_username": group[0]["username"],
                "cash_out_count": len(group),
                "total_cash_out_amount": money(sum(r["amount"] for r in group)),
                "net_profit_loss": money(sum(r["amount"] - r["stake"] for r in group)),
            }
            for cid, group in ranked[:5]
        ],
    }


@pytest.fixture
def history(db, agent):
    rng = random.Random(11)
    now = datetime.now(UTC)
    customers = []
    for _ in range(8):
        username = factories.unique("punter")
        customers.append((factories.make_customer(db, agent["id"], username), username))
    rows = []
    for _ in range(90):
        cid, username = rng.choice(customers[: rng.randint(1, 8)])  # skewed: ranks differ
        stake = Decimal(rng.randint(50, 20_000)) / 100
        amount = Decimal(rng.randint(0, 30_000)) / 100
        settled = now - timedelta(seconds=rng.randint(-3600, 40 * 86400))
        auto = rng.random() < 0.35
        factories.cashed_out_bet(db, cid, stake, amount, settled, auto=auto)
        rows.append(
            {
                "customer_id": cid,
                "username": username,
                "stake": stake,
                "amount": amount,
                "settled_at": settled,
                "auto": auto,
            }
        )
    # Open and settled bets that were not cashed out count for nothing.
    factories.make_bet(db, customers[0][0], status="won", settled_at=now)
    factories.make_bet(db, customers[0][0])
    return rows


@pytest.mark.parametrize("period", ["24h", "7d", "30d"])
def test_every_metric_equals_an_independent_computation(agent_client, history, period):
    before = datetime.now(UTC)
    r = agent_client.get(URL, params={"period": period})
    after = datetime.now(UTC)
    assert r.status_code == 200, r.text
    body = r.json()
    start, end = parse_ts(body["window_start"]), parse_ts(body["window_end"])
    assert end - start == LENGTHS[period]
    assert before - timedelta(seconds=1) <= end <= after + timedelta(seconds=1)
    expected = expected_summary(history, start, end)
    assert expected["total_cash_outs"] > 0
    assert body == {
        "period": period,
        "window_start": body["window_start"],
        "window_end": body["window_end"],
        **expected,
    }


def test_default_period_is_24h(agent_client):
    assert agent_client.get(URL).json()["period"] == "24h"


def test_empty_window_has_zeros_and_nulls(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    factories.cashed_out_bet(db, customer, "5.00", "6.00", datetime.now(UTC) - timedelta(days=2))
    body = agent_client.get(URL, params={"period": "24h"}).json()
    assert {k: v for k, v in body.items() if not k.startswith("window")} == {
        "period": "24h",
        "total_cash_outs": 0,
        "unique_customers": 0,
        "total_stake": "0.00",
        "total_cash_out_amount": "0.00",
        "net_profit_loss": "0.00",
        "auto_cash_out_count": 0,
        "auto_cash_out_percentage": None,
        "avg_return_ratio": None,
        "top_customers": [],
    }


def test_top_customers_tie_breaks_and_limit(agent_client, agent, db):
    now = datetime.now(UTC) - timedelta(minutes=5)
    ids = [factories.make_customer(db, agent["id"]) for _ in range(7)]
    # (customer index, amounts): equal counts fall back to amount, then id.
    plan = {
        0: ["1.00", "1.00"],
        1: ["5.00"],
        2: ["1.00", "1.00", "1.00"],
        3: ["1.50", "0.50"],
        4: ["5.00"],
        5: ["2.50"],
        6: ["1.00"],
    }
    for index, amounts in plan.items():
        for amount in amounts:
            factories.cashed_out_bet(db, ids[index], "1.00", amount, now)
    top = agent_client.get(URL).json()["top_customers"]
    assert [t["customer_id"] for t in top] == [ids[2], ids[0], ids[3], ids[1], ids[4]]
    assert [t["cash_out_count"] for t in top] == [3, 2, 2, 1, 1]


@pytest.mark.parametrize("period", ["1d", "24H", "", "week", "30d ", "7d;drop table bets"])
def test_bad_period_is_400_naming_it(agent_client, period):
    r = agent_client.get(URL, params={"period": period})
    assert r.status_code == 400, r.text
    assert "'period'" in r.json()["detail"]


def test_summary_needs_a_session(client):
    assert client.get(URL).status_code == 401


def test_schema_documents_the_period_values(client):
    doc = client.get("/schema/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"][URL]["get"]["parameters"]}
    assert set(params) == {"period", "customer_id"}
    param = params["period"]
    assert params["customer_id"]["required"] is False
    assert "404" in doc["paths"][URL]["get"]["responses"]
    assert param["schema"]["enum"] == ["24h", "7d", "30d"]
    assert param["schema"]["default"] == "24h"
    assert "top_customers" in doc["components"]["schemas"]["Summary"]["properties"]


@pytest.mark.parametrize("period", ["24h", "7d", "30d"])
def test_customer_id_restricts_every_figure_to_that_customer(
    agent_client, agent, db, history, period
):
    # Someone else cashed out in every window too.
    other = factories.make_customer(db, agent["id"])
    factories.cashed_out_bet(db, other, "3.00", "4.00", datetime.now(UTC) - timedelta(minutes=9))
    # The customer with the most cash-outs in the last 23 hours: some in every window.
    recent = [r["customer_id"] for r in history if r["settled_at"] > datetime.now(UTC) - DAY]
    customer = max(set(recent), key=recent.count)
    r = agent_client.get(URL, params={"period": period, "customer_id": customer})
    assert r.status_code == 200, r.text
    body = r.json()
    start, end = parse_ts(body["window_start"]), parse_ts(body["window_end"])
    assert end - start == LENGTHS[period]
    theirs = [row for row in history if row["customer_id"] == customer]
    expected = expected_summary(theirs, start, end)
    assert expected["total_cash_outs"] > 0
    assert len(expected["top_customers"]) == 1
    assert body == {
        "period": period,
        "window_start": body["window_start"],
        "window_end": body["window_end"],
        **expected,
    }
    # Less than everyone's: the filter is not a no-op.
    everyone = agent_client.get(URL, params={"period": period}).json()
    assert everyone["total_cash_outs"] > body["total_cash_outs"]


def test_customer_with_no_cash_outs_in_the_window_has_zeros(agent_client, agent, db):
    quiet = factories.make_customer(db, agent["id"])
    busy = factories.make_customer(db, agent["id"])
    factories.cashed_out_bet(db, quiet, "5.00", "6.00", datetime.now(UTC) - timedelta(days=2))
    factories.cashed_out_bet(db, busy, "5.00", "6.00", datetime.now(UTC) - timedelta(hours=1))
    body = agent_client.get(URL, params={"period": "24h", "customer_id": quiet}).json()
    assert {k: v for k, v in body.items() if not k.startswith("window")} == {
        "period": "24h",
        "total_cash_outs": 0,
        "unique_customers": 0,
        "total_stake": "0.00",
        "total_cash_out_amount": "0.00",
        "net_profit_loss": "0.00",
        "auto_cash_out_count": 0,
        "auto_cash_out_percentage": None,
        "avg_return_ratio": None,
        "top_customers": [],
    }
    week = agent_client.get(URL, params={"period": "7d", "customer_id": quiet}).json()
    assert week["total_cash_outs"] == 1
    assert [t["customer_id"] for t in week["top_customers"]] == [quiet]


def test_another_agents_customer_is_404(agent_client, db):
    theirs = factories.make_customer(db, factories.make_agent(db))
    factories.cashed_out_bet(db, theirs, "1.00", "2.00", datetime.now(UTC) - timedelta(hours=1))
    for customer_id in (theirs, theirs + 1000):
        r = agent_client.get(URL, params={"customer_id": customer_id})
        assert r.status_code == 404, r.text
        assert "customer" in r.json()["detail"].lower()
    for bad in ("0", "x", str(2**64)):
        r = agent_client.get(URL, params={"customer_id": bad})
        assert r.status_code == 400, r.text
        assert "'customer_id'" in r.json()["detail"]
