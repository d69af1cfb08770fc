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
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.config import Settings
from app.main import create_app
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


# ---- the list ----------------------------------------------------------------------------

GAIN, LOSS, ZERO = "rgb(4, 108, 78)", "rgb(185, 28, 28)", "rgb(74, 85, 101)"


def test_rows_show_profit_loss_colours_badges_and_reasons(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    jdoe = factories.make_customer(db, agent["id"], factories.unique("jdoe"))
    now = datetime.now(UTC)
    gain = settled(
        db,
        jdoe,
        "10.00",
        "12.50",
        at=now - timedelta(minutes=1),
        auto=True,
        reason="auto_profit_target",
    )
    loss = settled(
        db,
        jdoe,
        "20.00",
        "15.00",
        at=now - timedelta(minutes=2),
        auto=True,
        reason="auto_stop_loss",
    )
    even = settled(db, jdoe, "8.00", "8.00", at=now - timedelta(minutes=3), reason="manual")
    odd = settled(
        db,
        jdoe,
        "4.00",
        "5.00",
        at=now - timedelta(minutes=4),
        auto=True,
        reason="auto_trailing_stop",
    )
    page = tab.open_feed(agent["username"])
    assert bet_ids(page) == [gain, loss, even, odd]  # newest first

    expected = {
        gain: ("+2.50", "pl-gain", GAIN, "Profit target", True),
        loss: ("−5.00", "pl-loss", LOSS, "Stop loss", True),
        even: ("±0.00", "pl-zero", ZERO, "Manual", False),
        odd: ("+1.00", "pl-gain", GAIN, "Trailing stop", True),
    }
    for bet_id, (amount, kind, colour, reason, auto) in expected.items():
        row = row_for(page, bet_id)
        pl = row.locator(".cell-pl .pl")
        expect(pl.locator(".pl-amount")).to_have_text(amount)
        expect(pl).to_have_class(re.compile(kind))
        expect(pl).to_have_css("color", colour)
        expect(pl.locator(".pl-icon")).to_have_text({"pl-gain": "▲", "pl-loss": "▼"}.get(kind, "●"))
        expect(row.locator(".reason")).to_have_text(reason)
        expect(row.locator(".badge-auto")).to_have_count(1 if auto else 0)
    assert len({GAIN, LOSS, ZERO}) == 3

    first = row_for(page, gain)
    expect(first.locator(".cell-customer")).to_have_text(re.compile("^jdoe"))
    expect(first.locator(".cell-stake")).to_have_text("10.00")
    expect(first.locator(".cell-amount")).to_have_text("12.50")
    expect(first.locator(".cell-ratio")).to_have_text("1.2500×")
    expect(first.locator(".badge-auto")).to_have_text("Auto")
    when = first.locator("time")
    expect(when).to_have_text(re.compile("minute ago|seconds ago"))
    assert when.get_attribute("datetime") is not None
    assert re.search(r"2\d{3}", when.get_attribute("title") or "")
    when.focus()
    expect(when).to_be_focused()


def test_empty_list_says_so(tab: Tab, agent: dict[str, Any]) -> None:
    page = tab.open_feed(agent["username"])
    expect(page.locator("#list-state")).to_have_text(re.compile("No cash-outs yet"))
    expect(page.locator("#activity")).to_be_hidden()
    expect(page.locator("#total-count")).to_have_text("0")
    expect(page.locator("#total-pl")).to_have_text("±0.00")


def test_load_more_appends_the_next_page(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    now = datetime.now(UTC)
    ids = [
        settled(db, customer, "10.00", "11.00", at=now - timedelta(minutes=i)) for i in range(25)
    ]
    page = tab.open_feed(agent["username"])
    expect(rows(page)).to_have_count(20)
    expect(page.locator("#total-count")).to_have_text("25")
    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(25)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert bet_ids(page) == ids  # newest first, each once


def test_load_more_after_live_cash_outs_misses_nothing_and_repeats_nothing(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    now = datetime.now(UTC)
    history = [
        settled(db, customer, "10.00", "11.00", at=now - timedelta(minutes=i + 1))
        for i in range(45)
    ]
    fresh = [factories.make_bet(db, customer) for _ in range(3)]
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    expect(rows(page)).to_have_count(20)
    factories.cash_out(db, fresh[0], amount="1.00")
    factories.cash_out(db, fresh[1], amount="2.00")
    # Settled (by the platform's clock) among the rows not loaded yet.
    factories.cash_out(
        db, fresh[2], amount="3.00", settled_at=now - timedelta(minutes=22, seconds=30)
    )
    expect(rows(page)).to_have_count(23, timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#total-count")).to_have_text("48")
    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(42)  # 20 + 3 live + 19 (the live one settled back then)
    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(48)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    shown = bet_ids(page)
    assert sorted(shown) == sorted(history + fresh)  # every bet, each once


def test_filter_by_customer_narrows_list_totals_and_url(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    alice = factories.make_customer(db, agent["id"], factories.unique("alice"))
    bob = factories.make_customer(db, agent["id"], factories.unique("bob"))
    now = datetime.now(UTC)
    mine = [settled(db, alice, "10.00", "13.10", at=now - timedelta(minutes=i)) for i in (1, 3)]
    settled(db, bob, "10.00", "2.00", at=now - timedelta(minutes=2))
    page = tab.open_feed(agent["username"])
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Customer", exact=True).select_option(str(alice))
    expect(rows(page)).to_have_count(2)
    assert bet_ids(page) == mine
    expect(page.locator("#total-count")).to_have_text("2")
    expect(page.locator("#total-amount")).to_have_text("26.20")
    expect(page.locator("#total-pl")).to_have_text("+6.20")
    assert f"customer_id={alice}" in page.url
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(f"/activity/export\\?customer_id={alice}&tz=UTC$")
    )


def test_filter_by_date_reads_dates_in_the_browsers_time_zone(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection
) -> None:
    tab = open_tab(timezone_id="Asia/Tokyo")  # UTC+9, no DST
    customer = factories.make_customer(db, agent["id"])
    # 21 Nov 01:00 in Tokyo, but still 20 Nov in UTC.
    tokyo_21st = settled(
        db, customer, "10.00", "12.00", at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    )
    settled(
        db, customer, "10.00", "9.00", at=datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    )  # 20th 23:00
    settled(
        db, customer, "10.00", "9.00", at=datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    )  # 22nd 00:00
    page = tab.open_feed(agent["username"])
    expect(rows(page)).to_have_count(3)
    page.get_by_label("From", exact=True).fill("2026-11-21")
    page.get_by_label("To", exact=True).fill("2026-11-21")
    expect(rows(page)).to_have_count(1)
    assert bet_ids(page) == [tokyo_21st]
    expect(page.locator("#total-pl")).to_have_text("+2.00")
    assert "date_from=2026-11-21" in page.url and "date_to=2026-11-21" in page.url


def test_a_refused_filter_shows_the_error_state(tab: Tab, agent: dict[str, Any]) -> None:
    tab.allow_error(r"status of 400")
    page = tab.open_feed(agent["username"], "/?date_from=2026-02-30")
    expect(page.locator("#list-state")).to_have_attribute("data-state", "error")
    expect(page.locator("#list-state")).to_contain_text("date_from")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.locator("#activity")).to_be_hidden()


def test_from_after_to_is_refused_in_words(tab: Tab, agent: dict[str, Any]) -> None:
    page = tab.open_feed(agent["username"])
    page.get_by_label("From", exact=True).fill("2026-11-22")
    page.get_by_label("To", exact=True).fill("2026-11-21")
    expect(page.locator("#filter-error")).to_have_text(re.compile("after"))
    assert "date_to" not in page.url


def test_reload_keeps_the_filters(tab: Tab, agent: dict[str, Any], db: psycopg.Connection) -> None:
    alice = factories.make_customer(db, agent["id"])
    bob = factories.make_customer(db, agent["id"])
    keep = settled(db, alice, "10.00", "12.00", at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    settled(db, alice, "10.00", "12.00", at=datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    settled(db, bob, "10.00", "12.00", at=datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    page = tab.open_feed(agent["username"])
    page.get_by_label("Customer", exact=True).select_option(str(alice))
    page.get_by_label("From", exact=True).fill("2026-11-19")
    page.get_by_role("tab", name="30d").click()
    expect(rows(page)).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Customer", exact=True)).to_have_value(str(alice))
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-19")
    expect(page.get_by_role("tab", name="30d")).to_have_attribute("aria-selected", "true")
    expect(rows(page)).to_have_count(1)
    assert bet_ids(page) == [keep]
    page.get_by_role("button", name="Clear filters").click()
    expect(rows(page)).to_have_count(3)
    page.go_back()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_label("Customer", exact=True)).to_have_value(str(alice))


# ---- the summary -----------------------------------------------------------------------


def test_summary_shows_every_metric_and_top_customers(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    alice = factories.make_customer(db, agent["id"], factories.unique("alice"))
    bob = factories.make_customer(db, agent["id"], factories.unique("bob"))
    now = datetime.now(UTC)
    settled(
        db,
        alice,
        "10.00",
        "12.50",
        at=now - timedelta(hours=1),
        auto=True,
        reason="auto_profit_target",
    )
    settled(db, alice, "10.00", "5.00", at=now - timedelta(hours=2))
    settled(db, bob, "20.00", "20.00", at=now - timedelta(hours=3))
    settled(db, bob, "30.00", "45.00", at=now - timedelta(days=3))  # only in 7d and 30d
    page = tab.open_feed(agent["username"])
    metrics = {
        "total_cash_outs": "3",
        "unique_customers": "2",
        "total_stake": "40.00",
        "total_cash_out_amount": "37.50",
        "net_profit_loss": "−2.50",
        "auto_cash_out_count": "1",
        "auto_cash_out_percentage": "33.33 %",
        "avg_return_ratio": "0.9167×",
    }
    for name, text in metrics.items():
        expect(page.locator(f"#m-{name}")).to_contain_text(text)
    expect(page.locator("#m-net_profit_loss .pl")).to_have_class(re.compile("pl-loss"))
    top = page.locator("#top-customers li")
    expect(top).to_have_count(2)
    expect(top.nth(0)).to_contain_text("2 cash-outs")
    page.get_by_role("tab", name="7d").click()
    expect(page.locator("#m-total_cash_outs")).to_have_text("4")
    expect(page.locator("#m-net_profit_loss")).to_contain_text("+12.50")
    page.get_by_role("tab", name="7d").press("ArrowRight")
    expect(page.get_by_role("tab", name="30d")).to_be_focused()
    expect(page.get_by_role("tab", name="30d")).to_have_attribute("aria-selected", "true")


# ---- live ----------------------------------------------------------------------------------


def test_live_cash_out_appears_on_top_with_a_toast_and_new_totals(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"], factories.unique("live"))
    older = settled(db, customer, "10.00", "12.35", at=datetime.now(UTC) - timedelta(minutes=5))
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    expect(page.locator("#total-count")).to_have_text("1")
    expect(page.locator("#total-amount")).to_have_text("12.35")
    expect(page.locator("#total-pl")).to_have_text("+2.35")

    bet = factories.make_bet(db, customer, stake="10.10")
    factories.cash_out(db, bet, amount="7.05", auto=True, reason="auto_stop_loss")

    new_row = page.locator("#activity-body tr").first
    expect(new_row).to_have_attribute("data-bet-id", str(bet), timeout=LIVE_TIMEOUT_MS)
    expect(new_row).to_have_class(re.compile("is-new"))
    expect(new_row.locator(".pl-amount")).to_have_text("−3.05")
    expect(new_row.locator(".reason")).to_have_text("Stop loss")
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    expect(toast).to_contain_text("New cash-out")
    expect(toast).to_contain_text("−3.05")
    expect(page.locator("#total-count")).to_have_text("2")
    expect(page.locator("#total-amount")).to_have_text("19.40")  # 12.35 + 7.05, exactly
    expect(page.locator("#total-pl")).to_have_text("−0.70")  # 2.35 − 3.05
    assert bet_ids(page) == [bet, older]
    # The summary refreshes itself (debounced) after the event.
    expect(page.locator("#m-total_cash_outs")).to_have_text("2")


def test_a_cash_out_between_reading_the_list_and_connecting_is_not_missed(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    bet = factories.make_bet(db, customer)
    held: list[Any] = []
    # Hold the stream's request until the cash-out has committed: the worst timing.
    tab.page.route("**/cash-out/stream*", lambda route: held.append(route))
    tab.sign_in_by_api(agent["username"])
    with tab.page.expect_request("**/cash-out/stream*"):
        tab.goto("/")
    expect(tab.page.locator("#list-state")).to_have_attribute("data-state", "empty")
    factories.cash_out(db, bet, amount="5.55")  # the agent's first event ever
    assert len(held) == 1
    held[0].continue_()
    expect(rows(tab.page)).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    assert bet_ids(tab.page) == [bet]
    expect(tab.page.locator("#total-amount")).to_have_text("5.55")


def test_many_cash_outs_at_once_make_one_grouped_toast(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    bets = [factories.make_bet(db, customer, stake="1.00") for _ in range(4)]
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    with db.transaction():
        for bet in bets:
            factories.cash_out(db, bet, amount="1.10")
    expect(rows(page)).to_have_count(4, timeout=LIVE_TIMEOUT_MS)
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("4 new cash-outs")
    expect(toast).to_contain_text("+0.40")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#total-amount")).to_have_text("4.40")
    assert sorted(bet_ids(page)) == sorted(bets)


def test_live_cash_outs_outside_the_filter_stay_out(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    alice = factories.make_customer(db, agent["id"])
    bob = factories.make_customer(db, agent["id"])
    bobs_bet = factories.make_bet(db, bob)
    alices_bet = factories.make_bet(db, alice)
    page = tab.open_feed(agent["username"], f"/?customer_id={alice}")
    tab.wait_live()
    factories.cash_out(db, bobs_bet, amount="3.00")
    factories.cash_out(db, alices_bet, amount="4.00")  # commits after Bob's, so arrives after it
    expect(rows(page)).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    assert bet_ids(page) == [alices_bet]
    expect(page.locator("#total-count")).to_have_text("1")
    expect(page.locator("#total-amount")).to_have_text("4.00")


def test_live_indicator_follows_the_network(tab: Tab, agent: dict[str, Any]) -> None:
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    expect(page.locator("#live-text")).to_have_text("Live")
    tab.context.set_offline(True)
    expect(page.locator("#live-indicator")).to_have_attribute("data-status", "offline")
    expect(page.locator("#live-text")).to_have_text("Offline")
    tab.context.set_offline(False)
    tab.wait_live()


def test_reset_after_a_long_absence_reloads_the_list(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection, server: LiveServer, settings: Settings
) -> None:
    tab.allow_error(
        r"ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING"
    )
    customer = factories.make_customer(db, agent["id"])
    first = factories.make_bet(db, customer)
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    factories.cash_out(db, first, amount="1.50")
    expect(rows(page)).to_have_count(1, timeout=LIVE_TIMEOUT_MS)

    # The server goes away; meanwhile more cash-outs commit than the stream replays.
    port = int(server.url.rsplit(":", 1)[1])
    server.stop()
    expect(page.locator("#live-indicator")).not_to_have_attribute("data-status", "live")
    db.execute(
        "insert into bets (user_id, stake, odds, selection, status, placed_at)"
        " select %s, 1.00, 2.0, 'Burst ' || g, 'open', now() from generate_series(1, 1005) g",
        (customer,),
    )
    db.execute(
        "update bets set status = 'cashed_out', cash_out_amount = 1.50, settled_at = now()"
        " where user_id = %s and status = 'open'",
        (customer,),
    )
    again = LiveServer(create_app(settings))
    again.server.config.port = port  # the page's origin must stay the same
    again.start()
    try:
        # The stream answers the stale position with `reset`; the page reloads the list.
        expect(page.locator("#total-count")).to_have_text("1,006", timeout=20000)
        expect(rows(page)).to_have_count(20)
        tab.wait_live()
        expect(page.locator("#toasts")).not_to_contain_text("new cash-outs")  # a reload, not news
    finally:
        tab.context.close()
        again.stop()


# ---- layout, accessibility, security -----------------------------------------------------


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


def test_phone_width_uses_cards_without_horizontal_scrolling(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection
) -> None:
    seed_a_busy_day(db, agent["id"])
    tab = open_tab(viewport=PHONE)
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    expect(rows(page)).to_have_count(20)
    assert no_horizontal_overflow(page)
    assert rows(page).first.evaluate("r => getComputedStyle(r).display") == "grid"  # a card
    expect(page.locator("#activity thead")).not_to_be_in_viewport()
    # Still a table to assistive technology: 20 rows plus the header row.
    expect(page.get_by_role("table", name="Cash-outs").get_by_role("row")).to_have_count(21)
    # Touch targets: every visible control at least 44 x 44 CSS pixels.
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, select, input, a.btn, [role=tab]')]
             .filter(e => e.offsetParent !== null)
             .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect()])
             .filter(([, r]) => r.width < 44 || r.height < 44)
             .map(([name, r]) => `${name}: ${r.width}x${r.height}`)"""
    )
    assert small == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feed-mobile.png"))
    rows(page).first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "feed-mobile-list.png"))
    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(24)
    assert no_horizontal_overflow(page)
    page.screenshot(path=str(ARTIFACTS / "feed-mobile-full.png"), full_page=True)


def test_desktop_width_uses_a_table_and_saves_a_screenshot(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection
) -> None:
    tab = open_tab(viewport={"width": 1280, "height": 1300})  # the list shows below the summary
    seed_a_busy_day(db, agent["id"])
    customer = factories.make_customer(db, agent["id"], factories.unique("live"))
    bet = factories.make_bet(db, customer, stake="25.00")
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    expect(page.locator("#activity thead")).to_be_visible()
    assert rows(page).first.evaluate("r => getComputedStyle(r).display") == "table-row"
    factories.cash_out(db, bet, amount="41.75", auto=True, reason="auto_profit_target")
    expect(page.locator("#toasts .toast")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    assert no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feed-desktop.png"))
    # `UPDATE_SCREENSHOT=1 uv run pytest -k desktop` refreshes the README's picture.
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "feed-desktop.png", DOCS_SCREENSHOT)


CONTRAST_SCRIPT = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || !el || el.closest('[hidden], .visually-hidden')) continue;
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const fg = lum(parse(style.color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${t.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}"""


def test_text_contrast_meets_wcag_aa(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    seed_a_busy_day(db, agent["id"])
    page = tab.open_feed(agent["username"])
    expect(page.locator("#m-total_cash_outs")).to_have_text("24")
    assert page.evaluate(CONTRAST_SCRIPT) == []
    page.get_by_role("button", name="Sign out").click()  # and the sign-in form
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.evaluate(CONTRAST_SCRIPT) == []


def test_keyboard_reaches_the_controls_with_a_visible_focus(
    tab: Tab, agent: dict[str, Any]
) -> None:
    page = tab.open_feed(agent["username"])
    page.keyboard.press("Tab")  # the skip link
    expect(page.get_by_role("link", name="Skip to the cash-out list")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent")
        )
    assert "signout" in seen and "tab-24h" in seen


def test_page_sends_a_strict_content_security_policy(tab: Tab, agent: dict[str, Any]) -> None:
    response = tab.goto("/")
    csp = response.headers["content-security-policy"]
    for part in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert part in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    tab.open_feed(agent["username"])  # and the whole page runs under it: no console errors


def test_a_whole_session_leaves_the_console_clean(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    seed_a_busy_day(db, agent["id"])
    customer = factories.make_customer(db, agent["id"])
    bet = factories.make_bet(db, customer)
    tab.goto("/")
    page = tab.page
    page.get_by_label("Username", exact=True).fill(agent["username"])
    page.get_by_label("Password", exact=True).fill(agent["password"])
    page.get_by_label("Password", exact=True).press("Enter")
    tab.wait_live()
    page.get_by_role("tab", name="7d").click()
    page.get_by_label("Customer", exact=True).select_option(str(customer))
    expect(page.locator("#list-state")).to_have_text(re.compile("No cash-outs match"))
    factories.cash_out(db, bet, amount="10.00")
    expect(rows(page)).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(25)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-view")).to_be_visible()
    assert tab.errors == []


def test_money_sums_are_exact_and_reasons_read_as_words(tab: Tab) -> None:
    tab.goto("/")
    result = tab.page.evaluate(
        """async () => {
          const m = await import('/static/js/money.js');
          const f = await import('/static/js/format.js');
          const sum = (...xs) => m.formatCents(xs.map(m.toCents).reduce((a, b) => a + b, 0n),
                                               { signed: true });
          return {
            tenths: sum('0.10', '0.20'),
            big: sum('99999999999999.99', '0.01', '-0.02'),
            negative: sum('-45.00', '12.5'),
            zero: sum('-1.01', '1.01'),
            plain: m.formatMoney('1234567.80'),
            reasons: ['auto_profit_target', 'auto_stop_loss', 'auto_threshold', 'manual',
                      'profit_target', 'AUTO_TRAILING-stop', 'weird__thing', null, '']
                     .map(f.reasonLabel),
          };
        }"""
    )
    assert result == {
        "tenths": "+0.30",
        "big": "+99,999,999,999,999.98",
        "negative": "−32.50",
        "zero": "±0.00",
        "plain": "1,234,567.80",
        "reasons": [
            "Profit target",
            "Stop loss",
            "Threshold",
            "Manual",
            "Profit target",
            "Trailing stop",
            "Weird thing",
            None,
            None,
        ],
    }
