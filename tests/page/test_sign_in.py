"""Signing in and out on the page; a 401 at any time returns to sign-in."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests.page.browser import (
    Tab,
)


def test_sign_in_form_opens_the_feed(tab: Tab, agent: dict[str, Any]) -> None:
    tab.goto("/")
    page = tab.page
    expect(page.get_by_role("heading", name="Cash-out feed")).to_be_visible()
    page.get_by_label("Username", exact=True).fill(agent["username"])
    page.get_by_label("Password", exact=True).fill(agent["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#agent-name")).to_have_text(agent["username"].title())
    expect(page.locator("#signin-view")).to_be_hidden()
    cookies = {c["name"]: c for c in tab.context.cookies()}
    assert cookies["cashout_session"]["httpOnly"] is True
    assert cookies["cashout_session"]["sameSite"] == "Strict"


def test_wrong_password_shows_a_clear_message(tab: Tab, agent: dict[str, Any]) -> None:
    tab.allow_error(r"status of 401")  # the browser logs the login's 401 itself
    tab.goto("/")
    page = tab.page
    page.get_by_label("Username", exact=True).fill(agent["username"])
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Wrong username or password"))
    expect(page.locator("#feed-view")).to_be_hidden()
    expect(page.get_by_label("Password", exact=True)).to_have_value("not the password")


def test_sign_out_returns_to_sign_in_and_ends_the_session(tab: Tab, agent: dict[str, Any]) -> None:
    page = tab.open_feed(agent["username"])
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#signin-notice")).to_have_text("You have signed out.")
    page.reload()
    expect(page.locator("#signin-view")).to_be_visible()
    assert "cashout_session" not in {c["name"] for c in tab.context.cookies()}


def test_a_401_returns_to_sign_in(tab: Tab, agent: dict[str, Any], db: psycopg.Connection) -> None:
    tab.allow_error(r"status of 401")
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    db.execute(
        "update cashout_feed.sessions set revoked_at = now() where agent_id = %s", (agent["id"],)
    )
    page.get_by_role("tab", name="7d").click()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#signin-notice")).to_contain_text("session has ended")
