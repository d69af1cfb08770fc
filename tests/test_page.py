"""The feed page in a real browser: Debian's Chromium driven by Playwright (sync API).

Every test runs the real app (uvicorn on a socket) against its own PostgreSQL
database; cash-outs are committed by the betting platform's side (tests.factories)
and must reach the page through the real trigger, NOTIFY and SSE stream.
Playwright's sync API cannot run inside a running asyncio loop, so these are
plain functions.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests import factories
from tests.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
LIVE_TIMEOUT_MS = 3000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


class Tab:
    """One browser page on the live app, recording console errors and page errors."""

    def __init__(self, context: BrowserContext, server: LiveServer) -> None:
        self.context = context
        self.server = server
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def allow_error(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def goto(self, path: str = "/") -> Any:
        return self.page.goto(self.server.url + path)

    def sign_in_by_api(self, username: str) -> None:
        """The session cookie, without typing: for tests about the feed itself."""
        response = self.context.request.post(
            self.server.url + "/api/v1/auth/login",
            data={"username": username, "password": factories.PASSWORD},
        )
        assert response.status == 200, response.text()

    def open_feed(self, username: str, path: str = "/") -> Page:
        self.sign_in_by_api(username)
        self.goto(path)
        expect(self.page.locator("#feed-view")).to_be_visible()
        expect(self.page.locator("#list-state")).not_to_have_attribute("data-state", "loading")
        return self.page

    def wait_live(self) -> None:
        expect(self.page.locator("#live-indicator")).to_have_attribute(
            "data-status", "live", timeout=LIVE_TIMEOUT_MS
        )


@pytest.fixture
def open_tab(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Tab]]:
    tabs: list[Tab] = []

    def open_tab(viewport: dict[str, int] = DESKTOP, timezone_id: str = "UTC") -> Tab:
        context = browser.new_context(viewport=viewport, timezone_id=timezone_id, locale="en-GB")
        tab = Tab(context, server)
        tabs.append(tab)
        return tab

    yield open_tab
    problems = [error for tab in tabs for error in tab.unexpected_errors()]
    for tab in tabs:
        tab.context.close()
    assert problems == [], f"console errors: {problems}"


@pytest.fixture
def tab(open_tab: Callable[..., Tab]) -> Tab:
    return open_tab()


# ---- test data ------------------------------------------------------------------------


def settled(db: psycopg.Connection, user_id: int, stake: str, amount: str, *, at: datetime,
            auto: bool = False, reason: str | None = "manual", selection: str | None = None) -> int:
    """A bet that was cashed out in the past (a backfill: in the list, not on the stream)."""
    return factories.make_bet(
        db,
        user_id,
        stake=stake,
        selection=selection or factories.unique("Home v Away — Home "),
        status="cashed_out",
        cash_out_amount=amount,
        is_auto_cash_out=auto,
        cash_out_trigger_reason=reason,
        placed_at=at - timedelta(hours=1),
        settled_at=at,
    )


def rows(page: Page) -> Any:
    return page.locator("#activity-body tr")


def row_for(page: Page, bet_id: int) -> Any:
    return page.locator(f'#activity-body tr[data-bet-id="{bet_id}"]')


def bet_ids(page: Page) -> list[int]:
    values = page.locator("#activity-body tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.betId))"
    )
    return list(values)


# ---- sign-in and sign-out --------------------------------------------------------------


def test_sign_in_form_opens_the_feed(tab: Tab, agent: dict[str, Any]) -> None:
    tab.goto("/")
    page = tab.page
    expect(page.get_by_role("heading", name="Cash-out feed")).to_be_visible()
    page.get_by_label("Username").fill(agent["username"])
    page.get_by_label("Password").fill(agent["password"])
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
    page.get_by_label("Username").fill(agent["username"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Wrong username or password"))
    expect(page.locator("#feed-view")).to_be_hidden()
    expect(page.get_by_label("Password")).to_have_value("not the password")


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
    db.execute("update agent_sessions set revoked_at = now() where agent_id = %s", (agent["id"],))
    page.get_by_role("tab", name="7d").click()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#signin-notice")).to_contain_text("session has ended")
