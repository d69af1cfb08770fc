"""The origin guard (app/middleware/csrf.py): cross-site requests signed in by the cookie."""

import httpx
import pytest

from app.config import Settings
from tests.conftest import login


def _own_origin(client):
    return str(client.base_url).rstrip("/")


def test_cookie_post_from_a_foreign_origin_is_refused(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "Origin" in r.json()["detail"]
    # The session was not signed out by the forged request.
    assert client.get("/api/v1/agent/me").status_code == 200


def test_cookie_post_with_a_foreign_referer_is_refused(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Referer": "https://evil.example/page"})
    assert r.status_code == 403
    assert client.get("/api/v1/agent/me").status_code == 200


@pytest.mark.parametrize("origin", ["null", "not a url", "http://127.0.0.1.evil.example"])
def test_cookie_post_from_an_opaque_or_lookalike_origin_is_refused(client, agent, origin):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": origin})
    assert r.status_code == 403


def test_cookie_post_without_origin_or_referer_is_refused(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout")
    assert r.status_code == 403
    assert "Bearer" in r.json()["detail"]


def test_cookie_post_from_our_own_origin_is_allowed(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": _own_origin(client)})
    assert r.status_code == 204


def test_cookie_post_with_our_own_referer_is_allowed(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Referer": _own_origin(client) + "/"})
    assert r.status_code == 204


def test_own_origin_over_https_behind_a_proxy_is_allowed(client, agent):
    login(client, agent["username"])
    host = client.base_url.netloc.decode()
    r = client.post(
        "/api/v1/auth/logout",
        headers={"Origin": f"https://{host}", "X-Forwarded-Proto": "https"},
    )
    assert r.status_code == 204


def test_http_origin_is_foreign_to_an_https_site(client, agent):
    login(client, agent["username"])
    r = client.post(
        "/api/v1/auth/logout",
        headers={"Origin": _own_origin(client), "X-Forwarded-Proto": "https"},
    )
    assert r.status_code == 403


def test_trusted_origin_is_allowed(start_server, database_url, agent):
    server = start_server(
        Settings(database_url=database_url, trusted_origins=("https://feed.example.com",))
    )
    with httpx.Client(base_url=server.url) as c:
        login(c, agent["username"])
        r = c.post("/api/v1/auth/logout", headers={"Origin": "https://feed.example.com"})
        assert r.status_code == 204


def test_bearer_post_is_exempt_from_the_origin_check(client, agent):
    token = login(client, agent["username"])
    r = client.post(
        "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert r.status_code == 204


def test_cookie_get_from_a_foreign_origin_is_not_refused(client, agent):
    # Reads change nothing; SameSite=Strict keeps the cookie off cross-site loads anyway.
    login(client, agent["username"])
    r = client.get("/api/v1/agent/me", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200


def test_post_without_a_cookie_needs_no_origin(client, agent):
    r = client.post(
        "/api/v1/auth/login",
        json={"username": agent["username"], "password": agent["password"]},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 200


def test_signing_in_again_with_a_stale_cookie_needs_no_origin(client, agent):
    login(client, agent["username"])
    assert client.cookies.get("cashout_session")
    login(client, agent["username"])
