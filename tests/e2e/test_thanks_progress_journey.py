"""Thanking sixty donors from the browser: the button answers with a progress bar at once (the
letters are not written in the request), the bar advances as a real consumer writes them, and
the letters appear when it is done, without the page being reloaded."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Acknowledgement, Donation
from tests.fixtures.factories import many_donors

pytestmark = pytest.mark.e2e
DONORS = 60


def test_staff_thank_sixty_donors_and_watch_the_progress(
        app: Flask, live_server: Any, page: Page, sign_in: Any, make_user: Any, consumer_process: Any,
        console_errors: Any) -> None:
    staff_email = make_user(roles=["staff"], name="Emma Clarke").email
    donors = [donor.id for donor in many_donors(DONORS)]
    db.session.commit()
    consumer_process(THANKS_CHUNK=3, LETTER_WORKERS=1)
    console_errors.watch(page)

    sign_in(page, staff_email)
    page.goto(f"{live_server.url}/donors/donations")
    page.get_by_role("button", name="Acknowledge all pending", exact=True).click()
    expect(page).to_have_url(re.compile(r"/donors/batches/\d+$"))
    progress = page.locator("#batch-body progress")
    expect(progress).to_have_attribute("max", str(DONORS))
    first_value = int(progress.get_attribute("value") or "0")
    assert first_value < DONORS  # the request did not write the letters
    page.evaluate("window.stillTheSamePage = true")

    # The bar moves on its own: a value strictly between the start and the end shows up.
    expect(progress).to_have_attribute("value", re.compile(r"^([1-9]|[1-5]\d)$"), timeout=60_000)
    expect(page.locator("#batch-body")).to_contain_text(
        f"{DONORS} letters issued for {DONORS} gifts: 20 by e-mail, 20 by post, 20 kept on file.", timeout=120_000)
    expect(page.locator("#batch-body progress")).to_have_count(0)
    expect(page.locator("#batch-body table tbody tr")).to_have_count(DONORS)
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, never reloaded

    db.session.expire_all()
    assert Counter(db.session.scalars(select(Acknowledgement.donor_id))) == Counter({d: 1 for d in donors})
    assert db.session.scalar(select(func.count()).select_from(Donation)
                             .where(Donation.acknowledgement_id.is_(None))) == 0
    assert console_errors == []
