"""Bounds on request size: URL, headers and body."""

import pytest

from app.middleware import limits


def test_an_over_long_query_string_is_414(client):
    r = client.get("/healthz", params={"x": "a" * (limits.MAX_QUERY_BYTES + 1)})
    assert r.status_code == 414
    body = r.json()
    assert body["status_code"] == 414
    assert "query string" in body["detail"]
    assert str(limits.MAX_QUERY_BYTES) in body["detail"]


def test_a_query_string_at_the_limit_is_accepted(client):
    r = client.get("/healthz", params={"x": "a" * (limits.MAX_QUERY_BYTES - 2)})
    assert r.status_code == 200


def test_an_over_long_path_is_414(client):
    r = client.get("/" + "a" * limits.MAX_PATH_BYTES)
    assert r.status_code == 414
    assert "path" in r.json()["detail"]


def test_an_over_long_header_is_431_naming_it(client):
    r = client.get("/healthz", headers={"X-Padding": "a" * (limits.MAX_HEADER_BYTES + 1)})
    assert r.status_code == 431
    assert "x-padding" in r.json()["detail"]


def test_too_many_headers_are_431(client):
    headers = {f"X-H{i}": "v" for i in range(limits.MAX_HEADER_COUNT + 1)}
    r = client.get("/healthz", headers=headers)
    assert r.status_code == 431
    assert "headers" in r.json()["detail"]


def test_too_many_header_bytes_in_all_are_431(client):
    per = limits.MAX_HEADER_BYTES - 100
    count = limits.MAX_HEADERS_TOTAL_BYTES // per + 1
    r = client.get("/healthz", headers={f"X-H{i}": "a" * per for i in range(count)})
    assert r.status_code == 431
    assert "in all" in r.json()["detail"]


def test_an_over_long_cookie_is_431_not_500(client):
    r = client.get("/api/v1/agent/me", headers={"Cookie": "cashout_session=" + "a" * 10_000})
    assert r.status_code == 431


@pytest.mark.parametrize("size", [limits.MAX_BODY_BYTES + 1, 1_000_000])
def test_an_over_large_body_is_413(client, size):
    r = client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * size + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_limits_apply_before_routing(client):
    r = client.get("/no/such/page", params={"x": "a" * (limits.MAX_QUERY_BYTES + 1)})
    assert r.status_code == 414
