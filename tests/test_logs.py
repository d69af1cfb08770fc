"""Structured logs: JSON lines, a request id per request, never a secret."""

import io
import json
import logging
import re

import pytest

from app.logs import JsonFormatter, configure_logging
from tests.conftest import login


@pytest.fixture
def captured():
    """Everything the server side logs, at DEBUG, formatted as the app formats it.

    The test's own HTTP client (httpx, httpcore) logs the headers it sends and
    receives at DEBUG: that is this process playing the client, not the app.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def access_lines(stream):
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in lines if e["logger"] == "cashout_feed.access"]


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


def test_lines_logged_outside_a_request_have_no_request_id(client, captured):
    client.get("/healthz", headers={"X-Request-ID": "req-ctx"})
    logging.getLogger("test.outside").info("outside any request")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    (outside,) = [e for e in lines if e["message"] == "outside any request"]
    assert "request_id" not in outside


def test_unexpected_errors_are_logged_with_the_trace_and_answered_500(
    start_server, settings, captured
):
    from litestar import get

    from app.main import create_app
    from tests.conftest import LiveServer

    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("kaboom")

    app = create_app(settings)
    app.register(boom)
    server = LiveServer(app).start()
    try:
        import httpx

        r = httpx.get(server.url + "/boom", headers={"X-Request-ID": "req-boom"})
    finally:
        server.stop()
    assert r.status_code == 500
    assert "kaboom" not in r.text
    assert "Traceback" not in r.text
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    (error,) = [e for e in lines if e["level"] == "ERROR" and e.get("request_id") == "req-boom"]
    assert "kaboom" in error["exception"]


def test_no_password_token_or_cookie_is_ever_logged(client, agent, captured):
    wrong = "wrong-password-Zq9"
    client.post("/api/v1/auth/login", json={"username": agent["username"], "password": wrong})
    client.post("/api/v1/auth/login", json={"username": agent["username"], "password": 5})
    token = login(client, agent["username"])
    cookie = client.cookies.get("cashout_session")
    assert cookie
    client.get("/api/v1/agent/me")  # by cookie
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/agent/me", headers=bearer)
    client.get("/api/v1/agent/me", headers={"Authorization": "Bearer not-a-token-Xy7"})
    client.post("/api/v1/auth/logout", headers=bearer)
    client.get("/api/v1/agent/me", headers=bearer)  # revoked: 401
    text = captured.getvalue()
    assert access_lines(captured), "nothing was logged"
    for secret in (agent["password"], wrong, token, cookie, "not-a-token-Xy7"):
        assert secret not in text


def test_configure_logging_is_idempotent():
    configure_logging("INFO")
    configure_logging("INFO")
    marked = [h for h in logging.getLogger().handlers if getattr(h, "_cashout_feed_handler", False)]
    assert len(marked) == 1
