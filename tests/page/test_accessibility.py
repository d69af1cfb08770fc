"""Accessibility: WCAG AA text contrast and keyboard focus."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import expect

from tests.page.browser import (
    Tab,
    seed_a_busy_day,
)

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
