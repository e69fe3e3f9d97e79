"""What the portal logs of a real browser's journey: a doctor registers through the e-mailed link,
fills in the passport details, downloads their data, forgets the password, opens the reset link
and sets a new one. Every request the browser made has its one line with a request id (static
files too), and nothing logged holds the passport number, a password, a token from a link or
the session cookie."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage
from portal.request_log import JsonFormatter, TextFormatter
from tests.fixtures.logs import Records
from tests.fixtures.tasks import run_queued_tasks

pytestmark = pytest.mark.e2e

NAME = "Irina Volkova"
EMAIL = "irina.volkova@example.org"
PASSWORD = "a long and secret passphrase"
NEW_PASSWORD = "another secret passphrase 2"
PASSPORT_NUMBER = "751234567"
PROFILE = {
    "Full name as in passport": "IRINA VOLKOVA",
    "Nationality": "Russian",
    "Passport number": PASSPORT_NUMBER,
    "Passport expiry date": "2031-06-30",
    "Date of birth": "1986-02-14",
}


@pytest.fixture
def logged() -> Iterator[dict[str, list[logging.LogRecord]]]:
    """Every record of the ``portal`` loggers, and every record that reaches the root logger
    (Werkzeug's server among them)."""
    portal, root = Records(), Records()
    logging.getLogger("portal").addHandler(portal)
    logging.getLogger().addHandler(root)
    yield {"portal": portal.records, "root": root.records}
    logging.getLogger("portal").removeHandler(portal)
    logging.getLogger().removeHandler(root)


def field(page: Page, label: str) -> Any:
    return page.get_by_label(label, exact=True)


def link_in_mail(kind: str) -> str:
    """The path of the link in the latest e-mail to the doctor that holds ``/<kind>/``."""
    bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.recipient == EMAIL)
                                .order_by(OutboxMessage.id.desc())).all()
    for body in bodies:
        found = re.search(rf"https?://\S+(/{kind}/\S+)", body)
        if found:
            return urlsplit(found.group(0)).path
    raise AssertionError(f"no e-mail with a /{kind}/ link: {bodies}")


