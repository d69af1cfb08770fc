"""GET /api/v1/agent/cash-out/activity: filters, totals, order, paging, stream position."""

import random
import threading
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from app.schemas import ActivityItem
from tests import factories
from tests.sse import open_stream

URL = "/api/v1/agent/cash-out/activity"
EXPORT_URL = "/api/v1/agent/cash-out/activity/export"
CENT = Decimal("0.01")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rfc3339(when: datetime) -> str:
    text = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


def ratio(amount: Decimal, stake: Decimal) -> Decimal:
    return (amount / stake).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def fetch_all(client, params=None):
    """Every item for the filters, walking pages of 100."""
    items, offset = [], 0
    while True:
        r = client.get(URL, params={**(params or {}), "limit": 100, "offset": offset})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if not body["pagination"]["has_more"]:
            return items, body
        offset += 100


# Instants around the boundaries the filter cases below probe.
BOUNDARY_TIMES = [
    utc(2026, 11, 19, 22, 59, 59, 999999),  # just before midnight in Berlin (UTC+1)
    utc(2026, 11, 19, 23, 0, 0),  # midnight 20 Nov in Berlin
    utc(2026, 11, 19, 23, 59, 59, 999999),
    utc(2026, 11, 20, 0, 0, 0),  # midnight 20 Nov UTC
    utc(2026, 11, 20, 10, 0, 0),
    utc(2026, 11, 20, 10, 0, 0, 1),
    utc(2026, 11, 20, 15, 0, 0),  # 10:00 in New York (UTC-5)
    utc(2026, 11, 20, 22, 59, 59, 999999),
    utc(2026, 11, 20, 23, 0, 0),  # midnight 21 Nov in Berlin
    utc(2026, 11, 20, 23, 59, 59, 999999),
    utc(2026, 11, 21, 0, 0, 0),
    utc(2026, 11, 21, 5, 0, 0),  # midnight 21 Nov in New York
]

# (query parameters, lower bound inclusive, upper bound exclusive), worked out
# by hand from the zone offsets in November 2026.
FILTER_CASES = [
    ({}, None, None),
    ({"date_from": "2026-11-20"}, utc(2026, 11, 20), None),
    ({"date_to": "2026-11-20"}, None, utc(2026, 11, 21)),
    ({"date_from": "2026-11-20", "date_to": "2026-11-20"}, utc(2026, 11, 20), utc(2026, 11, 21)),
    (
        {"date_from": "2026-11-20", "date_to": "2026-11-20", "tz": "Europe/Berlin"},
        utc(2026, 11, 19, 23),
        utc(2026, 11, 20, 23),
    ),
    (
        {"date_to": "2026-11-20T10:00:00Z"},
        None,
        utc(2026, 11, 20, 10, 0, 0, 1),
    ),
    (
        {"date_from": "2026-11-20T10:00:00.000001Z", "date_to": "2026-11-20T10:00:00.000001Z"},
        utc(2026, 11, 20, 10, 0, 0, 1),
        utc(2026, 11, 20, 10, 0, 0, 2),
    ),
    (
        # Offset-less datetimes are read in tz; an explicit offset ignores tz.
        {"date_from": "2026-11-20T10:00:00", "tz": "America/New_York"},
        utc(2026, 11, 20, 15),
        None,
    ),
    (
        {"date_to": "2026-11-20T11:00:00+01:00", "tz": "America/New_York"},
        None,
        utc(2026, 11, 20, 10, 0, 0, 1),
    ),
    (
        {"date_from": "2026-11-20", "tz": "America/New_York"},
        utc(2026, 11, 20, 5),
        None,
    ),
    (
        {"date_from": "2026-11-19T23:00:00Z", "date_to": "2026-11-20"},
        utc(2026, 11, 19, 23),
        utc(2026, 11, 21),
    ),
]


@pytest.fixture
def book(db, agent):
    """Two customers of the agent with cash-outs on and around the boundaries."""
    rng = random.Random(7)
    customers = [factories.make_customer(db, agent["id"]) for _ in range(2)]
    rows = []
    for i, settled in enumerate(BOUNDARY_TIMES * 2):
        stake = Decimal(rng.randint(100, 50_000)) / 100
        amount = Decimal(rng.randint(0, 90_000)) / 100
        customer = customers[i % 2]
        bet = factories.cashed_out_bet(
            db, customer, stake, amount, settled, auto=rng.random() < 0.4
        )
        rows.append(
            {
                "bet_id": bet,
                "customer_id": customer,
                "stake": stake,
                "amount": amount,
                "settled_at": settled,
            }
        )
    return {"customers": customers, "rows": rows}


