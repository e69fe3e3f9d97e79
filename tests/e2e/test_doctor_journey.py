"""A doctor registers (through the e-mailed link), completes the profile, signs out and in, and switches to Russian."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage

pytestmark = pytest.mark.e2e

NAME = "Anna Petrova"
EMAIL = "anna.petrova@example.org"
PASSWORD = "a long and secret passphrase"

PROFILE = {
    "Phone": "+7 495 123 45 67",
    "Specialty": "Paediatric haematology",
    "Position": "Senior resident",
    "Full name as in passport": "ANNA PETROVA",
    "Nationality": "Russian",
    "Passport number": "AB1234567",
    "Passport expiry date": "2031-06-30",
}
DATE_OF_BIRTH = "1985-04-12"


def field(page: Page, label: str) -> Any:
    # exact: "Full name" must not also find "Full name as in passport".
    return page.get_by_label(label, exact=True)


def test_doctor_registers_completes_profile_and_switches_to_russian(
        live_server: Any, page: Page, browser: Browser) -> None:
    base = live_server.url

    # Register: lands signed in on the profile page.
    page.goto(f"{base}/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    field(page, "Full name").fill(NAME)
    field(page, "E-mail address").fill(EMAIL)
    field(page, "New password").fill(PASSWORD)
    field(page, "Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # No account yet: the address must prove itself first. The e-mailed link creates it.
    expect(page).to_have_url(f"{base}/login")
    expect(page.locator("#flashes")).to_contain_text(f"We have sent a message to {EMAIL}.")
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == EMAIL)).one()
    link = re.search(r"https?://\S+/register/\S+", message.body_text).group(0)
    page.goto(base + urlsplit(link).path)

    expect(page).to_have_url(f"{base}/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    expect(page.locator("#flashes")).to_contain_text("Welcome! Your account is ready.")
    expect(page.get_by_role("link", name=NAME)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(field(page, "Full name")).to_have_value(NAME)

    # A date of birth in the future: the error sits by its field, the typed values stay.
    for label, value in PROFILE.items():
        field(page, label).fill(value)
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    field(page, "Date of birth").fill(future)
    page.get_by_role("button", name="Save profile").click()

    date_of_birth = field(page, "Date of birth")
    expect(page.locator("#date_of_birth-error")).to_have_text("The date of birth cannot be in the future.")
    expect(date_of_birth).to_have_attribute("aria-invalid", "true")
    expect(date_of_birth).to_have_accessible_description(
        re.compile("The date of birth cannot be in the future."))
    expect(page.locator(".error-summary")).to_contain_text("Date of birth: The date of birth cannot be in the future.")
    expect(page.locator("#flashes")).not_to_contain_text("Your profile has been saved.")
    expect(date_of_birth).to_have_value(future)
    expect(field(page, "Full name")).to_have_value(NAME)
    for label, value in PROFILE.items():
        expect(field(page, label)).to_have_value(value)

    # Corrected, saved, and still there after a reload.
    date_of_birth.fill(DATE_OF_BIRTH)
    page.get_by_role("button", name="Save profile").click()
    expect(page).to_have_url(f"{base}/profile")
    expect(page.locator("#flashes")).to_have_text("Your profile has been saved.")
    expect(page.locator(".error-summary")).to_have_count(0)

    page.reload()
    expect(page.locator("#flashes")).to_be_empty()  # the message was shown once
    for label, value in {**PROFILE, "Date of birth": DATE_OF_BIRTH, "Full name": NAME}.items():
        expect(field(page, label)).to_have_value(value)

    # Sign out, then back in with the same credentials.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/login")
    expect(page.locator("#flashes")).to_have_text("You have signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    field(page, "E-mail address").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {NAME}")

    # Switch to Russian with the header button.
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    main_nav = page.locator("header.site-header nav")
    expect(main_nav.get_by_role("link", name="Конференции")).to_be_visible()
    expect(main_nav.get_by_role("link", name="Главная")).to_be_visible()
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()

    # The choice belongs to the account: a fresh browser (English, no cookies) signing in gets Russian.
    other = browser.new_context(locale="en-GB")
    try:
        fresh = other.new_page()
        fresh.goto(f"{base}/login")
        expect(fresh.locator("html")).to_have_attribute("lang", "en")
        field(fresh, "E-mail address").fill(EMAIL)
        field(fresh, "Password").fill(PASSWORD)
        fresh.get_by_role("button", name="Sign in", exact=True).click()
        expect(fresh).to_have_url(f"{base}/")
        expect(fresh.locator("html")).to_have_attribute("lang", "ru")
        expect(fresh.get_by_role("button", name="Выйти")).to_be_visible()
        fresh.goto(f"{base}/profile")
        expect(fresh.get_by_role("heading", level=1)).to_have_text("Ваш профиль")
        expect(fresh.locator("#preferred_language")).to_have_value("ru")
        expect(fresh.locator("#passport_number")).to_have_value(PROFILE["Passport number"])
    finally:
        other.close()
