"""The page's security headers, and the page running under its CSP."""

from __future__ import annotations

from typing import Any

from tests.page.browser import (
    Tab,
)


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
