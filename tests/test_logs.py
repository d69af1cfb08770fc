"""Structured logs: JSON lines, the request id on lines logged while handling it, never a
secret. The access log and ``X-Request-ID`` are in tests/middleware/test_access_log.py."""

import json
import logging

from app.logs import configure_logging
from tests.conftest import login
from tests.helpers import access_lines


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
