from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from app.config import Settings
from tests import factories
from tests.conftest import login


def test_login_returns_token_agent_and_cookie(client, agent):
    r = client.post(
        "/api/v1/auth/login", json={"username": agent["username"], "password": agent["password"]}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["agent"] == {
        "id": agent["id"],
        "username": agent["username"],
        "display_name": agent["username"].title(),
    }
    assert body["expires_at"].endswith("Z")
    cookie = r.headers["set-cookie"]
    assert f"cashout_session={body['token']}" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain http here


def test_bearer_token_reaches_me(client, agent):
    token = login(client, agent["username"])
    client.cookies.clear()
    r = client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["id"] == agent["id"]


def test_cookie_reaches_me(client, agent):
    login(client, agent["username"])
    r = client.get("/api/v1/agent/me")
    assert r.status_code == 200
    assert r.json()["username"] == agent["username"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_me_without_valid_session_is_401(client, headers):
    r = client.get("/api/v1/agent/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"]


def test_unknown_user_and_wrong_password_get_the_same_401(client, agent):
    wrong_pw = client.post(
        "/api/v1/auth/login", json={"username": agent["username"], "password": "nope-nope"}
    )
    no_user = client.post(
        "/api/v1/auth/login", json={"username": "nobody-here", "password": "nope-nope"}
    )
    assert wrong_pw.status_code == no_user.status_code == 401
    assert wrong_pw.json() == no_user.json()


def test_unknown_user_still_runs_a_password_verification(client, agent, monkeypatch):
    # Equal work on both paths is what keeps their timing alike.
    calls = []
    original = PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    client.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "x"})
    client.post("/api/v1/auth/login", json={"username": agent["username"], "password": "x"})
    assert len(calls) == 2
    assert all(h.startswith("$argon2id$") for h in calls)


def test_logout_revokes_the_session(client, agent):
    token = login(client, agent["username"])
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert client.get("/api/v1/agent/me", headers=auth).status_code == 401


def test_logout_clears_the_cookie(client, agent):
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": str(client.base_url).rstrip("/")})
    assert r.status_code == 204
    assert client.get("/api/v1/agent/me").status_code == 401


def test_sessions_are_stored_as_hashes(client, agent, db):
    token = login(client, agent["username"])
    rows = db.execute("select token_hash from cashout_feed.sessions").fetchall()
    assert len(rows) == 1
    assert token.encode() not in bytes(rows[0][0])
    assert len(rows[0][0]) == 32


def test_expired_session_is_refused(client, agent, db):
    token = login(client, agent["username"])
    db.execute("update cashout_feed.sessions set expires_at = now() - interval '1 second'")
    r = client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_session_ttl_is_configurable(start_server, database_url, db, agent):
    server = start_server(Settings(database_url=database_url, session_ttl=timedelta(minutes=5)))

    with httpx.Client(base_url=server.url) as c:
        login(c, agent["username"])
    row = db.execute("select expires_at - created_at from cashout_feed.sessions").fetchone()
    assert row is not None
    assert timedelta(minutes=4) < row[0] <= timedelta(minutes=5, seconds=1)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a"},
        {"password": "a"},
        {"username": 1, "password": "x"},
        {"username": "a", "password": ["x"]},
        {"username": "", "password": "x"},
        {"username": "a" * 10_000, "password": "x"},
        {"username": "a", "password": "p" * 5_000},
        {"username": "a\u0000b", "password": "x"},
        {"username": "tab\there", "password": "x"},
        [],
        "just a string",
    ],
)
def test_bad_login_bodies_are_400(client, body):
    r = client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


def test_bad_login_body_names_the_field(client):
    r = client.post("/api/v1/auth/login", json={"username": "a", "password": 5})
    assert r.status_code == 400
    assert "password" in r.json()["detail"]


def test_malformed_json_is_400(client):
    r = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400


def test_oversized_body_is_refused(client):
    r = client.post(
        "/api/v1/auth/login",
        content=b'{"username": "' + b"a" * 200_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_agents_never_store_plain_passwords(db, agent):
    row = db.execute(
        "select password_hash from cashout_feed.credentials where agent_id = %s", (agent["id"],)
    ).fetchone()
    assert row is not None
    assert row[0].startswith("$argon2id$")
    assert factories.PASSWORD not in row[0]


def _login_response(client, agent, headers=None):
    r = client.post(
        "/api/v1/auth/login",
        json={"username": agent["username"], "password": agent["password"]},
        headers=headers or {},
    )
    assert r.status_code == 200, r.text
    return r


def test_cookie_is_secure_behind_an_https_proxy(client, agent):
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (FORWARDED_ALLOW_IPS).
    cookie = _login_response(client, agent, {"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()


def test_cookie_secure_can_be_forced(start_server, database_url, agent):
    server = start_server(Settings(database_url=database_url, cookie_secure="true"))
    with httpx.Client(base_url=server.url) as c:
        assert "Secure" in _login_response(c, agent).headers["set-cookie"]


def test_cookie_max_age_matches_the_session_ttl(client, agent):
    cookie = _login_response(client, agent).headers["set-cookie"]
    assert f"Max-Age={12 * 3600}" in cookie


def test_session_expiry_is_enforced_for_the_cookie_too(client, agent, db):
    login(client, agent["username"])
    assert client.get("/api/v1/agent/me").status_code == 200
    db.execute("update cashout_feed.sessions set expires_at = now() - interval '1 second'")
    r = client.get("/api/v1/agent/me")
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_logout_revokes_only_that_session(client, agent):
    first = login(client, agent["username"])
    second = login(client, agent["username"])
    client.cookies.clear()
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert (
        client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {first}"}).status_code
        == 401
    )
    assert (
        client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )


def test_revoked_session_stays_revoked_after_logging_out_again(client, agent, db):
    token = login(client, agent["username"])
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/auth/logout", headers=auth)
    revoked_at = db.execute("select revoked_at from cashout_feed.sessions").fetchone()
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert db.execute("select revoked_at from cashout_feed.sessions").fetchone() == revoked_at
    assert client.get("/api/v1/agent/me", headers=auth).status_code == 401


def test_nul_in_the_username_is_400_naming_it_not_500(client):
    r = client.post("/api/v1/auth/login", json={"username": "a\u0000b", "password": "x"})
    assert r.status_code == 400
    assert "username" in r.json()["detail"]


def test_nul_in_the_password_is_just_a_wrong_password(client, agent):
    r = client.post(
        "/api/v1/auth/login", json={"username": agent["username"], "password": "a\u0000b"}
    )
    assert r.status_code == 401


def test_a_malformed_cookie_before_the_session_cookie_does_not_hide_it(client, agent):
    token = login(client, agent["username"])
    client.cookies.clear()
    cookie = {"Cookie": f'junk="x; cashout_session={token}'}
    assert client.get("/api/v1/agent/me", headers=cookie).status_code == 200  # signed in by it
    r = client.post("/api/v1/auth/logout", headers={**cookie, "Origin": "https://evil.example"})
    assert r.status_code == 403
