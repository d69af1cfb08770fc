"""The access log (app/middleware/access_log.py): one JSON line per request, with a
request id returned in ``X-Request-ID``."""

import re

import pytest

from tests.helpers import access_lines


def test_every_response_carries_a_generated_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/no/such/page").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def test_a_sane_incoming_request_id_is_kept(client):
    r = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc_DEF:9"})
    assert r.headers["X-Request-ID"] == "lb-1234.abc_DEF:9"


@pytest.mark.parametrize("bad", ["x" * 65, "has space", "semi;colon", "<script>", ""])
def test_an_unsafe_incoming_request_id_is_replaced(client, bad):
    r = client.get("/healthz", headers={"X-Request-ID": bad})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"])


def test_each_request_is_logged_as_one_json_line(client, captured):
    r = client.get("/readyz", headers={"X-Request-ID": "req-42"})
    (entry,) = [e for e in access_lines(captured) if e.get("request_id") == "req-42"]
    assert entry["method"] == "GET"
    assert entry["route"] == "/readyz"
    assert entry["status"] == r.status_code == 200
    assert isinstance(entry["duration_ms"], float)
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")


def test_the_route_template_is_logged_and_404s_too(client, captured):
    client.get("/no/such/page", headers={"X-Request-ID": "req-404"})
    (entry,) = [e for e in access_lines(captured) if e.get("request_id") == "req-404"]
    assert entry["status"] == 404
    assert entry["path"] == "/no/such/page"
