"""Cash-outs arriving live: new rows, toasts, totals, the indicator, a reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import expect

from app.config import Settings
from app.main import create_app
from tests import factories
from tests.conftest import LiveServer
from tests.page.browser import (
    LIVE_TIMEOUT_MS,
    Tab,
    bet_ids,
    rows,
    settled,
)


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
