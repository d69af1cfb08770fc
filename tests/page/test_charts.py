"""The daily chart and the customer drill-down in a real browser (Debian's Chromium).

The fixtures (``browser``, ``open_tab``, ``tab``: a signed-in page on the live
app that fails the test on any console error) are in tests/page/conftest.py.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from app.db.queries import Queries
from app.demo import seed
from tests import factories
from tests.conftest import LiveServer
from tests.page.browser import (
    ARTIFACTS,
    DESKTOP,
    LIVE_TIMEOUT_MS,
    PHONE,
    Tab,
    bet_ids,
    no_horizontal_overflow,
    rows,
    settled,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
GAIN, LOSS = "rgb(4, 108, 78)", "rgb(185, 28, 28)"
ZONE = "Europe/London"


def chart_days(page: Page) -> list[dict[str, str]]:
    return list(
        page.locator("#chart .day").evaluate_all(
            "groups => groups.map(g => ({day: g.dataset.day, pl: g.dataset.pl,"
            " count: g.dataset.count, kind: g.dataset.kind}))"
        )
    )


def local_today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def expected_days(bets: list[tuple[datetime, str, str]], zone: str, days: int) -> list[dict]:
    """Per local day: (settled_at, stake, amount) summed here, independently of the app."""
    per_day: dict[date, list[Decimal]] = defaultdict(list)
    for when, stake, amount in bets:
        per_day[when.astimezone(ZoneInfo(zone)).date()].append(Decimal(amount) - Decimal(stake))
    today = local_today(zone)
    result = []
    for n in range(days - 1, -1, -1):
        day = today - timedelta(days=n)
        values = per_day.get(day, [])
        pl = sum(values, Decimal("0.00"))
        kind = "gain" if pl > 0 else "loss" if pl < 0 else "zero"
        result.append(
            {"day": day.isoformat(), "pl": str(pl), "count": str(len(values)), "kind": kind}
        )
    return result


def spread_bets(db: psycopg.Connection, customer: int) -> list[tuple[datetime, str, str]]:
    """Gains, losses, a break-even day and empty days over the last 40 days."""
    now = datetime.now(UTC)
    plan = [
        (0, "10.00", "12.50"),
        (1, "20.00", "5.00"),
        (1, "5.00", "6.00"),
        (3, "8.00", "8.00"),
        (5, "10.00", "30.00"),
        (9, "50.00", "10.00"),
        (20, "10.00", "11.00"),
        (29, "10.00", "1.00"),
        (35, "10.00", "99.00"),  # only in the 90-day view
    ]
    bets = []
    for days_ago, stake, amount in plan:
        when = now - timedelta(days=days_ago, minutes=5)
        settled(db, customer, stake, amount, at=when)
        bets.append((when, stake, amount))
    return bets


def test_the_chart_draws_one_bar_per_day_with_the_right_signs(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection
) -> None:
    tab = open_tab(timezone_id=ZONE)
    customer = factories.make_customer(db, agent["id"])
    bets = spread_bets(db, customer)
    page = tab.open_feed(agent["username"])
    days = page.locator("#chart .day")
    expect(days).to_have_count(30)
    assert chart_days(page) == expected_days(bets, ZONE, 30)
    assert any(d["kind"] == "loss" for d in chart_days(page))
    # Red and green as in the list, and bars above and below the zero line.
    gain = page.locator('#chart .day[data-kind="gain"] .bar').first
    loss = page.locator('#chart .day[data-kind="loss"] .bar').first
    expect(gain).to_have_css("fill", GAIN)
    expect(loss).to_have_css("fill", LOSS)
    zero = page.locator("#chart .zero").bounding_box()
    assert zero is not None
    gain_box, loss_box = gain.bounding_box(), loss.bounding_box()
    assert gain_box is not None and loss_box is not None
    assert gain_box["y"] + gain_box["height"] <= zero["y"] + 1
    assert loss_box["y"] >= zero["y"] - 1
    # Today is marked and labelled.
    expect(page.locator("#chart .day.is-today")).to_have_attribute(
        "data-day", local_today(ZONE).isoformat()
    )
    expect(page.locator("#chart .is-today .day-label")).to_have_text("Today")
    expect(page.locator("#chart-caption")).to_contain_text(ZONE)

    page.get_by_role("button", name="7 days").click()
    expect(days).to_have_count(7)
    assert chart_days(page) == expected_days(bets, ZONE, 7)
    page.get_by_role("button", name="90 days").click()
    expect(days).to_have_count(90)
    assert chart_days(page) == expected_days(bets, ZONE, 90)
    assert "days=90" in page.url
    page.reload()
    expect(days).to_have_count(90)
    expect(page.get_by_role("button", name="90 days")).to_have_attribute("aria-pressed", "true")


def test_the_chart_has_a_table_and_a_tooltip(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    bets = spread_bets(db, customer)
    page = tab.open_feed(agent["username"])
    expect(page.locator("#chart .day")).to_have_count(30)
    # The text alternative: a table a screen reader reaches, with signed values.
    table = page.get_by_role("table", name="Daily net P/L of your customers, oldest first")
    expect(table.locator("tbody tr")).to_have_count(30)
    expected = expected_days(bets, "UTC", 30)
    last = table.locator("tbody tr").last
    expect(last.locator("td").first).to_have_text(expected[-1]["count"])
    expect(last.locator(".pl-amount")).to_have_text("+2.50")
    expect(table.locator(".pl-loss")).to_have_count(sum(1 for d in expected if d["kind"] == "loss"))
    toggle = page.get_by_role("button", name="Show as table")
    toggle.click()
    expect(page.get_by_role("button", name="Hide table")).to_have_attribute("aria-expanded", "true")
    expect(table).to_be_visible()
    # Hover shows the day's figures; so do the arrow keys, spoken politely.
    page.locator("#chart .is-today .band").hover()
    tip = page.locator("#chart .chart-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("+2.50")
    expect(tip).to_contain_text("1 cash-out")
    plot = page.get_by_role("group", name="Arrow keys move between days")
    plot.focus()
    plot.press("End")
    plot.press("ArrowLeft")
    yesterday = expected[-2]
    assert yesterday["pl"] == "-14.00"
    expect(tip).to_contain_text("−14.00")
    expect(tip).to_contain_text("2 cash-outs")
    expect(page.locator("#chart [aria-live=polite]")).to_contain_text("−14.00")
    plot.press("Escape")
    expect(tip).to_be_hidden()


def test_todays_bar_follows_a_live_cash_out(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"])
    settled(db, customer, "10.00", "12.00", at=datetime.now(UTC) - timedelta(minutes=2))
    bet = factories.make_bet(db, customer, stake="10.00")
    page = tab.open_feed(agent["username"])
    tab.wait_live()
    today = page.locator("#chart .day.is-today")
    expect(today).to_have_attribute("data-pl", "2.00")
    expect(today).to_have_attribute("data-count", "1")
    factories.cash_out(db, bet, amount="4.00")  # −6.00: today turns into a loss
    expect(today).to_have_attribute("data-pl", "-4.00", timeout=LIVE_TIMEOUT_MS + 2000)
    expect(today).to_have_attribute("data-count", "2")
    expect(today).to_have_attribute("data-kind", "loss")
    expect(today.locator(".bar")).to_have_css("fill", LOSS)


def test_the_drill_down_opens_from_a_name_filters_and_back_returns(
    tab: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    alice = factories.make_customer(db, agent["id"], factories.unique("alice"))
    bob = factories.make_customer(db, agent["id"], factories.unique("bob"))
    now = datetime.now(UTC)
    hers = [
        settled(db, alice, "10.00", "15.00", at=now - timedelta(hours=2)),
        settled(db, alice, "10.00", "4.00", at=now - timedelta(days=3)),
    ]
    his = [settled(db, bob, "10.00", "2.00", at=now - timedelta(hours=1))]
    page = tab.open_feed(agent["username"])
    expect(rows(page)).to_have_count(3)
    feed_url = page.url

    page.locator(f'#activity-body tr[data-bet-id="{hers[0]}"] .customer-link').click()
    panel = page.locator("#customer-panel")
    expect(panel).to_be_visible()
    assert page.url.endswith(f"#customer={alice}&period=30")
    title = db.execute("select display_name from users where id = %s", (alice,)).fetchone()
    expect(page.locator("#customer-title")).to_have_text(title[0])
    expect(page.locator("#customer-title")).to_be_focused()
    # Their cash-outs only, their totals, their export, their chart.
    expect(rows(page)).to_have_count(2)
    assert bet_ids(page) == hers
    expect(page.locator("#total-pl")).to_have_text("−1.00")
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(f"/activity/export\\?customer_id={alice}&tz=UTC$")
    )
    counts = [int(d["count"]) for d in chart_days(page)]
    assert (len(counts), sum(counts)) == (30, 2)
    # Their summary for 24 hours, 7 days and 30 days.
    periods = page.get_by_role("table", name="This customer's figures by period")
    expect(periods.get_by_role("columnheader")).to_have_text(["24 hours", "7 days", "30 days"])
    net = periods.get_by_role("row", name="Net P/L")
    expect(net.locator("td .pl-amount")).to_have_text(["+5.00", "−1.00", "−1.00"])
    expect(periods.get_by_role("row", name="Cash-outs").locator("td")).to_have_text(["1", "2", "2"])
    expect(page.locator(".summary")).to_be_hidden()
    expect(page.locator("#filters")).to_be_hidden()

    page.go_back()
    expect(panel).to_be_hidden()
    expect(rows(page)).to_have_count(3)
    assert page.url == feed_url
    expect(page.locator(".summary")).to_be_visible()
    expect(page.locator("#chart-title")).to_have_text("Daily net P/L")

    # From the top customers too; the panel's own button goes back the same way.
    page.locator(f'#top-customers [href="#customer={bob}"]').click()
    expect(panel).to_be_visible()
    expect(rows(page)).to_have_count(1)
    assert bet_ids(page) == his
    page.get_by_role("button", name="All customers").click()
    expect(panel).to_be_hidden()
    expect(rows(page)).to_have_count(3)
    assert page.url == feed_url


def test_a_shared_drill_down_link_opens_directly(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection
) -> None:
    alice = factories.make_customer(db, agent["id"])
    bob = factories.make_customer(db, agent["id"])
    now = datetime.now(UTC)
    hers = settled(db, alice, "10.00", "15.00", at=now - timedelta(hours=2))
    settled(db, bob, "10.00", "2.00", at=now - timedelta(hours=1))
    link = f"/#customer={alice}&period=7"

    # Signed out, the link asks for the sign-in first, then opens the panel.
    tab = open_tab()
    tab.goto(link)
    page = tab.page
    page.get_by_label("Username", exact=True).fill(agent["username"])
    page.get_by_label("Password", exact=True).fill(agent["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#customer-panel")).to_be_visible()
    expect(page.locator("#chart .day")).to_have_count(7)
    expect(page.get_by_role("button", name="7 days")).to_have_attribute("aria-pressed", "true")
    expect(rows(page)).to_have_count(1)
    assert bet_ids(page) == [hers]
    assert page.url.endswith(link)
    # The period toggle is part of the link.
    page.get_by_role("button", name="90 days").click()
    expect(page.locator("#chart .day")).to_have_count(90)
    assert page.url.endswith(f"#customer={alice}&period=90")

    # Opened straight from the link, the panel's button still leads to the feed.
    page.get_by_role("button", name="All customers").click()
    expect(page.locator("#customer-panel")).to_be_hidden()
    expect(rows(page)).to_have_count(2)
    assert "#customer" not in page.url

    # Another agent's customer: a clear message, no figures.
    other = factories.make_customer(db, factories.make_agent(db))
    stranger = open_tab()
    stranger.allow_error(r"status of 404")
    stranger.open_feed(agent["username"], f"/#customer={other}")
    expect(stranger.page.locator("#customer-status")).to_have_text(
        f"Customer #{other} is not one of your customers."
    )
    expect(stranger.page.locator("#customer-periods td")).to_have_count(0)


@pytest.fixture
def phone(browser: Browser, server: LiveServer) -> Iterator[Tab]:
    """A touch screen 360 px wide; fails the test on a console error, as open_tab does."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="en-GB")
    tab = Tab(context, server)
    yield tab
    problems = tab.unexpected_errors()
    context.close()
    assert problems == [], f"console errors: {problems}"