def test_totals_and_rows_match_an_independent_computation(agent_client, book):
    for customer in (None, *book["customers"]):
        for params, lower, upper in FILTER_CASES:
            query = dict(params) if customer is None else {**params, "customer_id": customer}
            expected = [
                row
                for row in book["rows"]
                if (customer is None or row["customer_id"] == customer)
                and (lower is None or row["settled_at"] >= lower)
                and (upper is None or row["settled_at"] < upper)
            ]
            items, body = fetch_all(agent_client, query)
            assert {i["bet_id"] for i in items} == {r["bet_id"] for r in expected}, query
            totals = body["totals"]
            assert totals["total_count"] == len(expected), query
            assert totals["total_cash_out_amount"] == str(
                sum((r["amount"] for r in expected), Decimal("0.00")).quantize(CENT)
            ), query
            assert totals["total_profit_loss"] == str(
                sum((r["amount"] - r["stake"] for r in expected), Decimal("0.00")).quantize(CENT)
            ), query


def test_items_carry_exact_profit_loss_and_return_ratio(agent_client, book):
    by_id = {row["bet_id"]: row for row in book["rows"]}
    items, _ = fetch_all(agent_client)
    assert len(items) == len(by_id)
    for item in items:
        row = by_id[item["bet_id"]]
        assert item["stake"] == str(row["stake"].quantize(CENT))
        assert item["cash_out_amount"] == str(row["amount"].quantize(CENT))
        assert item["profit_loss"] == str((row["amount"] - row["stake"]).quantize(CENT))
        assert item["return_ratio"] == str(ratio(row["amount"], row["stake"]))
        assert item["settled_at"] == rfc3339(row["settled_at"])
        assert item["customer_id"] == row["customer_id"]


