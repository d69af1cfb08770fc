"""The summary widget: every metric, the top customers, the period tabs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests import factories
from tests.page.browser import (
    Tab,
    settled,
)


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
