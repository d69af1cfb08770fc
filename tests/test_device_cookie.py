"""Device cookies (app/device_cookie.py): a browser that signed in as an agent before is
limited on its own, so that strangers' failures cannot lock that agent out."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.device_cookie import DEVICE_COOKIE
from tests import factories

LOGIN = "/api/v1/auth/login"
ATTACKS = 200


@pytest.fixture
def server_url(start_server, database_url) -> str:
    settings = Settings(
        database_url=database_url,
        login_username_limit=3,
        login_address_limit=5,
        login_device_limit=4,
    )
    return start_server(settings).url


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post(LOGIN, json={"username": username, "password": password})


@pytest.fixture
def browser(server_url, agent) -> httpx.Client:
    """The agent's own browser, which signed in once before (and so holds a device cookie)."""
    client = httpx.Client(base_url=server_url, timeout=10)
    assert sign_in(client, agent["username"], agent["password"]).status_code == 200
    assert client.cookies.get(DEVICE_COOKIE)
    return client


def attack(server_url: str, username: str, times: int = ATTACKS) -> list[int]:
    """A stranger's failed guesses for ``username`` from the same address (no cookies)."""
    with httpx.Client(base_url=server_url, timeout=10) as stranger:
        return [sign_in(stranger, username, "wrong-guess").status_code for _ in range(times)]


def test_an_attacker_cannot_lock_out_a_browser_that_signed_in_before(server_url, agent, browser):
    statuses = attack(server_url, agent["username"])
    assert statuses.count(429) >= ATTACKS - 5  # strangers stay limited
    assert sign_in(browser, agent["username"], agent["password"]).status_code == 200
    # ... and the attacker is still refused, with Retry-After.
    with httpx.Client(base_url=server_url, timeout=10) as stranger:
        refused = sign_in(stranger, agent["username"], agent["password"])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_forged_device_cookie_gives_no_exemption(server_url, agent, browser):
    attack(server_url, agent["username"], 10)
    cookie = browser.cookies.get(DEVICE_COOKIE)
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    with httpx.Client(base_url=server_url, timeout=10) as client:
        client.cookies.set(DEVICE_COOKIE, forged)
        assert sign_in(client, agent["username"], agent["password"]).status_code == 429


def test_another_agents_device_cookie_gives_no_exemption(server_url, agent, db):
    other = factories.unique("agent")
    factories.make_agent(db, other)
    with httpx.Client(base_url=server_url, timeout=10) as others_browser:
        assert sign_in(others_browser, other, factories.PASSWORD).status_code == 200
        attack(server_url, agent["username"], 10)
        assert sign_in(others_browser, agent["username"], agent["password"]).status_code == 429


def test_a_trusted_browser_has_a_limit_of_its_own(server_url, agent, browser):
    statuses = [sign_in(browser, agent["username"], "wrong").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    # Its failures are not a stranger's: a browser without the cookie is still let in.
    with httpx.Client(base_url=server_url, timeout=10) as elsewhere:
        assert sign_in(elsewhere, agent["username"], agent["password"]).status_code == 200


def test_the_device_cookie_is_httponly_strict_and_scoped_to_sign_in(server_url, agent):
    with httpx.Client(base_url=server_url, timeout=10) as client:
        response = sign_in(client, agent["username"], agent["password"])
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in header and "samesite=strict" in header.lower()
    assert f"Path={LOGIN}" in header and "Max-Age=" in header
