"""GET /api/v1/agent/cash-out/daily: every figure against an independent computation.

The expected series is worked out here in Python from the bets the test
inserted (zoneinfo's local dates), not from the app's code; and every day is
also checked against the list's totals for that day, which the SPEC says it
must equal.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.filters import parse_day_range, parse_filter
from tests import factories

URL = "/api/v1/agent/cash-out/daily"
ACTIVITY = "/api/v1/agent/cash-out/activity"
ZONES = ["UTC", "Europe/London", "Asia/Kolkata"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Instants at the edges of local days, in UTC, London (whose clocks go forward
# at 01:00Z on 29 March 2026 and back at 01:00Z on 25 October 2026) and Kolkata
# (UTC+5:30).
EDGES = [
    utc(2026, 3, 27, 23, 59, 59, 999999),
    utc(2026, 3, 28, 0, 0),
    utc(2026, 3, 28, 23, 30),  # 28th everywhere but Kolkata
    utc(2026, 3, 29, 0, 30),  # 00:30 GMT on the 29th, the DST day
    utc(2026, 3, 29, 0, 59, 59),  # the last second before the clocks go forward
    utc(2026, 3, 29, 1, 0),  # 02:00 BST
    utc(2026, 3, 29, 22, 59, 59, 999999),  # the last instant of the 23-hour day
    utc(2026, 3, 29, 23, 0),  # 00:00 BST on the 30th, still the 29th in UTC
    utc(2026, 3, 29, 23, 30),
    utc(2026, 3, 30, 18, 29, 59),  # 23:59:59 in Kolkata
    utc(2026, 3, 30, 18, 30),  # midnight in Kolkata
    utc(2026, 10, 24, 22, 59, 59),  # 23:59:59 BST on the 24th
    utc(2026, 10, 24, 23, 0),  # 00:00 BST on the 25th, the DST day
    utc(2026, 10, 24, 23, 30),
    utc(2026, 10, 25, 0, 30),  # 01:30 BST
    utc(2026, 10, 25, 1, 30),  # 01:30 GMT: the same wall-clock time an hour later
    utc(2026, 10, 25, 23, 30),  # 23:30 GMT, the 25-hour day's last half hour
    utc(2026, 10, 25, 23, 59, 59, 999999),
    utc(2026, 10, 26, 0, 0),
]
RANGES = [("2026-03-24", "2026-04-03"), ("2026-10-21", "2026-10-29")]


def money(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def expected_series(bets, first: date, last: date, tz: str, customer=None):
    zone = ZoneInfo(tz)
    per_day: dict[date, list] = defaultdict(list)
    for bet in bets:
        if customer is None or bet["customer_id"] == customer:
            per_day[bet["settled_at"].astimezone(zone).date()].append(bet)
    items = []
    day = first
    while day <= last:
        rows = per_day.get(day, [])
        stake = sum(r["stake_cents"] for r in rows)
        amount = sum(r["amount_cents"] for r in rows)
        items.append(
            {
                "day": day.isoformat(),
                "cash_outs": len(rows),
                "auto_cash_outs": sum(1 for r in rows if r["auto"]),
                "total_stake": money(stake),
                "total_cash_out_amount": money(amount),
                "net_profit_loss": money(amount - stake),
            }
        )
        day += timedelta(days=1)
    return items


@pytest.fixture
def book(db, agent):
    """Two customers' cash-outs around both of 2026's DST changes, edges included."""
    rng = random.Random(14)
    customers = [factories.make_customer(db, agent["id"]) for _ in range(2)]
    instants = list(EDGES)
    for first, last in RANGES:
        # The first two and the last day of each range stay empty: the series
        # must still have them, as zeros.
        start = datetime.fromisoformat(first).replace(tzinfo=UTC) + timedelta(days=2)
        end = datetime.fromisoformat(last).replace(tzinfo=UTC) - timedelta(hours=12)
        span = (end - start).total_seconds()
        instants += [start + timedelta(seconds=rng.uniform(0, span)) for _ in range(40)]
    bets = []
    for when in instants:
        customer = rng.choice(customers)
        stake_cents = rng.randint(50, 20_000)
        amount_cents = rng.randint(0, 30_000)
        auto = rng.random() < 0.4
        factories.cashed_out_bet(
            db,
            customer,
            money(stake_cents),
            money(amount_cents),
            when,
            auto=auto,
        )
        bets.append(
            {
                "customer_id": customer,
                "settled_at": when,
                "stake_cents": stake_cents,
                "amount_cents": amount_cents,
                "auto": auto,
            }
        )
    # Another agent's cash-outs and this agent's bets that were not cashed out
    # count for nothing.
    other = factories.make_customer(db, factories.make_agent(db))
    factories.cashed_out_bet(db, other, "10.00", "99.00", utc(2026, 3, 29, 12))
    factories.make_bet(db, customers[0], status="won", settled_at=utc(2026, 3, 29, 12))
    factories.make_bet(db, customers[0], placed_at=utc(2026, 10, 25, 12))
    return {"customers": customers, "bets": bets}


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(("first", "last"), RANGES)
def test_every_day_equals_an_independent_computation(agent_client, book, tz, first, last):
    r = agent_client.get(URL, params={"date_from": first, "date_to": last, "tz": tz})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = expected_series(
        book["bets"], date.fromisoformat(first), date.fromisoformat(last), tz
    )
    assert body == {"tz": tz, "date_from": first, "date_to": last, "items": expected}
    # The data exercise what they are meant to: empty days and busy ones.
    assert any(i["cash_outs"] == 0 for i in expected)
    assert sum(i["cash_outs"] for i in expected) > 20


@pytest.mark.parametrize("tz", ZONES)
def test_a_days_figures_equal_the_lists_totals_for_that_day(agent_client, book, tz):
    first, last = RANGES[0]
    series = agent_client.get(URL, params={"date_from": first, "date_to": last, "tz": tz})
    for item in series.json()["items"]:
        day = item["day"]
        totals = agent_client.get(
            ACTIVITY, params={"date_from": day, "date_to": day, "tz": tz, "limit": 1}
        ).json()["totals"]
        assert totals == {
            "total_count": item["cash_outs"],
            "total_cash_out_amount": item["total_cash_out_amount"],
            "total_profit_loss": item["net_profit_loss"],
        }, (tz, day)


def test_the_dst_days_are_23_and_25_hours_long_in_london(agent_client, book):
    london = ZoneInfo("Europe/London")
    for day, hours in (("2026-03-29", 23), ("2026-10-25", 25)):
        r = agent_client.get(URL, params={"date_from": day, "date_to": day, "tz": "Europe/London"})
        [item] = r.json()["items"]
        inside = [
            b
            for b in book["bets"]
            if utc_day_start(day, london) <= b["settled_at"] < utc_day_start(day, london, 1)
        ]
        assert utc_day_start(day, london, 1) - utc_day_start(day, london) == timedelta(hours=hours)
        assert item["cash_outs"] == len(inside) > 0


def utc_day_start(day: str, zone: ZoneInfo, plus: int = 0) -> datetime:
    local = datetime.fromisoformat(day) + timedelta(days=plus)
    return local.replace(tzinfo=zone).astimezone(UTC)


def test_customer_filter_restricts_every_figure(agent_client, book):
    customer = book["customers"][1]
    first, last = RANGES[1]
    r = agent_client.get(
        URL,
        params={
            "date_from": first,
            "date_to": last,
            "tz": "Europe/London",
            "customer_id": customer,
        },
    )
    assert r.status_code == 200, r.text
    expected = expected_series(
        book["bets"],
        date.fromisoformat(first),
        date.fromisoformat(last),
        "Europe/London",
        customer=customer,
    )
    assert r.json()["items"] == expected
    everyone = agent_client.get(
        URL, params={"date_from": first, "date_to": last, "tz": "Europe/London"}
    ).json()["items"]
    assert sum(i["cash_outs"] for i in expected) < sum(i["cash_outs"] for i in everyone)


def test_another_agents_customer_is_404(agent_client, db):
    theirs = factories.make_customer(db, factories.make_agent(db))
    factories.cashed_out_bet(db, theirs, "1.00", "2.00", datetime.now(UTC))
    for customer_id in (theirs, theirs + 1000):
        r = agent_client.get(URL, params={"customer_id": customer_id})
        assert r.status_code == 404, r.text
        assert "customer" in r.json()["detail"].lower()


def test_default_is_the_30_days_ending_today_in_tz(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    now = datetime.now(UTC)
    factories.cashed_out_bet(db, customer, "10.00", "4.00", now - timedelta(minutes=1))
    factories.cashed_out_bet(db, customer, "10.00", "25.00", now - timedelta(days=40))
    for tz in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14, UTC-11
        before = datetime.now(ZoneInfo(tz)).date()
        body = agent_client.get(URL, params={"tz": tz}).json()
        after = datetime.now(ZoneInfo(tz)).date()
        today = date.fromisoformat(body["date_to"])
        assert today in (before, after)
        assert body["date_from"] == (today - timedelta(days=29)).isoformat()
        assert [i["day"] for i in body["items"]] == [
            (today - timedelta(days=29 - n)).isoformat() for n in range(30)
        ]
        assert sum(i["cash_outs"] for i in body["items"]) == 1  # not the 40-day-old one
        assert body["items"][-1]["net_profit_loss"] in ("-6.00", "0.00")


def test_only_one_end_given(agent_client):
    body = agent_client.get(URL, params={"date_to": "2026-03-31"}).json()
    assert (body["date_from"], len(body["items"])) == ("2026-03-02", 30)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=6)
    body = agent_client.get(URL, params={"date_from": start.isoformat()}).json()
    assert body["date_to"] in (today.isoformat(), (today + timedelta(days=1)).isoformat())
    assert body["items"][0]["day"] == start.isoformat()


def test_zero_days_are_zeros_with_two_decimals(agent_client):
    body = agent_client.get(URL, params={"date_from": "2026-01-01", "date_to": "2026-01-03"}).json()
    assert body["items"] == [
        {
            "day": f"2026-01-0{n}",
            "cash_outs": 0,
            "auto_cash_outs": 0,
            "total_stake": "0.00",
            "total_cash_out_amount": "0.00",
            "net_profit_loss": "0.00",
        }
        for n in (1, 2, 3)
    ]


def test_at_most_366_days(agent_client):
    ok = agent_client.get(URL, params={"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["items"]) == 366  # a leap year
    assert ok.json()["items"][-1]["day"] == "2024-12-31"
    for params in (
        {"date_from": "2023-12-31", "date_to": "2024-12-31"},  # 367 days
        {"date_from": "2000-01-01"},  # to today
    ):
        r = agent_client.get(URL, params=params)
        assert r.status_code == 400, (params, r.text)
        assert "'date_from'" in r.json()["detail"]
        assert "366" in r.json()["detail"]


def test_the_ends_of_the_calendar_are_no_500(agent_client):
    for first, last, tz in (
        ("0001-01-01", "0001-01-05", "Asia/Tokyo"),
        ("9999-12-27", "9999-12-31", "America/Los_Angeles"),
    ):
        r = agent_client.get(URL, params={"date_from": first, "date_to": last, "tz": tz})
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 5


BAD_PARAMS = [
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_from": "2026-11-24T10:00:00Z"}, "date_from"),  # plain dates only
    ({"date_from": "20261124"}, "date_from"),
    ({"date_from": "yesterday"}, "date_from"),
    ({"date_from": ""}, "date_from"),
    ({"date_from": "2026-1-5"}, "date_from"),
    ({"date_to": "2026-13-01"}, "date_to"),
    ({"date_to": "2026-11-24 "}, "date_to"),
    ({"date_to": "٢٠٢٦-١١-٢٤"}, "date_to"),  # digits, but not ASCII ones
    ({"date_to": "9" * 500}, "date_to"),
    ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "date_from"),
    ({"tz": "Mars/Olympus_Mons"}, "tz"),
    ({"tz": ""}, "tz"),
    ({"tz": "utc"}, "tz"),
    ({"tz": "../../etc/passwd"}, "tz"),
    ({"tz": "x" * 1000}, "tz"),
    ({"customer_id": "0"}, "customer_id"),
    ({"customer_id": "abc"}, "customer_id"),
    ({"customer_id": str(2**64)}, "customer_id"),
]


def test_bad_parameters_are_400_naming_the_parameter(agent_client):
    for params, name in BAD_PARAMS:
        r = agent_client.get(URL, params=params)
        assert r.status_code == 400, (params, r.status_code, r.text)
        body = r.json()
        assert f"'{name}'" in body["detail"], (params, body)


def test_needs_a_session(client):
    assert client.get(URL).status_code == 401


def test_day_starts_are_the_lists_bounds_for_each_day():
    # Every zone's every day of two years: the series' day i is exactly the
    # list's ?date_from=D&date_to=D, including zones whose clocks change at
    # midnight (America/Havana, America/Santiago) or by half an hour
    # (Australia/Lord_Howe).
    for tz in (
        "Europe/London",
        "America/Havana",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Vancouver",
    ):
        for year in (2025, 2026):
            days = parse_day_range(f"{year}-01-01", f"{year}-12-31", tz)
            for n in range(days.days):
                day = (days.first + timedelta(days=n)).isoformat()
                bounds = parse_filter(1, None, day, day, tz)
                assert (days.starts[n], days.starts[n + 1]) == (
                    bounds.settled_from,
                    bounds.settled_before,
                ), (tz, day)


def test_schema_documents_the_route(client):
    doc = client.get("/schema/openapi.json").json()
    operation = doc["paths"][URL]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"date_from", "date_to", "tz", "customer_id"}
    for name in ("date_from", "date_to"):
        assert params[name]["schema"]["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        assert params[name]["description"]
    assert params["tz"]["schema"]["default"] == "UTC"
    assert params["customer_id"]["schema"]["minimum"] == 1
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    item = doc["components"]["schemas"]["DailyItem"]["properties"]
    assert list(item) == [
        "day",
        "cash_outs",
        "auto_cash_outs",
        "total_stake",
        "total_cash_out_amount",
        "net_profit_loss",
    ]
    assert item["day"]["format"] == "date"
