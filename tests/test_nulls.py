"""Null wherever SPEC §3 allows it: the platform's nullable columns reach the API as null
(the OpenAPI document says so), the CSV as an empty field, and nothing fails."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.conftest import login
from tests.sse import open_stream

ACTIVITY = "/api/v1/agent/cash-out/activity"


@pytest.fixture
def database_url(created_database_url):
    """Tables the app created itself: null where SPEC §3 allows it (a platform's own
    tables, CASHOUT_FEED_TEST_PLATFORM=script, may be stricter)."""
    return created_database_url


@pytest.fixture
def nulls(db, agent):
    """A customer without a username or display name, and cash-outs of bets without a
    selection, odds or stake."""
    db.execute("update agents set display_name = null where id = %s", (agent["id"],))
    customer = db.execute(
        "insert into users (agent_id, username, display_name) values (%s, null, null) returning id",
        (agent["id"],),
    ).fetchone()[0]
    when = datetime.now(UTC) - timedelta(hours=1)
    no_selection = factories.cashed_out_bet(db, customer, "10.00", "4.00", when)
    db.execute("update bets set selection = null, odds = null where id = %s", (no_selection,))
    no_stake = factories.cashed_out_bet(db, customer, "10.00", "6.00", when + timedelta(minutes=1))
    db.execute("update bets set stake = null where id = %s", (no_stake,))
    return {"customer": customer, "no_selection": no_selection, "no_stake": no_stake}


def test_the_list_says_null(agent_client, nulls):
    body = agent_client.get(ACTIVITY).json()
    items = {item["bet_id"]: item for item in body["items"]}
    assert items[nulls["no_selection"]]["selection"] is None
    assert items[nulls["no_selection"]]["customer_username"] is None
    stakeless = items[nulls["no_stake"]]
    assert (stakeless["stake"], stakeless["profit_loss"], stakeless["return_ratio"]) == (
        None,
        None,
        None,
    )
    assert stakeless["cash_out_amount"] == "6.00"
    # Totals add up what there is: both amounts, the one profit/loss.
    assert body["totals"] == {
        "total_count": 2,
        "total_cash_out_amount": "10.00",
        "total_profit_loss": "-6.00",
    }


def test_me_customers_and_summary_say_null(agent_client, nulls):
    assert agent_client.get("/api/v1/agent/me").json()["display_name"] is None
    customers = agent_client.get("/api/v1/agent/customers").json()["items"]
    assert {"id": nulls["customer"], "username": None, "display_name": None} in customers
    summary = agent_client.get("/api/v1/agent/cash-out/summary").json()
    assert summary["top_customers"][0]["customer_username"] is None
    assert summary["total_stake"] == "10.00"
    assert summary["avg_return_ratio"] == "0.4000"  # over the cash-outs that have a stake


def test_the_csv_writes_an_empty_field(agent_client, nulls):
    text = agent_client.get(ACTIVITY + "/export").text
    rows = list(csv.DictReader(io.StringIO(text)))
    by_bet = {int(row["bet_id"]): row for row in rows}
    assert by_bet[nulls["no_selection"]]["selection"] == ""
    assert by_bet[nulls["no_selection"]]["customer_username"] == ""
    assert by_bet[nulls["no_stake"]]["stake"] == ""


async def test_the_stream_says_null(server, client, db, agent, nulls):
    token = login(client, agent["username"])
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as aclient:
        bet = factories.make_bet(db, nulls["customer"])
        db.execute("update bets set selection = null where id = %s", (bet,))
        async with open_stream(aclient, token) as sse:
            factories.cash_out(db, bet)
            [msg] = await sse.events(1)
    assert msg.json()["selection"] is None and msg.json()["customer_username"] is None


def test_the_openapi_document_says_nullable(client):
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    item = schemas["ActivityItem"]["properties"]
    for field in ("selection", "customer_username", "stake", "profit_loss", "return_ratio"):
        kinds = {option.get("type") for option in item[field].get("oneOf", [item[field]])}
        assert "null" in kinds, (field, item[field])
