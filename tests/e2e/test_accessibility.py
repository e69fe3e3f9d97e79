"""The new screens pass axe-core with no serious or critical violation, in English and in
Russian: the inbox (with items and their one-click actions, and after one), the impact page,
and a batch of thanks (its progress while it runs, its letters when done)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.fixtures.factories import many_donors
from tests.fixtures.tasks import run_queued_tasks

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_inbox_and_a_batch_page_pass_axe(app: Flask, live_server: Any, page: Page, sign_in: Any,
                                             make_user: Any, make_application: Any, make_conference: Any,
                                             axe: Any, language: str) -> None:
    base = live_server.url
    staff = make_user(roles=["staff"], name="Emma Clarke")
    make_application(submitted_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    make_conference(confirmed=False, name="Proposed Congress")
    many_donors(3)
    staff_email = staff.email
    db.session.commit()

    sign_in(page, staff_email)
    staff.preferred_language = language  # the pages from here on in this language
    db.session.commit()
    page.goto(f"{base}/inbox")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#inbox-list tbody tr")).to_have_count(5)
    assert axe(page) == []
    page.goto(f"{base}/inbox?module=catalogue")
    page.locator("#inbox-list tbody tr form button").click()
    expect(page.locator("#inbox-list tr.done")).to_have_count(1)
    assert axe(page) == []

    page.goto(f"{base}/impact")
    expect(page.locator("h1")).to_be_visible()
    assert axe(page) == []

    page.goto(f"{base}/donors/donations")
    page.locator("form[action$='/acknowledge-all'] button").click()
    expect(page.locator("#batch-body progress")).to_have_count(1)  # queued: nobody consumes yet
    assert axe(page) == []
    run_queued_tasks(app)
    expect(page.locator("#batch-body table tbody tr")).to_have_count(3, timeout=15_000)  # the poll brings them
    assert axe(page) == []
