"""The staff inbox, end to end: a doctor sends a post-conference report; staff find it in their
inbox beside a claim line and a gift, and settle all three there in place; the dashboard's
counts follow."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.blueprints.expenses import services as expenses
from portal.extensions import db
from portal.models import ConferenceReport, Donation, ExpenseLine
from tests.fixtures.factories import many_donors

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n%%EOF\n"


def card(page: Page, title: str) -> Any:
    return page.locator(".card", has=page.get_by_role("heading", name=title, exact=True)).locator(".count")


def test_a_report_a_line_and_a_gift_are_settled_from_the_inbox(
        app: Flask, live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any],
        sign_in: Any, make_user: Any, make_conference: Any, make_application: Any, tmp_path: Path,
        console_errors: Any) -> None:
    base = live_server.url
    doctor = make_user(roles=["doctor"], name="Anna Petrova")
    staff = make_user(roles=["staff"], name="Emma Clarke")
    ended = make_conference(name="SIOP Congress", start_date=dt.date.today() - dt.timedelta(days=10),
                            end_date=dt.date.today() - dt.timedelta(days=7))
    application = make_application(doctor=doctor, conference=ended, status="approved")
    claimant = make_user(roles=["doctor"], name="Ivan Sokolov")
    trip = make_application(doctor=claimant, status="approved", lines={"travel": (40000, "GBP")})
    trip.budget_lines[0].approved_amount, trip.budget_lines[0].approved_currency = 40000, "GBP"
    db.session.commit()
    with app.test_request_context():
        claim = expenses.open_claim(trip, by=claimant)
        expenses.add_line(claim, {"category": "travel", "spent_on": dt.date.today() - dt.timedelta(days=3),
                                  "description": "Train to the airport", "amount": 12000, "currency": "GBP"},
                          FileStorage(io.BytesIO(PDF), filename="receipt.pdf", content_type="application/pdf"),
                          by=claimant)
        expenses.submit_claim(claim, by=claimant)
    many_donors(1)
    doctor_email, staff_email, application_id = doctor.email, staff.email, application.id
    db.session.commit()
    console_errors.watch(page)

    # The doctor sends the report.
    doctor_page = browser.new_context(**browser_context_args).new_page()
    console_errors.watch(doctor_page)
    sign_in(doctor_page, doctor_email)
    doctor_page.goto(f"{base}/applications/{application_id}/report")
    doctor_page.get_by_label("What did you learn?").fill("New risk stratification for ALL.")
    doctor_page.get_by_label("Talk to colleagues").check()
    doctor_page.get_by_label("When did you share it?").fill((dt.date.today() - dt.timedelta(days=2)).isoformat())
    doctor_page.get_by_label("Colleagues reached").fill("35")
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(PDF)
    doctor_page.get_by_label("Certificate of attendance").set_input_files(str(certificate))
    doctor_page.get_by_role("button", name="Send the report").click()
    expect(doctor_page).to_have_url(re.compile(rf"/applications/{application_id}"))

    # Staff see it in the inbox, with the claim line and the gift.
    sign_in(page, staff_email)
    expect(page).to_have_url(f"{base}/inbox")  # where staff land
    page.goto(f"{base}/")
    expect(card(page, "Claims awaiting approval")).to_have_text("1")
    expect(card(page, "Donations awaiting thanks")).to_have_text("1")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Inbox", exact=True).click()
    expect(page).to_have_url(f"{base}/inbox")
    report_row = page.locator("tr", has_text="SIOP Congress").filter(has_text="Reports to accept")
    line_row = page.locator("tr", has_text="Train to the airport")
    gift_row = page.locator("tr", has_text="Gifts awaiting thanks")
    for row in (report_row, line_row, gift_row):
        expect(row).to_have_count(1)

    report_row.get_by_role("button", name="Accept").click()
    expect(page.locator("tr.done", has_text="Report accepted: Anna Petrova: SIOP Congress.")).to_be_visible()
    line_row.get_by_role("button", name="Approve").click()
    expect(page.locator("tr.done", has_text="Line approved: Ivan Sokolov: Train to the airport.")).to_be_visible()
    gift_row.get_by_role("button", name="Thank").click()
    expect(page.locator("tr.done", has_text="Thanked by e-mail: letter")).to_be_visible()
    expect(page).to_have_url(f"{base}/inbox")  # all three in place

    db.session.expire_all()
    assert db.session.scalars(select(ConferenceReport.status)).one() == "accepted"
    assert db.session.scalars(select(ExpenseLine.status)).one() == "approved"
    assert db.session.scalars(select(Donation.acknowledgement_id)).one() is not None

    page.reload()
    expect(page.locator("#inbox-list tbody tr", has_text="SIOP Congress").filter(has_text="Reports")).to_have_count(0)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Dashboard", exact=True).click()
    expect(card(page, "Claims awaiting approval")).to_have_text("0")
    expect(card(page, "Donations awaiting thanks")).to_have_text("0")
    assert console_errors == []
