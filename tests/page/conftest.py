"""The browser and its tabs for the page tests (helpers in tests/page/browser.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import LiveServer
from tests.page.browser import CHROMIUM, DESKTOP, Tab


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Debian's Chromium is not at {CHROMIUM}: .ci/run installs it"
            " (apt-get install -y chromium)",
            pytrace=False,
        )
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
