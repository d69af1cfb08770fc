"""GET /api/v1/agent/cash-out/activity/export: CSV, same rows as the list, constant memory."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import httpx
import psutil
import pytest

from app.schemas import ActivityItem
from app.services import runtime_of
from tests import factories
from tests.helpers import wait_until

URL = "/api/v1/agent/cash-out/activity/export"
LIST_URL = "/api/v1/agent/cash-out/activity"
COLUMNS = list(ActivityItem.__struct_fields__)

AWKWARD_SELECTIONS = [
    "Arsenal v Chelsea — Arsenal",
    'Team "A", the favourites',
    "line one\nline two\r\nline three",
    "=1+2 ,;\t'",
    "Ω " + "long " * 2000,
]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def list_items(client, params):
    items, offset = [], 0
    while True:
        body = client.get(LIST_URL, params={**params, "limit": 100, "offset": offset}).json()
        items += body["items"]
        if not body["pagination"]["has_more"]:
            return items, body["totals"]["total_count"]
        offset += 100


def as_csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_csv(text):
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def mixed_book(db, agent):
    customers = [factories.make_customer(db, agent["id"]) for _ in range(2)]
    for i in range(30):
        selection = AWKWARD_SELECTIONS[i % len(AWKWARD_SELECTIONS)]
        settled = utc(2026, 11, 18) + timedelta(hours=5 * i)
        if i % 3 == 0:
            bet = factories.make_bet(db, customers[i % 2], stake="3.00", selection=selection)
            factories.cash_out(db, bet, "4.10", auto=True, reason=None, settled_at=settled)
        else:
            factories.cashed_out_bet(
                db, customers[i % 2], f"{i + 1}.00", f"{i}.55", settled, selection=selection
            )
    return customers


def test_export_rows_equal_the_list_formatted_as_in_json(agent_client, mixed_book):
    r = agent_client.get(URL)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="')
    assert r.headers["content-disposition"].endswith('.csv"')
    rows = read_csv(r.text)
    assert rows[0] == COLUMNS
    items, _ = list_items(agent_client, {})
    assert rows[1:] == [[as_csv_cell(item[c]) for c in COLUMNS] for item in items]
    # The awkward selections survive quoting intact.
    assert {row[COLUMNS.index("selection")] for row in rows[1:]} == set(AWKWARD_SELECTIONS)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date_from": "2026-11-19"},
        {"date_to": "2026-11-20", "tz": "Pacific/Auckland"},
        {
            "date_from": "2026-11-19T12:00:00",
            "date_to": "2026-11-21T06:00:00Z",
            "tz": "Asia/Kolkata",
        },
        {"date_from": "2030-01-01"},
    ],
)
def test_export_row_count_equals_total_count(agent_client, mixed_book, params):
    for extra in ({}, {"customer_id": mixed_book[0]}):
        query = {**params, **extra}
        rows = read_csv(agent_client.get(URL, params=query).text)
        items, total = list_items(agent_client, query)
        assert len(rows) - 1 == total == len(items), query
        assert [int(row[1]) for row in rows[1:]] == [item["bet_id"] for item in items]


def test_empty_export_has_only_the_header(agent_client):
    r = agent_client.get(URL)
    assert r.status_code == 200
    assert read_csv(r.text) == [COLUMNS]


def test_export_needs_a_session(client):
    assert client.get(URL).status_code == 401


def _stream_export(client, params, sample):
    """Read the export in chunks, sampling memory; returns (rows, bytes)."""
    lines = size = 0
    with client.stream("GET", URL, params=params) as r:
        assert r.status_code == 200
        for chunk in r.iter_bytes(64 * 1024):
            lines += chunk.count(b"\n")
            size += len(chunk)
            sample()
    return lines - 1, size


def test_large_export_keeps_memory_flat(db, agent, agent_client):
    count = 200_000
    customers = factories.bulk_cash_outs(db, agent["id"], count)
    process = psutil.Process()
    # Warm up every code path on a smaller export first (one customer: 20,000 rows).
    warm_rows, _ = _stream_export(agent_client, {"customer_id": customers[0]}, lambda: None)
    assert warm_rows == count // 10
    baseline = process.memory_info().rss
    peak = baseline

    def sample():
        nonlocal peak
        peak = max(peak, process.memory_info().rss)

    started = time.perf_counter()
    rows, size = _stream_export(agent_client, {}, sample)
    elapsed = time.perf_counter() - started
    growth = peak - baseline
    print(
        f"\nexport: {rows} rows, {size / 2**20:.1f} MiB in {elapsed:.1f} s;"
        f" RSS growth {growth / 2**20:.1f} MiB"
    )
    assert rows == count
    assert size > 60 * 2**20
    # The body is over 60 MiB and the rows as Python objects far more: holding
    # them would blow well past this.
    assert growth < 24 * 2**20


def test_client_going_away_releases_the_connection(db, agent, agent_client, server):
    factories.bulk_cash_outs(db, agent["id"], 50_000)
    services = runtime_of(server.server.config.app).services

    def held() -> tuple[int, int]:
        """(export slots taken, pool connections handed out)."""
        stats = services.pool.get_stats()
        return services.export_slots.in_use, stats["pool_size"] - stats["pool_available"]

    with agent_client.stream("GET", URL) as r:
        assert r.status_code == 200
        chunks = r.iter_bytes(1024)
        next(chunks)
        assert held() == (1, 1)  # the export's slot and its connection
    # Closing the response closes the socket; the server must end the export,
    # return the connection and give the slot back. Wait for that, with a deadline.
    wait_until(lambda: held() == (0, 0), timeout=10, what="the export's slot and connection back")
    # And the app still answers.
    assert agent_client.get(LIST_URL).status_code == 200


def test_concurrent_exports_are_capped_and_the_slot_comes_back(
    db, agent, start_server, database_url
):
    from app.config import Settings
    from tests.conftest import login

    factories.bulk_cash_outs(db, agent["id"], 50_000)
    # A pool of 2 allows one export at a time, keeping a connection for the rest.
    server = start_server(Settings(database_url=database_url, pool_max_size=2))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {login(client, agent['username'])}"
        with client.stream("GET", URL) as first:
            assert first.status_code == 200
            chunks = first.iter_bytes(1024)
            next(chunks)
            second = client.get(URL)
            assert second.status_code == 429
            assert second.headers["retry-after"]
            assert "export" in second.json()["detail"]
            # The list still has its connection.
            assert client.get(LIST_URL).status_code == 200
        deadline = time.monotonic() + 10
        while (r := client.get(URL, params={"date_from": "2030-01-01"})).status_code == 429:
            assert time.monotonic() < deadline, "the export slot was not given back"
            time.sleep(0.05)
        assert r.status_code == 200