def test_the_log_of_a_doctors_journey_holds_no_secret(app: Flask, live_server: Any, page: Page,
                                                      logged: dict[str, list[logging.LogRecord]]) -> None:
    base = live_server.url
    requests: list[str] = []
    ids: list[str | None] = []
    page.context.on("request", lambda r: requests.append(r.url) if r.url.startswith(base) else None)

    def on_response(response: Any) -> None:
        if response.url.startswith(base):
            ids.append(response.headers.get("x-request-id"))

    page.context.on("response", on_response)
    failed: list[str] = []
    page.context.on("requestfailed", lambda r: failed.append(r.url))

    def loaded() -> None:  # the page and everything it loads answered: no request left in flight
        page.wait_for_load_state("load")

    cookies: set[str] = set()
    csrf_tokens: set[str] = set()

    def note_cookies_and_form_token() -> None:
        cookies.update(c["value"] for c in page.context.cookies(base))
        for token in page.locator("input[name=csrf_token]").evaluate_all("inputs => inputs.map(i => i.value)"):
            csrf_tokens.add(token)

    # Register; the e-mailed link creates the account and signs the doctor in.
    page.goto(f"{base}/register")
    field(page, "Full name").fill(NAME)
    field(page, "E-mail address").fill(EMAIL)
    field(page, "New password").fill(PASSWORD)
    field(page, "Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/login")
    loaded()
    registration = link_in_mail("register")
    page.goto(base + registration)
    expect(page).to_have_url(f"{base}/profile")
    note_cookies_and_form_token()

    # The passport details, saved.
    for label, value in PROFILE.items():
        field(page, label).fill(value)
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#flashes")).to_have_text("Your profile has been saved.")
    expect(page.locator("#passport_number")).to_have_value(PASSPORT_NUMBER)
    loaded()
    note_cookies_and_form_token()

    # The doctor's data as a ZIP: written in the background, its link (with a token) appears in place.
    page.locator("form[action$='/profile/data-export'] button").click()
    expect(page).to_have_url(re.compile(r"/data-exports/\d+$"))
    loaded()
    run_queued_tasks(app)
    download_link = page.locator("#export-download")
    expect(download_link).to_be_visible(timeout=15_000)  # the page's own poll brings it
    export_path = urlsplit(download_link.get_attribute("href") or "").path
    with page.expect_download() as download:
        download_link.click()
    assert download.value.failure() is None
    # Playwright reports no request event for a download (nor can a route see it): it is counted here.
    requests.append(download.value.url)
    # The same file fetched again with the browser's cookies, to read the answer's headers.
    again = page.request.get(download.value.url)
    assert again.ok and again.headers["content-type"] == "application/zip"
    requests.append(again.url)
    file_id = again.headers.get("x-request-id")
    note_cookies_and_form_token()

    # Signed out, the password forgotten: the reset link sets a new one.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/login")
    loaded()
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page).to_have_url(f"{base}/password/forgot")
    loaded()
    field(page, "E-mail address").fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(f"{base}/login")
    loaded()
    reset = link_in_mail("password/reset")
    page.goto(base + reset)
    note_cookies_and_form_token()
    field(page, "New password").fill(NEW_PASSWORD)
    field(page, "Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page).to_have_url(f"{base}/login")
    expect(page.locator("#flashes")).to_contain_text("Your password has been changed.")
    loaded()

    # And in with the new password.
    field(page, "E-mail address").fill(EMAIL)
    field(page, "Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    loaded()
    note_cookies_and_form_token()

    lines: list[dict[str, Any]] = [r.portal_request for r in logged["portal"]  # type: ignore[attr-defined]
                                   if r.name == "portal.requests"]
    logged_ids = [line["request_id"] for line in lines]
    assert failed == [], "a request was cancelled: the test moved on before a page had loaded"
    assert len(lines) == len(requests), (requests, lines)
    assert len(set(logged_ids)) == len(logged_ids)
    # Every answer the browser saw, and the file fetched again, carried the id of its line; the
    # one line left over is the browser's download.
    assert None not in ids and len(ids) == len(set(ids))
    assert set(ids) | {file_id} <= set(logged_ids)
    (left_over,) = [line for line in lines if line["request_id"] not in set(ids) | {file_id}]
    files = [line for line in lines if line["endpoint"] == "core.data_export_download"]
    assert left_over in files and len(files) == 2
    assert [f["status"] for f in files] == [200, 200] and files[0]["user"] == files[1]["user"] != "-"
    rules = {line["rule"] for line in lines}
    assert {"/register/<token>", "/password/reset/<token>", "/data-exports/<int:export_id>/<token>.zip",
            "/static/<path:filename>"} <= rules, rules

    # Nothing logged, in either format, by the portal or anything else (Werkzeug's server), holds a secret.
    text = "\n".join(formatter.format(record) for record in logged["portal"] + logged["root"]
                     for formatter in (TextFormatter(), JsonFormatter()))
    secrets = {
        "the passport number": PASSPORT_NUMBER,
        "the first password": PASSWORD,
        "the new password": NEW_PASSWORD,
        "the registration token": registration.rsplit("/", 1)[-1],
        "the reset token": reset.rsplit("/", 1)[-1],
        "the export's token": export_path.rsplit("/", 1)[-1].removesuffix(".zip"),
        "the e-mail address": EMAIL,
        **{f"cookie {value[:8]}…": value for value in cookies},
        **{f"form token {value[:8]}…": value for value in csrf_tokens},
    }
    assert len(cookies) >= 2  # the session cookie changed as the doctor signed in, out and in
    leaked = [what for what, value in secrets.items() if value in text]
    assert leaked == []
