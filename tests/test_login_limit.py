"""The login rate limit: per username and per client address, kept in PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from app.config import Settings
from app.login_limit import username_key
from tests import factories
from tests.conftest import login

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def limited(start_server, database_url):
    """A server allowing 3 attempts per username and 5 per address per 15 minutes."""
    settings = Settings(database_url=database_url, login_username_limit=3, login_address_limit=5)
    server = start_server(settings)
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def attempt(client, username, password="wrong-password", address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


def test_too_many_failures_for_a_username_get_429_with_retry_after(limited, agent):
    for _ in range(3):
        assert attempt(limited, agent["username"]).status_code == 401
    r = attempt(limited, agent["username"])
    assert r.status_code == 429
    retry_after = int(r.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert f"{retry_after} seconds" in r.json()["detail"]


def test_the_right_password_is_refused_too_while_limited(limited, agent):
    for _ in range(3):
        attempt(limited, agent["username"])
    r = attempt(limited, agent["username"], agent["password"])
    assert r.status_code == 429


def test_username_limit_counts_across_addresses(limited, agent):
    for i in range(3):
        assert attempt(limited, agent["username"], address=f"203.0.113.{i}").status_code == 401
    assert attempt(limited, agent["username"], address="203.0.113.99").status_code == 429


def test_a_success_clears_the_usernames_failures(limited, agent):
    for _ in range(2):
        attempt(limited, agent["username"])
    login(limited, agent["username"])
    for _ in range(3):
        assert attempt(limited, agent["username"]).status_code == 401


def test_too_many_attempts_from_one_address_get_429(limited):
    for i in range(5):
        assert attempt(limited, f"nobody{i}", address="198.51.100.7").status_code == 401
    r = attempt(limited, "someone-else", address="198.51.100.7")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    # Another address is not affected.
    assert attempt(limited, "someone-else", address="198.51.100.8").status_code == 401


def test_ipv6_addresses_are_limited_per_64_block(limited):
    for i in range(5):
        assert attempt(limited, f"nobody{i}", address=f"2001:db8:1:2::{i + 1}").status_code == 401
    assert attempt(limited, "other", address="2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(limited, "other", address="2001:db8:1:3::1").status_code == 401


def test_sign_ins_from_one_address_do_not_use_up_its_limit(limited, db):
    # Colleagues behind one office address signing in successfully.
    for _ in range(8):
        username = factories.unique("agent")
        factories.make_agent(db, username)
        login(limited, username)


def test_the_limit_ends_with_its_window(limited, agent, db):
    for _ in range(4):
        attempt(limited, agent["username"])
    assert attempt(limited, agent["username"], agent["password"]).status_code == 429
    db.execute(
        "update cashout_feed.login_attempts set window_start = window_start - interval '15 minutes'"
    )
    assert attempt(limited, agent["username"], agent["password"]).status_code == 200


def test_parallel_guesses_cannot_slip_past_the_limit(limited, agent):
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: attempt(limited, agent["username"]).status_code, range(12))
        )
    assert sorted(statuses) == [401] * 3 + [429] * 9


def test_the_limit_holds_across_app_processes(start_server, database_url, agent):
    # Two independent apps (own pools, as two workers have) on one database.
    settings = Settings(database_url=database_url, login_username_limit=3)
    a, b = start_server(settings), start_server(settings)
    with httpx.Client(base_url=a.url) as ca, httpx.Client(base_url=b.url) as cb:
        assert attempt(ca, agent["username"]).status_code == 401
        assert attempt(cb, agent["username"]).status_code == 401
        assert attempt(ca, agent["username"]).status_code == 401
        assert attempt(cb, agent["username"]).status_code == 429


def test_ended_windows_are_pruned(limited, db):
    db.execute(
        "insert into cashout_feed.login_attempts (scope, key, window_start, attempts)"
        " select 'username', 'stale' || g, now() - interval '1 hour', 1"
        " from generate_series(1, 300) g"
    )
    attempt(limited, "someone")
    keys = {k for (k,) in db.execute("select key from cashout_feed.login_attempts")}
    assert keys == {username_key("someone"), "127.0.0.1"}


def test_pruning_is_bounded_per_attempt(limited, db):
    db.execute(
        "insert into cashout_feed.login_attempts (scope, key, window_start, attempts)"
        " select 'username', 'stale' || g, now() - interval '1 hour', 1"
        " from generate_series(1, 1200) g"
    )
    attempt(limited, "someone")
    (left,) = db.execute(
        "select count(*) from cashout_feed.login_attempts where key like 'stale%'"
    ).fetchone()
    assert left == 700


def test_limits_are_configurable_from_the_environment():
    s = Settings.from_env(
        {
            "CASHOUT_FEED_LOGIN_USERNAME_LIMIT": "4",
            "CASHOUT_FEED_LOGIN_ADDRESS_LIMIT": "40",
            "CASHOUT_FEED_LOGIN_WINDOW_MINUTES": "5",
        }
    )
    assert (s.login_username_limit, s.login_address_limit) == (4, 40)
    assert s.login_window == timedelta(minutes=5)
    d = Settings.from_env({})
    assert (d.login_username_limit, d.login_address_limit) == (10, 50)
    assert d.login_window == timedelta(minutes=15)


def test_usernames_are_not_stored_in_plain_text(limited, db):
    # People type passwords into the username field.
    attempt(limited, "my-secret-password")
    keys = {
        k
        for (k,) in db.execute(
            "select key from cashout_feed.login_attempts where scope = 'username'"
        )
    }
    assert keys == {username_key("my-secret-password")}
    assert "my-secret-password" not in str(keys)
