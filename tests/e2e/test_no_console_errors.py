"""The main pages run without console errors: no CSP violation, no script error, no failed load."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

pytestmark = pytest.mark.e2e

PAGES = ["/", "/conferences", "/clinics", "/profile"]


def test_staff_pages_have_no_console_errors(live_server: Any, page: Page, sign_in: Any, make_user: Any,
                                            make_clinic: Any, make_conference: Any) -> None:
    make_clinic()
    make_conference(confirmed=False)  # a proposal: the row carries an htmx confirm form
    staff = make_user(roles=["staff"])

    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error on {page.url}: {message.text} ({message.location})")

    def on_page_error(error: Error) -> None:
        problems.append(f"uncaught error on {page.url}: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)

    sign_in(page, staff.email)
    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        expect(page.locator("main h1")).to_be_visible()
        # The deferred scripts have run: htmx is there and has processed the page.
        page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")

    assert problems == []
