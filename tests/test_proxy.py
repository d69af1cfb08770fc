"""deploy/nginx.conf, run by a real nginx in front of two `serve` instances sharing one
database, as two machines would: the REST API, the stream, the proxy's headers, the client's
address, and an instance killed while its clients stream and cash-outs keep committing."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.event_source import EventSource
from tests.fleet import CLIENT_ADDRESS, Fleet, Writer, running_fleet
from tests.helpers import metric, wait_until

SPOOFED = "203.0.113.66"
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
)


@pytest.fixture
def fleet(database_url: str, tmp_path: Path) -> Iterator[Fleet]:
    with running_fleet(database_url, tmp_path) as running:
        yield running


def _login(
    client: httpx.Client, username: str, password: str = factories.PASSWORD
) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


@pytest.mark.timeout(120)
def test_rest_api_headers_and_client_address_through_the_proxy(fleet: Fleet, db, agent):
    client = fleet.client()
    # Bearer token.
    token = _login(client, agent["username"]).json()["token"]
    me = client.get(
        "/api/v1/agent/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "rq-42"}
    )
    assert me.status_code == 200 and me.json()["username"] == agent["username"]
    assert me.headers["x-request-id"] == "rq-42"
    assert all(name in me.headers for name in SECURITY_HEADERS)
    # Without an id of the client's, nginx's own is the one the app logs and returns.
    bare = client.get("/healthz")
    request_id = bare.headers["x-request-id"]
    assert len(request_id) == 32
    assert fleet.logged_client(request_id) == CLIENT_ADDRESS
    wait_until(
        lambda: f"request_id={request_id}" in fleet.nginx.access_log, what="nginx's access line"
    )

    # Sign-in cookie: Secure, as the proxy said https; a cookie POST from the site's
    # own origin (scheme and Host as the browser saw them) passes the origin check.
    cookies = fleet.client()
    signed_in = _login(cookies, agent["username"])
    assert "Secure" in signed_in.headers["set-cookie"]
    assert cookies.get("/api/v1/agent/me").status_code == 200
    assert (
        cookies.post("/api/v1/auth/logout", headers={"Origin": fleet.nginx.url}).status_code == 204
    )
    assert cookies.get("/api/v1/agent/me").status_code == 401

    # The address the app logs and limits by is the client's, not the proxy's nor a
    # forged X-Forwarded-For's.
    assert (
        _login(
            client,
            agent["username"],
            "wrong password",
        ).status_code
        == 401
    )
    forged = client.get("/healthz", headers={"X-Forwarded-For": SPOOFED, "X-Request-ID": "fwd-1"})
    assert forged.status_code == 200
    assert fleet.logged_client("fwd-1") == CLIENT_ADDRESS
    limited = db.execute(
        "select key from cashout_feed.login_attempts where scope = 'address'"
    ).fetchall()
    assert limited == [(CLIENT_ADDRESS,)]

    # Straight to an instance, the same headers are not believed (not from a trusted proxy).
    direct = httpx.Client(
        base_url=fleet.instances[0].url,
        transport=httpx.HTTPTransport(local_address=CLIENT_ADDRESS),
        timeout=10,
    )
    with direct:
        headers = {
            "X-Forwarded-For": SPOOFED,
            "X-Forwarded-Proto": "https",
            "X-Request-ID": "fwd-2",
        }
        plain = direct.post(
            "/api/v1/auth/login",
            json={"username": agent["username"], "password": agent["password"]},
            headers=headers,
        )
        assert plain.status_code == 200 and "Secure" not in plain.headers["set-cookie"]
    assert fleet.logged_client("fwd-2") == CLIENT_ADDRESS


@pytest.mark.timeout(60)
def test_the_proxys_limits_match_the_apps(fleet: Fleet, agent):
    client = fleet.client()
    too_big = client.post("/api/v1/auth/login", content=b"x" * (65 * 1024))
    assert too_big.status_code == 413 and too_big.json()["status_code"] == 413
    # A header the app refuses reaches the app, which names it.
    long_header = client.get("/healthz", headers={"X-Long": "y" * 9000})
    assert long_header.status_code == 431 and "x-long" in long_header.text


@pytest.mark.timeout(180)
def test_killing_an_instance_loses_and_duplicates_nothing(fleet: Fleet, db):
    agents = [factories.make_agent(db) for _ in range(3)]
    bets: dict[int, list[int]] = {}
    for agent in agents:
        customer = factories.make_customer(db, agent)
        bets[agent] = [factories.make_bet(db, customer) for _ in range(200)]
    usernames = dict(db.execute("select id, username from agents").fetchall())

    # Two clients per agent: one signed in by cookie (the page), one by bearer token.
    sources: list[tuple[int, EventSource]] = []
    for agent in agents:
        cookie_client = fleet.client()
        assert _login(cookie_client, usernames[agent]).status_code == 200
        token = _login(fleet.client(), usernames[agent]).json()["token"]

        def bearer(token: str = token) -> httpx.Client:
            return fleet.client(headers={"Authorization": f"Bearer {token}"})

        def cookie(jar: httpx.Cookies = cookie_client.cookies) -> httpx.Client:
            return fleet.client(cookies=jar)

        for kind, make in (("cookie", cookie), ("bearer", bearer)):
            sources.append((agent, EventSource(make, f"{kind}-{agent}")))
    for _, source in sources:
        source.start()
    for _, source in sources:
        assert source.connected.wait(15), f"{source.name} did not connect"

    victim, survivor = fleet.instances
    on_victim = metric(victim.url, "cashout_feed_open_streams")
    assert on_victim >= 1 and metric(survivor.url, "cashout_feed_open_streams") >= 1
    assert on_victim + metric(survivor.url, "cashout_feed_open_streams") == len(sources)

    writer = Writer(fleet.database_url, bets, per_second=25)
    writer.start()
    try:
        wait_until(lambda: writer.count >= 25, what="cash-outs before the kill")
        wait_until(
            lambda: all(s.bet_ids for _, s in sources),
            what="an event on every stream before the kill",
        )
        victim.stop(signal.SIGKILL)
        before = writer.count
        wait_until(
            lambda: metric(survivor.url, "cashout_feed_open_streams") == len(sources),
            timeout=30,
            what="every stream reopened on the surviving instance",
        )
        wait_until(lambda: writer.count >= before + 50, what="cash-outs after the kill")
    finally:
        writer.stop()
    # Events of an agent arrive in commit order: one last cash-out per agent,
    # once received, means everything before it has been delivered (or lost).
    for agent in agents:
        bet = bets[agent][len(writer.committed[agent])]
        factories.cash_out(db, bet)
        writer.committed[agent].append(bet)
    for agent, source in sources:
        last = writer.committed[agent][-1]
        wait_until(
            lambda s=source, b=last: b in s.bet_ids, timeout=30, what=f"{source.name}'s last event"
        )
    for _, source in sources:
        source.close()

    reconnected = [s for _, s in sources if len(s.sent_ids) > 1]
    assert len(reconnected) == on_victim
    for _, source in sources:
        assert source.closed_for_good is None
        # Each reconnection resumed from the last event received before it.
        assert all(sent is not None for sent in source.sent_ids[1:]), source.sent_ids
    lost = duplicated = 0
    for agent, source in sources:
        received, committed = Counter(source.bet_ids), Counter(writer.committed[agent])
        lost += sum((committed - received).values())
        duplicated += sum((received - committed).values())
        assert received == committed, source.name
    assert (lost, duplicated) == (0, 0)
    assert writer.count > 75
