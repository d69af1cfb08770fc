"""The CSV export under concurrency and stalls: every download completes or is refused
up front with 429, and one that must end early ends visibly (never a short CSV)."""

import csv
import io
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.config import Settings
from tests import factories
from tests.conftest import login

URL = "/api/v1/agent/cash-out/activity/export"

ROWS = 50_000  # ~16 MiB of CSV: more than the socket buffers hold, so unread exports stay open
WAIT_S = 20


def signed_in(server, agent):
    client = httpx.Client(base_url=server.url, timeout=30)
    client.headers["Authorization"] = f"Bearer {login(client, agent['username'])}"
    return client


def bet_ids_in_list_order(db, agent_id):
    return [
        str(row[0])
        for row in db.execute(
            "select bet_id from cash_out_activity where agent_id = %s"
            " order by settled_at desc, bet_id desc",
            (agent_id,),
        )
    ]


class Seen(logging.Handler):
    """Sets an event when a record containing `text` is logged."""

    def __init__(self, text):
        super().__init__()
        self.text, self.event, self.messages = text, threading.Event(), []

    def emit(self, record):
        message = record.getMessage()
        if self.text in message:
            self.messages.append(message)
            self.event.set()


@pytest.fixture
def seen():
    handlers = []

    def watch(text):
        handler = Seen(text)
        logging.getLogger().addHandler(handler)
        handlers.append(handler)
        return handler

    yield watch
    for handler in handlers:
        logging.getLogger().removeHandler(handler)


def test_concurrent_large_exports_complete_in_full_or_are_refused_up_front(
    db, agent, start_server, database_url
):
    factories.bulk_cash_outs(db, agent["id"], ROWS)
    expected = bet_ids_in_list_order(db, agent["id"])
    assert len(expected) == ROWS
    # A pool of 6: at most 3 exports at once.
    server = start_server(Settings(database_url=database_url, pool_max_size=6))
    clients = [signed_in(server, agent) for _ in range(8)]
    try:
        # Open all eight before reading any: the first three hold their slots
        # (their bodies are far larger than what the sockets buffer).
        responses = [c.send(c.build_request("GET", URL), stream=True) for c in clients]
        statuses = [r.status_code for r in responses]
        assert statuses == [200] * 3 + [429] * 5
        for r in responses[3:]:
            r.read()
            assert r.headers["retry-after"]

        def read_all(response):
            rows = list(csv.reader(io.StringIO(response.read().decode(), newline="")))
            return [row[1] for row in rows[1:]]

        # Read the three concurrently, each to its end.
        with ThreadPoolExecutor(3) as pool:
            bodies = list(pool.map(read_all, responses[:3]))
        for ids in bodies:
            assert ids == expected
    finally:
        for c in clients:
            c.close()


def test_an_export_stalled_past_the_idle_timeout_is_ended_visibly_and_logged(
    db, agent, start_server, database_url, seen
):
    factories.bulk_cash_outs(db, agent["id"], ROWS)
    cut_off = seen("export ended after")
    server = start_server(Settings(database_url=database_url, export_idle_timeout=0.5))
    client = signed_in(server, agent)
    try:
        with client.stream("GET", URL) as r:
            assert r.status_code == 200
            chunks = r.iter_bytes(64 * 1024)
            next(chunks)
            # Stop reading: the server's send waits on the full socket until
            # its timeout ends the response and closes the export.
            assert cut_off.event.wait(WAIT_S), "the stalled export was not ended"
            assert f"(agent {agent['id']})" in cut_off.messages[0]
            # The client sees a broken download, not a short but well-formed CSV.
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in chunks:
                    pass
        # The app heals: the pool replaced the connection, the slot came back.
        r = client.get(URL, params={"date_from": "2030-01-01"})
        assert r.status_code == 200
        assert r.text.count("\n") == 1
    finally:
        client.close()


# The snapshot's bound: one chunk's transaction takes milliseconds; this leaves
# room for a loaded machine. The slow download below lasts several times longer.
SNAPSHOT_BOUND_S = 3.0
SNAPSHOTS = """
select coalesce(max(extract(epoch from clock_timestamp() - xact_start)), 0)::float8
from pg_stat_activity
where datname = current_database() and application_name like 'cashout-feed%%'
  and (xact_start is not null or backend_xmin is not null)
"""


def test_a_slow_download_holds_no_snapshot_longer_than_a_chunk(
    db, agent, start_server, database_url
):
    factories.bulk_cash_outs(db, agent["id"], ROWS)
    expected = bet_ids_in_list_order(db, agent["id"])
    server = start_server(Settings(database_url=database_url))
    client = signed_in(server, agent)
    oldest, body = 0.0, bytearray()
    started = time.monotonic()
    try:
        with client.stream("GET", URL) as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes(64 * 1024):
                body += chunk
                # The oldest transaction (and so snapshot) any app backend holds now.
                oldest = max(oldest, db.execute(SNAPSHOTS).fetchone()[0])
                time.sleep(0.05)  # a slow reader: the behaviour under test, not a wait
    finally:
        client.close()
    took = time.monotonic() - started
    print(f"\nslow export: {took:.1f} s, oldest app transaction {oldest:.3f} s")
    assert took > 3 * SNAPSHOT_BOUND_S, f"the download took only {took:.1f} s: not slow enough"
    assert oldest < SNAPSHOT_BOUND_S, (
        f"an app backend held a transaction for {oldest:.1f} s of a {took:.1f} s download"
    )
    # Chunk after chunk, the rows are still exactly the list's, in its order.
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert [row[1] for row in rows[1:]] == expected
