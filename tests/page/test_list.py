"""The cash-out list: rows with their colours, badges and reasons; empty; load more."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests import factories
from tests.page.browser import (
    LIVE_TIMEOUT_MS,
    Tab,
    bet_ids,
    row_for,
    rows,
    settled,
)

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