def test_item_has_every_field_in_spec_order(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"], "jdoe")
    bet = factories.make_bet(
        db, customer, stake="10.00", placed_at=utc(2026, 11, 24, 9, 40), selection="A v B — A"
    )
    factories.cash_out(
        db, bet, "12.50", auto=True, reason="profit_target", settled_at=utc(2026, 11, 24, 10, 5)
    )
    r = agent_client.get(URL)
    assert r.status_code == 200
    assert r.json()["items"] == [
        {
            "event_id": "1",
            "bet_id": bet,
            "customer_id": customer,
            "customer_username": "jdoe",
            "selection": "A v B — A",
            "stake": "10.00",
            "cash_out_amount": "12.50",
            "profit_loss": "2.50",
            "return_ratio": "1.2500",
            "is_auto_cash_out": True,
            "cash_out_trigger_reason": "profit_target",
            "placed_at": "2026-11-24T09:40:00Z",
            "settled_at": "2026-11-24T10:05:00Z",
        }
    ]
    assert list(r.json()["items"][0]) == list(ActivityItem.__struct_fields__)


def test_backfilled_bet_has_null_event_id_and_the_position_before_any_event(
    agent_client, agent, db
):
    customer = factories.make_customer(db, agent["id"])
    factories.cashed_out_bet(db, customer, "5.00", "1.00", utc(2026, 11, 1))
    body = agent_client.get(URL).json()
    assert body["items"][0]["event_id"] is None
    assert body["last_event_id"] == "0"


def test_last_event_id_is_never_null(agent_client, agent, db, client):
    # An agent with no customers, no cash-outs and no events at all.
    body = agent_client.get(URL).json()
    assert body["last_event_id"] == "0"
    # The documented contract: a string, never null.
    doc = client.get("/schema/openapi.json").json()
    page = doc["components"]["schemas"]["ActivityPage"]
    assert page["properties"]["last_event_id"] == {"type": "string"}
    assert "last_event_id" in page["required"]


async def test_opening_the_stream_from_the_lists_0_gets_the_first_event(agent, db, server):
    # The hand-off "0" exists for: the list is read before the agent's first
    # event commits; the stream opened from the list's position still gets it.
    token = factories.make_session(db, agent["id"])
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        listed = await client.get(URL, headers={"Authorization": f"Bearer {token}"})
        position = listed.json()["last_event_id"]
        assert position == "0"
        bet = factories.make_bet(db, factories.make_customer(db, agent["id"]))
        factories.cash_out(db, bet, amount="3.30")
        async with open_stream(client, token, query=position) as stream:
            [event] = await stream.events(1)
    assert event.json()["bet_id"] == bet


def test_only_cashed_out_bets_are_listed(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    for status in ("open", "won", "lost", "void"):
        factories.make_bet(db, customer, status=status)
    kept = factories.cashed_out_bet(db, customer, "5.00", "1.00", utc(2026, 11, 1))
    assert [i["bet_id"] for i in agent_client.get(URL).json()["items"]] == [kept]


def test_pagination_walk_yields_every_row_once_in_order(agent_client, agent, db):
    rng = random.Random(3)
    customers = [factories.make_customer(db, agent["id"]) for _ in range(3)]
    # Few distinct instants, so most rows tie on settled_at and bet_id decides.
    instants = [utc(2026, 11, 20, h) for h in range(5)]
    rows = []
    for _ in range(57):
        settled = rng.choice(instants)
        bet = factories.cashed_out_bet(db, rng.choice(customers), "2.00", "1.00", settled)
        rows.append((settled, bet))
    expected = [bet for _, bet in sorted(rows, reverse=True)]
    seen, offset = [], 0
    while True:
        body = agent_client.get(URL, params={"limit": 7, "offset": offset}).json()
        assert body["totals"]["total_count"] == 57
        assert body["pagination"] == {"limit": 7, "offset": offset, "has_more": offset + 7 < 57}
        seen += [item["bet_id"] for item in body["items"]]
        if not body["pagination"]["has_more"]:
            break
        offset += 7
    assert seen == expected
    past_end = agent_client.get(URL, params={"limit": 7, "offset": 57}).json()
    assert past_end["items"] == []
    assert past_end["pagination"]["has_more"] is False


def test_default_page_is_20(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    for minute in range(25):
        factories.cashed_out_bet(db, customer, "1.00", "1.00", utc(2026, 11, 20, 0, minute))
    body = agent_client.get(URL).json()
    assert len(body["items"]) == 20
    assert body["pagination"] == {"limit": 20, "offset": 0, "has_more": True}


def test_last_event_id_is_the_agents_newest_event(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    bets = [factories.make_bet(db, customer) for _ in range(3)]
    for bet in bets:
        factories.cash_out(db, bet)
    body = agent_client.get(URL).json()
    assert body["last_event_id"] == "3"
    assert sorted(i["event_id"] for i in body["items"]) == ["1", "2", "3"]


def test_last_event_id_is_read_in_the_same_snapshot_as_the_list(
    agent_client, agent, db, database_url
):
    # While cash-outs commit continuously, every list must hold exactly the
    # events up to its last_event_id: none later, none missing.
    import psycopg

    customer = factories.make_customer(db, agent["id"])
    bets = [factories.make_bet(db, customer) for _ in range(100)]
    stop = threading.Event()

    def writer():
        with psycopg.connect(database_url, autocommit=True) as conn:
            for bet in bets:
                if stop.is_set():
                    return
                factories.cash_out(conn, bet)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        checked = 0
        while thread.is_alive() and checked < 2000:
            body = agent_client.get(URL, params={"limit": 100}).json()
            last = int(body["last_event_id"] or 0)
            ids = sorted(int(i["event_id"]) for i in body["items"])
            assert ids == list(range(1, last + 1))
            assert body["totals"]["total_count"] == last
            checked += 1
        assert checked > 0
    finally:
        stop.set()
        thread.join(30)


def test_other_agents_customer_is_404(agent_client, db):
    other = factories.make_agent(db)
    theirs = factories.make_customer(db, other)
    factories.cashed_out_bet(db, theirs, "1.00", "1.00", utc(2026, 11, 20))
    for url in (URL, EXPORT_URL):
        for customer_id in (theirs, theirs + 1000):
            r = agent_client.get(url, params={"customer_id": customer_id})
            assert r.status_code == 404, (url, customer_id, r.text)
            assert "customer" in r.json()["detail"].lower()


BAD_PARAMS = [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "x"}, "offset"),
    ({"offset": str(2**70)}, "offset"),
    ({"customer_id": "abc"}, "customer_id"),
    ({"customer_id": "0"}, "customer_id"),
    ({"customer_id": str(2**64)}, "customer_id"),
    ({"date_from": "yesterday"}, "date_from"),
    ({"date_from": ""}, "date_from"),
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_from": "2026-11-20T25:00:00Z"}, "date_from"),
    ({"date_from": "2026-11-20T10:00:00+99:00"}, "date_from"),
    ({"date_from": "2026-11-20T10:00:00Z'; drop table bets; --"}, "date_from"),
    ({"date_to": "20/11/2026"}, "date_to"),
    ({"date_to": "2026-11-20T10:00:60Z"}, "date_to"),
    ({"date_to": "9" * 500}, "date_to"),
    ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "date_from"),
    ({"date_from": "2026-11-20T10:00:00.000001Z", "date_to": "2026-11-20T10:00:00Z"}, "date_from"),
    ({"tz": "Mars/Olympus_Mons"}, "tz"),
    ({"tz": ""}, "tz"),
    ({"tz": "utc"}, "tz"),
    ({"tz": "../../etc/passwd"}, "tz"),
    ({"tz": "/etc/localtime"}, "tz"),
    ({"tz": "America"}, "tz"),
    ({"tz": "Europe/London\x00"}, "tz"),
    ({"tz": "x" * 1000}, "tz"),
]


@pytest.mark.parametrize("url", [URL, EXPORT_URL])
def test_bad_parameters_are_400_naming_the_parameter(agent_client, url):
    for params, name in BAD_PARAMS:
        if url == EXPORT_URL and name in ("limit", "offset"):
            continue  # the export takes no paging
        r = agent_client.get(url, params=params)
        assert r.status_code == 400, (params, r.status_code, r.text)
        body = r.json()
        assert f"'{name}'" in body["detail"], (params, body)
        assert body["status_code"] == 400


def test_far_dates_are_accepted_as_open_ends(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    factories.cashed_out_bet(db, customer, "1.00", "1.00", utc(2026, 11, 20))
    r = agent_client.get(
        URL, params={"date_from": "0001-01-01", "date_to": "9999-12-31", "tz": "Asia/Tokyo"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["total_count"] == 1


def test_plain_date_on_a_dst_change_covers_the_whole_local_day(agent_client, agent, db):
    # 29 March 2026 in London is 23 hours long: 00:00Z to 23:00Z.
    customer = factories.make_customer(db, agent["id"])
    inside = factories.cashed_out_bet(
        db, customer, "1.00", "1.00", utc(2026, 3, 29, 22, 59, 59, 999999)
    )
    factories.cashed_out_bet(db, customer, "1.00", "1.00", utc(2026, 3, 29, 23))
    first = factories.cashed_out_bet(db, customer, "1.00", "1.00", utc(2026, 3, 29, 0))
    factories.cashed_out_bet(db, customer, "1.00", "1.00", utc(2026, 3, 28, 23, 59, 59))
    body = agent_client.get(
        URL, params={"date_from": "2026-03-29", "date_to": "2026-03-29", "tz": "Europe/London"}
    ).json()
    assert [i["bet_id"] for i in body["items"]] == [inside, first]


def test_unauthenticated_is_401(client):
    assert client.get(URL).status_code == 401


def test_schema_documents_every_parameter_and_bound(client):
    doc = client.get("/schema/openapi.json").json()
    params = {p["name"]: p["schema"] for p in doc["paths"][URL]["get"]["parameters"]}
    assert set(params) == {"limit", "offset", "customer_id", "date_from", "date_to", "tz"}
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert params["limit"]["default"] == 20
    assert params["offset"]["minimum"] == 0
    assert params["tz"]["default"] == "UTC"
    assert "pattern" in params["date_from"]
    responses = doc["paths"][URL]["get"]["responses"]
    assert {"200", "400", "401", "404"} <= set(responses)
    export = doc["paths"][EXPORT_URL]["get"]
    assert {p["name"] for p in export["parameters"]} == {
        "customer_id",
        "date_from",
        "date_to",
        "tz",
    }
    assert "text/csv" in next(iter(export["responses"]["200"]["content"]))
    page = doc["components"]["schemas"]["ActivityPage"]["properties"]
    assert set(page) == {"items", "totals", "pagination", "last_event_id"}
