"""A whole session, sign-in to sign-out, with a clean console."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests import factories
from tests.page.browser import (
    LIVE_TIMEOUT_MS,
    Tab,
    rows,
    seed_a_busy_day,
)


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