def test_no_horizontal_overflow_at_360_px_and_a_tap_shows_the_day(
    phone: Tab, agent: dict[str, Any], db: psycopg.Connection
) -> None:
    customer = factories.make_customer(db, agent["id"], "a_customer_with_a_long_username_indeed")
    spread_bets(db, customer)
    page = phone.open_feed(agent["username"])
    for days in ("7 days", "30 days", "90 days"):
        page.get_by_role("button", name=days).click()
        expect(page.get_by_role("button", name=days)).to_have_attribute("aria-pressed", "true")
        page.locator("#chart .is-today .band").tap()  # the tooltip at the right edge
        expect(page.locator("#chart .chart-tip")).to_contain_text("+2.50")
        assert no_horizontal_overflow(page), days
        page.locator("#chart .day").first.locator(".band").tap()  # and at the left edge
        assert no_horizontal_overflow(page), days
    page.get_by_role("button", name="Show as table").click()
    assert no_horizontal_overflow(page)
    page.locator("#activity-body .customer-link").first.click()
    expect(page.locator("#customer-periods tbody td")).to_have_count(18)
    assert no_horizontal_overflow(page)


def test_missing_names_and_selections_show_a_fallback(tab: Tab) -> None:
    tab.goto("/")
    result = tab.page.evaluate(
        """async () => {
          const row = await import('/static/js/row.js');
          const f = await import('/static/js/format.js');
          const item = {event_id: null, bet_id: 7, customer_id: 42, customer_username: null,
            selection: null, stake: '10.00', cash_out_amount: '12.50', profit_loss: '2.50',
            return_ratio: '1.2500', is_auto_cash_out: false, cash_out_trigger_reason: null,
            placed_at: '2026-11-24T09:40:00Z', settled_at: '2026-11-24T10:05:00Z'};
          const tr = row.renderRow(item);
          return {
            customer: tr.querySelector('.cell-customer').textContent,
            href: tr.querySelector('.customer-link').getAttribute('href'),
            selection: tr.querySelector('.cell-selection').textContent,
            named: f.displayName({id: 4, username: 'jdoe', display_name: 'John Doe'}),
            unnamed: f.displayName({id: 4, username: 'jdoe', display_name: null}),
            empty: f.displayName({id: 4, username: 'jdoe', display_name: ''}),
          };
        }"""
    )
    assert result == {
        "customer": "Customer #42",
        "href": "#customer=42",
        "selection": "—",
        "named": "John Doe",
        "unnamed": "jdoe",
        "empty": "jdoe",
    }


