"""The screens this round changed, in English and Russian, each passing axe-core: a thank-you
letter's public check (labelled as a thank-you letter, not as an event), the application page
with what the visa letter will need, the withdrawal's confirmation page, the review queue with a
proposed conference, the profile's bank details and the payments page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Letter
from tests.fixtures.factories import many_donors

pytestmark = pytest.mark.e2e

LABELS = {"en": ("Thanks for gifts of", "Your visa letter will need", "Withdraw your application?"),
          "ru": ("Благодарность за пожертвования", "Для визового письма понадобится", "Отозвать заявку?")}


def as_reader(page: Page, sign_in: Any, user: Any, language: str) -> None:
    page.context.clear_cookies()
    sign_in(page, user.email)
    user.preferred_language = language
    db.session.commit()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_changed_screens_read_in_both_languages_and_pass_axe(
        live_server: Any, page: Page, sign_in: Any, make_user: Any, make_application: Any, make_conference: Any,
        axe: Any, language: str) -> None:
    thanks, needs, withdraw = LABELS[language]
    base = live_server.url
    staff, finance = make_user(roles=["staff"]), make_user(roles=["finance"])
    doctor = make_user(roles=["doctor"])  # an empty profile
    proposal = make_conference(confirmed=False, name="Baltic Haematology Days", proposed_by_id=doctor.id)
    application = make_application(doctor=doctor, conference=proposal, status="submitted")
    many_donors(1)
    db.session.commit()

    as_reader(page, sign_in, staff, language)
    page.goto(f"{base}/applications/review")
    expect(page.locator(f"#application-{application.id} .badge")).to_be_visible()
    assert axe(page) == []
    page.goto(f"{base}/donors/donations")
    page.locator("form[action$='/acknowledge'] button").first.click()
    expect(page.locator(".status-completed").first).to_be_visible(timeout=30_000)
    db.session.expire_all()
    token = db.session.scalars(db.select(Letter.token)).one()
    page.goto(f"{base}/verify/{token}")
    expect(page.locator("dl.facts")).to_contain_text(thanks)
    assert axe(page) == []

    as_reader(page, sign_in, doctor, language)
    page.goto(f"{base}/applications/{application.id}")
    expect(page.locator("#letter-needs h2")).to_have_text(needs)
    assert axe(page) == []
    page.goto(f"{base}/applications/{application.id}/withdraw")  # the page a browser without JavaScript gets
    expect(page.locator("#withdraw-title")).to_have_text(withdraw)
    assert axe(page) == []
    page.goto(f"{base}/profile")
    expect(page.locator("#bank-title")).to_be_visible()
    assert axe(page) == []

    as_reader(page, sign_in, finance, language)
    page.goto(f"{base}/expenses/payments")
    assert axe(page) == []
