"""Browser tests: pytest-playwright drives the Debian Chromium against ``live_server``.

Playwright cannot download its own browsers here, so the launch points it at
``/usr/bin/chromium``. Without that browser the tests skip, which the root conftest
turns into a failure under ``CI=true``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A fixed browser language: a visitor's first pages follow Accept-Language.
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def sign_in(live_server: Any) -> Callable[..., None]:
    """``sign_in(page, email, password)``: sign in through the login form, land on the dashboard
    (staff and finance: on their inbox)."""

    def _sign_in(page: Page, email: str, password: str = "correct horse battery") -> None:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("E-mail address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(inbox)?$"))
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    return _sign_in


class ConsoleErrors(list[str]):
    """Script errors, CSP violations and failed loads (they show as console errors) on watched pages."""

    def watch(self, page: Page) -> Page:
        page.on("console", lambda message: self.append(f"{page.url}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: self.append(f"{page.url}: {error.message}"))
        return page


@pytest.fixture
def console_errors() -> ConsoleErrors:
    """``console_errors.watch(page)``; assert ``console_errors == []`` at the end of the test."""
    return ConsoleErrors()


@pytest.fixture(scope="session")
def axe() -> Any:
    """``axe(page)``: the serious and critical accessibility violations axe-core finds on the
    page as it is now, as "rule (impact): target, …" lines (empty when there are none)."""
    from axe_playwright_python.sync_playwright import Axe

    engine = Axe()

    def _check(page: Page) -> list[str]:
        found = engine.run(page).response["violations"]
        return [f"{v['id']} ({v['impact']}): " + ", ".join(" ".join(n["target"]) for n in v["nodes"])
                for v in found if v["impact"] in ("serious", "critical")]

    return _check