# ---- screenshots for the docs ----------------------------------------------------------


def test_screenshots_of_the_chart_and_the_drill_down(
    open_tab: Callable[..., Tab], agent: dict[str, Any], db: psycopg.Connection, database_url: str
) -> None:
    """The demo's own data (app.demo.seed); `UPDATE_SCREENSHOT=1` copies them to docs/."""
    demo = seed(database_url, Queries.load())
    db.execute(  # the tabs sign in with the test password
        "update cashout_feed.credentials set password_hash = %s where agent_id = %s",
        (factories.password_hash(), demo.agent_id),
    )
    busiest = db.execute(
        "select customer_id from cashout_feed.cash_outs where agent_id = %s"
        " group by 1 order by count(*) desc, 1 limit 1",
        (demo.agent_id,),
    ).fetchone()
    assert busiest is not None
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = open_tab(viewport=viewport, timezone_id=ZONE)
        page = tab.open_feed(demo.username)
        expect(page.locator("#chart .day")).to_have_count(30)
        page.locator("section.chart").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -12)")
        page.locator("#chart .day").nth(-4).locator(".band").hover()
        expect(page.locator("#chart .chart-tip")).to_be_visible()
        assert no_horizontal_overflow(page)
        shots[f"chart-{name}.png"] = page.screenshot()

        page.locator(f'#top-customers [href="#customer={busiest[0]}"]').click()
        expect(page.locator("#customer-periods tbody td")).to_have_count(18)
        expect(page.locator("#chart .day")).to_have_count(30)
        expect(page.locator("#list-state")).to_have_attribute("data-state", "ready")
        page.mouse.move(0, 0)
        page.evaluate("window.scrollTo(0, 0)")
        assert no_horizontal_overflow(page)
        shots[f"drilldown-{name}.png"] = page.screenshot()
    for file, png in shots.items():
        (ARTIFACTS / file).write_bytes(png)
        if os.environ.get("UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(ARTIFACTS / file, DOCS / file)
