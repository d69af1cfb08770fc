"""The list's filters: customer, dates in the browser's time zone, errors, reloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import expect

from tests import factories
from tests.page.browser import (
    Tab,
    bet_ids,
    rows,
    settled,
)


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
