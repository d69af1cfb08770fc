"""Layout at phone and desktop widths, with screenshots in test-artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests import factories
from tests.page.browser import (
    ARTIFACTS,
    DOCS_SCREENSHOT,
    LIVE_TIMEOUT_MS,
    PHONE,
    Tab,
    no_horizontal_overflow,
    rows,
    seed_a_busy_day,
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
