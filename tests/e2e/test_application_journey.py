"""A doctor applies (search, running total, draft, document, submit); staff approve inline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

CONFERENCE = "European Haematology Congress"
OTHER = "Asian Oncology Summit"
PURPOSE = "To learn the new guidelines for paediatric leukaemia."
BENEFIT = "A seminar for the haematology ward and a written summary."
# The smallest file the upload check takes for a PDF.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_doctor_applies_and_staff_approve_in_place(
        live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any], sign_in: Any,
        make_user: Any, make_conference: Any, rates: Any, tmp_path: Path, console_errors: Any) -> None:
    base = live_server.url
    doctor = make_user(roles=["doctor"], name="Anna Petrova")
    staff = make_user(roles=["staff"], name="Sam Reviewer")
    conference = make_conference(name=CONFERENCE, city="Vienna", country="Austria")
    make_conference(name=OTHER, city="Singapore", country="Singapore")

    console_errors.watch(page)

    # The doctor starts a new application from "My applications".
    sign_in(page, doctor.email)
    page.goto(f"{base}/applications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My applications")
    page.get_by_role("link", name="New application").click()
    expect(page).to_have_url(f"{base}/applications/new")
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it

    # Both conferences are offered; searching narrows the list through htmx.
    select = page.get_by_label("Conference", exact=True)
    options = select.locator("option")
    expect(options).to_have_count(3)  # the prompt and the two conferences
    expect(select).to_contain_text(OTHER)
    with page.expect_response(lambda r: "/applications/conference-options" in r.url) as answer:
        page.get_by_label("Search conferences", exact=True).press_sequentially("haemat")
    assert answer.value.status == 200
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_text("— choose a conference —")
    expect(options.nth(1)).to_contain_text(f"{CONFERENCE} · Vienna")
    expect(options.nth(1)).to_have_attribute("value", str(conference.id))
    expect(select).not_to_contain_text(OTHER)
    select.select_option(str(conference.id))
    expect(select).to_have_value(str(conference.id))

    page.get_by_label("Why do you want to attend?", exact=True).fill(PURPOSE)
    page.get_by_label("What will you bring back to your clinic?", exact=True).fill(BENEFIT)
    page.get_by_label("Attending", exact=True).check()
    page.get_by_label("I need a visa for this trip", exact=True).check()
    page.get_by_label("Consulate: country", exact=True).fill("Austria")
    page.get_by_label("Consulate: city", exact=True).fill("Moscow")

    # The running total follows the amounts as they are typed.
    total = page.locator("#budget-total")
    expect(total).to_have_text(re.compile(r"Total requested:\s*£0\.00"))
    expect(page.locator("#budget-registration-currency")).to_have_value("EUR")
    page.locator("#budget-registration-amount").press_sequentially("650")
    expect(total).to_contain_text("€650.00")
    expect(total).to_contain_text("£552.50")
    expect(page.locator("#budget-registration-amount")).to_be_focused()  # on input, not on leaving the field
    expect(page.locator("#budget-travel-currency")).to_have_value("EUR")
    page.locator("#budget-travel-amount").press_sequentially("400")
    expect(total).to_contain_text("€1,050.00")
    expect(total).to_contain_text("£892.50")
    expect(total).not_to_contain_text("€650.00")
    expect(page.locator("#budget-travel-amount")).to_be_focused()
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(f"{base}/applications/new")

    # Saved as a draft: the detail page.
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/applications/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#flashes")).to_have_text("Your application has been saved as a draft.")
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFERENCE)
    expect(page.locator(".lead .status")).to_have_text("draft")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(PURPOSE)
    expect(facts).to_contain_text(BENEFIT)
    expect(facts).to_contain_text("needed: the consulate of Austria in Moscow")

    # The acceptance letter.
    letter = tmp_path / "acceptance.pdf"
    letter.write_bytes(PDF)
    documents = page.locator("#documents")
    expect(documents).to_contain_text("No documents yet.")
    documents.get_by_label("Document", exact=True).select_option(label="Acceptance letter")
    documents.get_by_label("File", exact=True).set_input_files(letter)
    documents.get_by_role("button", name="Upload").click()
    expect(page.locator("#flashes")).to_have_text("The document has been added.")
    expect(documents.locator("ul.documents > li")).to_have_count(1)
    expect(documents.get_by_role("link", name="Acceptance letter: acceptance.pdf")).to_be_visible()

    # Submitted.
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("#flashes")).to_have_text(
        "Your application has been submitted. We will e-mail you when it is decided.")
    expect(page.locator(".lead .status")).to_have_text("submitted")

    # Staff, in a browser of their own, approve from the queue with a smaller registration fee.
    staff_context = browser.new_context(**browser_context_args)
    try:
        review = staff_context.new_page()
        console_errors.watch(review)
        sign_in(review, staff.email)
        review.goto(f"{base}/applications/review")
        row = review.locator(f"tr#application-{application_id}")
        expect(row).to_contain_text("Anna Petrova")
        expect(row).to_contain_text(CONFERENCE)
        expect(row).to_contain_text("£892.50")
        expect(row.locator(".status")).to_have_text("submitted")
        review.evaluate("window.__noReload = 1")

        row.locator("summary", has_text="Approve").click()
        registration = row.locator(f"#a{application_id}-approved-registration-amount")
        travel = row.locator(f"#a{application_id}-approved-travel-amount")
        expect(registration).to_be_visible()
        expect(registration).to_have_value(re.compile(r"^650(\.00?)?$"))
        expect(travel).to_have_value(re.compile(r"^400(\.00?)?$"))
        registration.fill("600")
        with review.expect_response(lambda r: r.url == f"{base}/applications/{application_id}/approve") as answer:
            row.get_by_role("button", name="Approve these amounts").click()
        assert answer.value.status == 200
        expect(row.locator(".status")).to_have_text("approved")
        expect(row.locator(".row-message")).to_have_text("Application approved. The doctor has been told.")
        expect(row.get_by_role("button", name="Approve these amounts")).to_have_count(0)
        expect(review.locator("table.queue tbody > tr")).to_have_count(1)  # swapped, not added
        assert review.evaluate("window.__noReload") == 1
        expect(review).to_have_url(f"{base}/applications/review")
    finally:
        staff_context.close()

    # The doctor reloads the page: approved, with the approved amounts beside the requested ones.
    page.reload()
    expect(page.locator(".lead .status")).to_have_text("approved")
    budget = page.locator("section[aria-labelledby='budget-title'] table")
    registration_row = budget.locator("tbody tr", has_text="Registration")
    travel_row = budget.locator("tbody tr", has_text="Travel")
    expect(registration_row.locator("td")).to_have_text(["€650.00", "€600.00"])
    expect(travel_row.locator("td")).to_have_text(["€400.00", "€400.00"])
    expect(budget.locator("tfoot td")).to_have_text(["£892.50", "£850.00"])
    expect(page.locator("#history")).to_contain_text("Approved")
    assert console_errors == []
