"""A person's data in a real browser, in English and Russian, each screen passing axe-core: a
doctor downloads everything the portal holds about them from their profile (the export is
written in the background and its link appears in place); an admin erases a donor, who is
named by a pseudonym from then on while their gift stays."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Donation, Donor
from tests.fixtures.tasks import run_queued_tasks

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_doctor_downloads_their_data(app: Flask, live_server: Any, page: Page, sign_in: Any, make_user: Any,
                                       make_application: Any, axe: Any, console_errors: Any,
                                       language: str) -> None:
    doctor = make_user(roles=["doctor"], name="Anna Petrova", passport_number="751234567")
    application = make_application(doctor=doctor, status="submitted")
    email, application_id = doctor.email, application.id
    console_errors.watch(page)
    sign_in(page, email)
    doctor.preferred_language = language
    db.session.commit()

    page.goto(f"{live_server.url}/privacy")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#passport")).to_be_visible()
    assert axe(page) == []

    page.goto(f"{live_server.url}/profile")
    assert axe(page) == []
    page.locator("form[action$='/profile/data-export'] button").click()
    expect(page).to_have_url(re.compile(r"/data-exports/\d+$"))
    expect(page.locator("#export-status")).to_have_attribute("hx-trigger", "every 2s")  # being written
    assert axe(page) == []
    run_queued_tasks(app)
    link = page.locator("#export-download")
    expect(link).to_be_visible(timeout=15_000)  # the poll brings it, no reload
    assert axe(page) == []
    with page.expect_download() as download:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    profile = json.loads(archive.read("profile.json"))[0]
    assert (profile["name"], profile["passport_number"]) == ("Anna Petrova", "751234567")
    assert [a["id"] for a in json.loads(archive.read("applications.json"))] == [application_id]
    assert console_errors == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_admin_erases_a_donor(live_server: Any, page: Page, sign_in: Any, make_user: Any, axe: Any,
                                 console_errors: Any, language: str) -> None:
    admin = make_user(roles=["admin"], name="Sarah Mitchell")
    donor = Donor(kind="individual", title="Mrs", first_name="Margaret", last_name="Thornbury",
                  email="margaret@example.org", house="Rose Cottage", address="Lane End\nOxford", postcode="OX1 2AB",
                  country="GB", language="en", contact_preference="email")
    donor.refresh_search_name()
    db.session.add(donor)
    db.session.flush()
    db.session.add(Donation(donor=donor, amount=5000, currency="GBP", method="cheque", restricted=True,
                            received_on=dt.date.today() - dt.timedelta(days=20)))
    db.session.commit()
    donor_id, admin_email = donor.id, admin.email
    console_errors.watch(page)
    sign_in(page, admin_email)
    admin.preferred_language = language
    db.session.commit()

    page.goto(f"{live_server.url}/donors/{donor_id}")
    expect(page.locator("#personal-data-title")).to_be_visible()
    assert axe(page) == []
    page.locator("#confirm-erase").check()
    page.locator(f"form[action$='/donors/{donor_id}/erase'] button").click()
    expect(page.locator("h1")).to_have_text(f"Former donor #{donor_id}")
    expect(page.locator("#erased-note")).to_be_visible()
    assert axe(page) == []
    page.goto(f"{live_server.url}/donors/")
    expect(page.locator("main")).not_to_contain_text("Thornbury")
    db.session.expire_all()
    erased = db.session.get(Donor, donor_id)
    assert erased.erased_at is not None and erased.email is None
    assert [d.amount for d in erased.donations] == [5000]  # the gift stays

    page.goto(f"{live_server.url}/admin/passport-reads")
    assert axe(page) == []
    assert console_errors == []
