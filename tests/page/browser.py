"""The feed page in a real browser: what every page test shares.

Debian's Chromium is driven by Playwright (sync API). Every test runs the real
app (uvicorn on a socket) against its own PostgreSQL database; cash-outs are
committed by the betting platform's side (tests.factories) and must reach the
page through the real trigger, NOTIFY and SSE stream. Playwright's sync API
cannot run inside a running asyncio loop, so the page tests are plain functions.
The fixtures (``browser``, ``open_tab``, ``tab``) are in tests/page/conftest.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = _ROOT / "test-artifacts"
DOCS_SCREENSHOT = _ROOT / "docs" / "screenshot.png"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
LIVE_TIMEOUT_MS = 3000


class Tab:
    """One browser page on the live app, recording console errors and page errors."""

    def __init__(self, context: BrowserContext, server: LiveServer) -> None:
        self.context = context
        self.server = server
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
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
        expect(self.page.locator("#list-state")).to_have_attribute(
            "data-state", re.compile("^(ready|empty|error)$")
        )
        return self.page

    def wait_live(self) -> None:
        # Connecting may take a moment on a busy machine; the 3 s budget is for events.
        expect(self.page.locator("#live-indicator")).to_have_attribute(
            "data-status", "live", timeout=10000
        )


# ---- test data ------------------------------------------------------------------------


def settled(
    db: psycopg.Connection,
    user_id: int,
    stake: str,
    amount: str,
    *,
    at: datetime,
    auto: bool = False,
    reason: str | None = "manual",
    selection: str | None = None,
) -> int:
    """A bet that was cashed out in the past (a backfill: in the list, not on the stream),
    each with its own selection unless one is given."""
    selection = selection or factories.unique("Home v Away — Home ")
    return factories.cashed_out_bet(db, user_id, stake, amount, at, auto, reason, selection)


def rows(page: Page) -> Any:
    return page.locator("#activity-body tr")


def row_for(page: Page, bet_id: int) -> Any:
    return page.locator(f'#activity-body tr[data-bet-id="{bet_id}"]')


def bet_ids(page: Page) -> list[int]:
    values = page.locator("#activity-body tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.betId))"
    )
    return list(values)


def seed_a_busy_day(db: psycopg.Connection, agent_id: int) -> None:
    names = ["jdoe", "asmith", "mbrown_with_a_rather_long_username"]
    customers = [factories.make_customer(db, agent_id, factories.unique(n)) for n in names]
    now = datetime.now(UTC)
    amounts = ["12.50", "7.25", "10.00", "31.40"]
    reasons = ["auto_profit_target", "manual", "auto_stop_loss", "manual", "auto_threshold"]
    for i in range(24):
        reason = reasons[i % 5]
        settled(
            db,
            customers[i % 3],
            "10.00",
            amounts[i % 4],
            at=now - timedelta(minutes=9 * i + 2),
            auto=reason.startswith("auto"),
            reason=reason,
            selection="Arsenal v Chelsea — Arsenal to win and both teams to score "
            * (40 if i == 1 else 1),
        )


def no_horizontal_overflow(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )
