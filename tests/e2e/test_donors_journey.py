"""Donors, end to end: staff add a donor who prefers thanks by post, record a Gift Aid
declaration and two gifts, acknowledge everything pending in one batch and download the
merged PDF to print; both gifts then read as acknowledged with the letter's reference.
A second journey searches donors as staff type and thanks one gift in place."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from flask import Flask
from playwright.sync_api import Page, expect

import portal
from portal.extensions import db
from portal.models import Donation, Donor
from tests.fixtures.pdf import flat_text

pytestmark = pytest.mark.e2e

TITLE, FIRST, LAST = "Mrs", "Margaret", "Hollis"
DONOR_EMAIL = "margaret.hollis@example.org"
HOUSE, STREET_TOWN, POSTCODE = "14", "Cherry Tree Lane\nBath", "ba1 2ab"  # the form upper-cases it
# (amount typed, as shown, bank reference, days ago received)
GIFTS = [("25", "£25.00", "HOLLIS-STO-0425", 6), ("40.00", "£40.00", "HOLLIS-STO-0525", 3)]
GIFT_AID_SENTENCE = "Because you have made a Gift Aid declaration"
REFERENCE = re.compile(r"\b[A-Z]{1,10}-\d{4}-\d{4}\b")  # a letter reference, like EP-2026-0001


def test_add_donor_gift_aid_two_gifts_batch_thanks_by_post(
        app: Flask, live_server: Any, page: Page, sign_in: Any, make_user: Any, tmp_path: Path,
        console_errors: Any, consumer_process: Any) -> None:
    base = live_server.url
    consumer_process(LETTER_WORKERS=1)  # writes the batch's letters in the background
    staff = make_user(roles=["staff"], name="Emma Clarke")
    staff_email = staff.email
    db.session.commit()  # end the read transaction the attribute load opened

    today = dt.date.today()
    declared_on = today - dt.timedelta(days=30)
    console_errors.watch(page)

    # Staff find Donors in the navigation and add a donor who wants thanks by post.
    sign_in(page, staff_email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Donors", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Donors")
    expect(page.locator("#donor-rows")).to_contain_text("No donors yet.")
    page.get_by_role("link", name="Add a donor", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a donor")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("First name", exact=True).fill(FIRST)
    page.get_by_label("Last name", exact=True).fill(LAST)
    page.get_by_label("E-mail address", exact=True).fill(DONOR_EMAIL)
    page.get_by_label("Send thanks by", exact=True).select_option(label="Post")
    page.get_by_label("House name or number", exact=True).fill(HOUSE)
    page.get_by_label("Street and town", exact=True).fill(STREET_TOWN)
    page.get_by_label("Postcode", exact=True).fill(POSTCODE)
    page.get_by_role("button", name="Save the donor", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/\d+$"))
    donor_url = page.url
    expect(page.locator("#flashes")).to_have_text(f"Donor {TITLE} {FIRST} {LAST} added.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE} {FIRST} {LAST}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(DONOR_EMAIL)
    expect(facts).to_contain_text(f"{HOUSE} Cherry Tree Lane")
    expect(facts).to_contain_text(POSTCODE.upper())
    expect(facts.locator("dt", has_text="Send thanks by").locator("+ dd")).to_have_text("Post")

    # A Gift Aid declaration made a month ago, covering past and future gifts.
    gift_aid = page.locator("#gift-aid")
    expect(gift_aid.locator("tbody")).to_contain_text("No declaration: gifts are not Gift-Aided.")
    gift_aid.locator("summary", has_text="Record a Gift Aid declaration").click()
    gift_aid.get_by_label("Declaration made on", exact=True).fill(declared_on.isoformat())
    expect(gift_aid.get_by_label("Covers gifts in the four years before", exact=True)).to_be_checked()
    expect(gift_aid.get_by_label("Covers this gift and all future gifts", exact=True)).to_be_checked()
    gift_aid.get_by_role("button", name="Record the declaration", exact=True).click()
    expect(page.locator("#flashes")).to_have_text("Gift Aid declaration recorded.")
    expect(page).to_have_url(f"{donor_url}#gift-aid")
    declarations = gift_aid.locator("tbody tr")
    expect(declarations).to_have_count(1)
    expect(declarations.locator("td").nth(2)).to_have_text("in force")

    # Two gifts, each recorded through the "Record a gift" form.
    gifts = page.locator("#donations")
    gift_rows = gifts.locator("tbody tr")
    for n, (typed, shown, reference, days_ago) in enumerate(GIFTS, start=1):
        gifts.locator("summary", has_text="Record a gift").click()
        form = gifts.locator("form")
        form.get_by_label("Amount", exact=True).fill(typed)
        expect(form.get_by_label("Currency", exact=True)).to_have_value("GBP")
        form.get_by_label("Date received", exact=True).fill((today - dt.timedelta(days=days_ago)).isoformat())
        form.get_by_label("Reference", exact=True).fill(reference)
        form.get_by_role("button", name="Record the gift", exact=True).click()
        expect(page.locator("#flashes")).to_have_text(f"Donation of {shown} recorded: it awaits thanks.")
        expect(page).to_have_url(f"{donor_url}#donations")
        expect(gift_rows).to_have_count(n)
    for _, shown, reference, _ in GIFTS:
        row = gift_rows.filter(has_text=reference)
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_have_text(shown)
        expect(row.locator("td").nth(4)).to_have_text("eligible")
        expect(row.locator(".status")).to_have_text("awaiting thanks")

    # A bank reference is recorded once: the same statement line again is refused, kindly.
    typed, _, reference, days_ago = GIFTS[0]
    first_received = today - dt.timedelta(days=days_ago)
    gifts.locator("summary", has_text="Record a gift").click()
    form = gifts.locator("form")
    form.get_by_label("Amount", exact=True).fill(typed)
    form.get_by_label("Date received", exact=True).fill(first_received.isoformat())
    form.get_by_label("Reference", exact=True).fill(reference)
    form.get_by_role("button", name="Record the gift", exact=True).click()
    duplicate = (f"A gift with this reference is already recorded (from {TITLE} {FIRST} {LAST}, "
                 f"{first_received.day} {first_received:%b %Y}).")  # the reader's medium date, en_GB
    expect(gifts.locator(".error-summary")).to_contain_text(duplicate)
    expect(form.locator("#donation-reference-error")).to_have_text(duplicate)
    expect(form.get_by_label("Reference", exact=True)).to_have_value(reference)  # kept for correcting
    expect(gift_rows).to_have_count(2)

    # The donations list: both gifts wait; one click thanks everyone pending.
    page.get_by_role("link", name="← Donors").click()
    expect(page).to_have_url(f"{base}/donors/")
    expect(page.locator("#donor-rows tr")).to_have_count(1)
    expect(page.locator("#donor-rows")).to_contain_text(f"{TITLE} {FIRST} {LAST}")
    expect(page.locator("#donor-rows td").nth(4)).to_have_text("declared")
    page.get_by_role("link", name=re.compile(r"^Donations awaiting thanks")).click()
    expect(page).to_have_url(f"{base}/donors/donations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Donations")
    expect(page.locator("#thanks-summary p").first).to_contain_text("2 gifts await thanks.")
    pending_rows = page.locator("table.table tbody tr[id^='donation-']")
    expect(pending_rows).to_have_count(2)
    for _, shown, reference, _ in GIFTS:
        row = pending_rows.filter(has_text=reference)
        expect(row).to_contain_text(f"{TITLE} {FIRST} {LAST}")
        expect(row).to_contain_text(shown)
        expect(row.locator(".status")).to_have_text("awaiting thanks")
    page.get_by_role("button", name="Acknowledge all pending", exact=True).click()

    # The batch page: one letter, by post, for both gifts; the PDF to print.
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/batches/\d+$"))
    batch_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#batch-body")).to_contain_text(  # when the consumer is done: no reload
        re.compile(r"issued for 2 gifts: 0 by e-mail, 1 by post, 0 kept on file\."), timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Letters of thanks, batch {batch_id}")
    letters = page.locator("table.table tbody tr")
    expect(letters).to_have_count(1)
    expect(letters.locator("td").nth(1)).to_have_text(f"{TITLE} {FIRST} {LAST}")
    expect(letters.locator("td").nth(2)).to_have_text("by post")
    expect(letters.locator("td").nth(3)).to_have_text("£25.00, £40.00")  # oldest first
    reference_link = letters.locator("td").first.get_by_role("link")
    expect(reference_link).to_have_text(re.compile(r"^Thank-you letter EP-\d{4}-\d{4} \(PDF\)$"))
    letter_reference = reference_link.inner_text().strip().removeprefix("Thank-you letter ").removesuffix(" (PDF)")
    assert REFERENCE.fullmatch(letter_reference), letter_reference

    download_link = page.get_by_role("link", name="Download 1 letter to post (PDF)", exact=True)
    expect(download_link).to_have_attribute("href", f"/donors/batches/{batch_id}/post.pdf")
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename == f"thanks-by-post-batch-{batch_id}.pdf"
    pdf_path = tmp_path / "to-post.pdf"
    download.value.save_as(pdf_path)
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = flat_text(pdf)
    assert f"{TITLE} {FIRST} {LAST}" in text, text  # the envelope window
    assert f"{HOUSE} Cherry Tree Lane" in text, text
    assert POSTCODE.upper() in text, text
    assert f"Dear {TITLE} {LAST}," in text, text
    for _, shown, _, _ in GIFTS:
        assert shown in text, (shown, text)
    assert GIFT_AID_SENTENCE in text, text
    assert letter_reference in text, text

    # Nothing waits any more.
    page.get_by_role("link", name="← Donations").click()
    expect(page).to_have_url(f"{base}/donors/donations")
    expect(page.locator("#thanks-summary p").first).to_have_text("Every gift has been acknowledged.")
    expect(page.get_by_role("button", name="Acknowledge all pending")).to_have_count(0)
    expect(page.locator("table.table tbody")).to_contain_text("No gifts to show.")
    expect(page.get_by_role("link", name=f"Batch {batch_id}", exact=True)).to_be_visible()

    # Back on the donor's page, both gifts read as acknowledged with the letter's reference.
    page.goto(donor_url)
    expect(gift_rows).to_have_count(2)
    for _, shown, reference, _ in GIFTS:
        row = gift_rows.filter(has_text=reference)
        expect(row.locator("td").nth(1)).to_have_text(shown)
        expect(row.locator(".status")).to_have_text("acknowledged")
        expect(row.locator("td").nth(5)).to_contain_text("by post")
        link_name = f"Thank-you letter {letter_reference} (PDF)"
        expect(row.locator("td").nth(5).get_by_role("link", name=link_name, exact=True)).to_be_visible()
        expect(row.get_by_role("button", name="Thank now")).to_have_count(0)
    thanks = page.locator("section[aria-labelledby='letters-title'] tbody tr")
    expect(thanks).to_have_count(1)
    expect(thanks.get_by_role("link", name=f"Thank-you letter {letter_reference} (PDF)", exact=True)).to_be_visible()

    # The refused duplicate is answered 422 by design (the portal's "form has errors"), which
    # Chromium logs as a failed load; nothing else may show.
    refused = (f"{donor_url}/donations: Failed to load resource: "
               "the server responded with a status of 422 (UNPROCESSABLE ENTITY)")
    assert console_errors == [refused]


def _donor(title: str, first: str, last: str, email: str, postcode: str, preference: str) -> Donor:
    donor = Donor(kind="individual", title=title, first_name=first, last_name=last, email=email, house="1",
                  address="High Street\nLondon", postcode=postcode, country="GB", language="en",
                  contact_preference=preference)
    donor.refresh_search_name()
    db.session.add(donor)
    return donor


def test_search_as_you_type_and_thank_one_gift_in_place(
        app: Flask, live_server: Any, page: Page, sign_in: Any, make_user: Any, console_errors: Any) -> None:
    base = live_server.url
    staff = make_user(roles=["staff"], name="Emma Clarke")
    oliver = _donor("Mr", "Oliver", "Brandt", "oliver.brandt@example.org", "N1 9GU", "email")
    _donor("Ms", "Priya", "Raman", "priya.raman@example.org", "EC1A 1BB", "post")
    gift = Donation(donor=oliver, amount=5000, currency="GBP", method="bank_transfer", restricted=True,
                    reference="BRANDT-0001", received_on=dt.date.today() - dt.timedelta(days=1))
    db.session.add(gift)
    db.session.commit()
    staff_email, gift_id = staff.email, gift.id
    db.session.commit()

    console_errors.watch(page)
    sign_in(page, staff_email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Donors", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/")
    rows = page.locator("#donor-rows tr")
    expect(rows).to_have_count(2)
    expect(rows.get_by_role("link")).to_have_text(["Mr Oliver Brandt", "Ms Priya Raman"])
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it

    # Typing narrows the table in place; the address bar follows (hx-push-url).
    search = page.get_by_label("Name, e-mail or postcode", exact=True)
    search.press_sequentially("rama")
    expect(page).to_have_url(f"{base}/donors/?q=rama")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link")).to_have_text("Ms Priya Raman")
    assert page.evaluate("window.__noReload") == 1
    search.fill("")
    search.press_sequentially("zzz")
    expect(page).to_have_url(f"{base}/donors/?q=zzz")
    expect(rows).to_have_text(["No donor matches “zzz”."])
    search.fill("")
    search.press_sequentially("n1 9")  # postcode, any case
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/\?q=n1(\+|%20)9$"))
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link")).to_have_text("Mr Oliver Brandt")
    assert page.evaluate("window.__noReload") == 1

    # Oliver's gift is thanked from its row: the cell is swapped, the page stays.
    page.get_by_role("link", name=re.compile(r"^Donations awaiting thanks")).click()
    expect(page).to_have_url(f"{base}/donors/donations")
    row = page.locator(f"tr#donation-{gift_id}")
    expect(row).to_contain_text("Mr Oliver Brandt")
    expect(row.locator(".status")).to_have_text("awaiting thanks")
    page.evaluate("window.__noReload = 1")
    with page.expect_response(lambda r: r.url == f"{base}/donors/donations/{gift_id}/acknowledge"
                              and r.request.method == "POST") as answer:
        row.get_by_role("button", name="Thank now", exact=True).click()
    assert answer.value.status == 200
    expect(row.locator(".status")).to_have_text("acknowledged")
    thanks_cell = row.locator("td").nth(5)
    expect(thanks_cell.get_by_role("link")).to_have_text(re.compile(r"^Thank-you letter EP-\d{4}-\d{4} \(PDF\)$"))
    letter_reference = REFERENCE.search(thanks_cell.get_by_role("link").inner_text())[0]
    expect(thanks_cell).to_contain_text("by e-mail")
    expect(row.locator(".row-message")).to_have_text(f"Thanked by e-mail: letter {letter_reference}.")
    expect(row.get_by_role("button", name="Thank now")).to_have_count(0)
    expect(page.locator(f"tr#donation-{gift_id}")).to_have_count(1)  # swapped in place, not added
    # The page's other part that counts waiting gifts follows, without a reload
    expect(page.locator("#thanks-summary p").first).to_have_text("Every gift has been acknowledged.")
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(f"{base}/donors/donations")

    # A full load agrees: nothing waits, and the gift shows as acknowledged.
    page.reload()
    expect(page.locator("#thanks-summary p").first).to_have_text("Every gift has been acknowledged.")
    page.get_by_label("Show", exact=True).select_option(label="Acknowledged")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/donations\?status=acknowledged"))
    expect(row.locator(".status")).to_have_text("acknowledged")
    expect(row.get_by_role("link", name=f"Thank-you letter {letter_reference} (PDF)", exact=True)).to_be_visible()

    assert console_errors == []


def _russian(message: str) -> str | None:
    """The Russian translation of ``message`` in the compiled catalogue, if there is one."""
    folder = Path(portal.__file__).parent / "translations"
    translated = Translations.load(str(folder), ["ru"], domain="messages").gettext(message)
    return translated if translated and translated != message else None


def test_donors_index_in_russian(
        app: Flask, live_server: Any, page: Page, make_user: Any, console_errors: Any) -> None:
    heading = _russian("Donors")
    if heading is None:
        pytest.skip("no Russian translation for “Donors” yet")
    base = live_server.url
    staff = make_user(roles=["staff"], name="Елена Смирнова", preferred_language="ru")
    staff_email = staff.email
    db.session.commit()

    console_errors.watch(page)
    # The login page follows the browser (en-GB); once signed in, the user's language rules.
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address", exact=True).fill(staff_email)
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/inbox")  # staff land on their inbox
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.locator("nav").get_by_role("link", name=heading, exact=True).click()
    expect(page).to_have_url(f"{base}/donors/")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Donors")
    assert console_errors == []
