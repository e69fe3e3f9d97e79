"""Money out, end to end: a doctor claims three lines in three currencies with receipts,
staff approve two and query one inline, the doctor answers, staff approve it, finance pays
all three at once, and the budget's "Spent" is the sum of the stored GBP amounts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import ExpenseLine

pytestmark = pytest.mark.e2e

CONFERENCE = "Nordic Transplant Forum"
# (category label, description, amount typed, currency, receipt file name)
LINES = [
    ("Registration", "Congress registration fee", "850", "EUR", "registration.pdf"),
    ("Travel", "Return flight Moscow to Oslo", "540.50", "USD", "flight.pdf"),
    ("Accommodation", "Hotel, three nights", "45321", "RUB", "hotel.pdf"),
]
QUESTION = "The hotel receipt is not itemised: which nights does it cover?"
ANSWER = "The nights of the congress, 12 to 14; the itemised bill is attached."


def pdf(label: str) -> bytes:
    """A small PDF the upload check takes; each label gives a distinct file."""
    return f"%PDF-1.4\n% {label}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".encode()


def gbp(minor: int) -> str:
    return f"£{Decimal(minor) / 100:,.2f}"


def test_claim_review_pay_and_budget(
        app: Flask, live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any],
        sign_in: Any, make_user: Any, make_conference: Any, make_application: Any, rates: Any,
        tmp_path: Path, console_errors: Any) -> None:
    base = live_server.url
    doctor = make_user(roles=["doctor"], name="Irina Sokolova")
    staff = make_user(roles=["staff"], name="Sam Reviewer")
    finance = make_user(roles=["finance"], name="Fiona Ledger")
    starts = dt.date.today()  # this budget year's: the budget page below counts the trip in it
    conference = make_conference(name=CONFERENCE, city="Oslo", country="Norway", start_date=starts,
                                 end_date=starts + dt.timedelta(days=3))
    application = make_application(doctor=doctor, conference=conference, status="approved", lines={
        "registration": (90000, "EUR"), "travel": (60000, "USD"), "accommodation": (5000000, "RUB")})
    for budget_line in application.budget_lines:
        budget_line.approved_amount = budget_line.requested_amount
        budget_line.approved_currency = budget_line.requested_currency
    db.session.commit()
    doctor_email, staff_email, finance_email = doctor.email, staff.email, finance.email
    item_name = application.display_name
    db.session.commit()  # end the read transaction the attribute loads opened

    receipts = []
    for n, (*_, filename) in enumerate(LINES, start=1):
        path = tmp_path / filename
        path.write_bytes(pdf(f"receipt {n}"))
        receipts.append(path)
    itemised = tmp_path / "hotel-itemised.pdf"
    itemised.write_bytes(pdf("receipt 4, itemised"))
    today = dt.date.today().isoformat()

    console_errors.watch(page)

    # The doctor opens a claim against the approved application.
    sign_in(page, doctor_email)
    page.goto(f"{base}/expenses/")
    expect(page.locator("ul.claimable")).to_contain_text(item_name)
    page.get_by_role("button", name="Claim expenses", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/expenses/claims/\d+$"))
    claim_url = page.url
    claim_id = int(claim_url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_contain_text(CONFERENCE)
    expect(page.locator("table.lines")).to_contain_text("No lines yet.")
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it

    # Three lines, each added in place with its receipt.
    add = page.locator("section[aria-labelledby='add-line-title']")
    rows = page.locator("table.lines tbody tr[id^='line-']")
    for n, ((category, description, amount, currency, _), receipt) in enumerate(
            zip(LINES, receipts, strict=True), start=1):
        add.get_by_label("Category", exact=True).select_option(label=category)
        add.get_by_label("Date", exact=True).fill(today)
        add.get_by_label("What was it?", exact=True).fill(description)
        add.get_by_label("Amount", exact=True).fill(amount)
        add.get_by_label("Currency", exact=True).select_option(currency)
        add.get_by_label("Receipt", exact=True).set_input_files(receipt)
        with page.expect_response(lambda r: r.url == f"{base}/expenses/claims/{claim_id}/lines"
                                  and r.request.method == "POST") as answer:
            add.get_by_role("button", name="Add line", exact=True).click()
        assert answer.value.status == 200
        expect(page.locator("#claim-lines .flash-success")).to_have_text("Line added.")
        expect(rows).to_have_count(n)
        row = rows.nth(n - 1)
        expect(row).to_contain_text(description)
        expect(row).to_contain_text(category)
        expect(row.get_by_role("link", name=receipt.name)).to_be_visible()
        # The class, not the words: the state label "draft" is shared with applications.
        expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-draft\b"))
        expect(row).not_to_contain_text("no rate yet")
        # The form is empty again for the next line.
        expect(add.get_by_label("What was it?", exact=True)).to_have_value("")
    expect(page.locator("table.lines")).not_to_contain_text("Same receipt as another line")
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(claim_url)
    line_ids = [int(i.removeprefix("line-")) for i in rows.evaluate_all("rows => rows.map(r => r.id)")]
    assert len(line_ids) == 3

    page.get_by_role("button", name="Submit the claim", exact=True).click()
    expect(page.locator("#flashes")).to_have_text(
        "Your claim has been submitted. We will e-mail you about each line.")
    expect(rows.locator(".status")).to_have_text(["submitted", "submitted", "submitted"])
    expect(page.get_by_role("button", name="Add line")).to_have_count(0)

    # Staff, in a browser of their own, approve two lines and query the third in place.
    staff_context = browser.new_context(**browser_context_args)
    try:
        review = staff_context.new_page()
        console_errors.watch(review)
        sign_in(review, staff_email)
        review.goto(f"{base}/expenses/review")
        queue_rows = review.locator("table.queue tbody > tr")
        expect(queue_rows).to_have_count(3)
        review.evaluate("window.__noReload = 1")
        for line_id, (_, description, *_) in zip(line_ids[:2], LINES[:2], strict=True):
            row = review.locator(f"tr#expense-line-{line_id}")
            expect(row).to_contain_text("Irina Sokolova")
            expect(row).to_contain_text(description)
            expect(row.locator(".status")).to_have_text("submitted")
            row.locator("summary", has_text="Approve").click()
            with review.expect_response(lambda r, i=line_id: r.url == f"{base}/expenses/lines/{i}/approve") as answer:
                row.get_by_role("button", name="Approve the line", exact=True).click()
            assert answer.value.status == 200
            expect(row.locator(".status")).to_have_text("approved")
            expect(row.locator(".row-message")).to_have_text("Line approved.")
            expect(row.get_by_role("button", name="Approve the line")).to_have_count(0)

        hotel = review.locator(f"tr#expense-line-{line_ids[2]}")
        hotel.locator("summary", has_text="Query").click()
        hotel.get_by_label("Question to the claimant", exact=True).fill(QUESTION)
        with review.expect_response(lambda r: r.url == f"{base}/expenses/lines/{line_ids[2]}/query") as answer:
            hotel.get_by_role("button", name="Send the question", exact=True).click()
        assert answer.value.status == 200
        expect(hotel.locator(".status")).to_have_text("queried")
        expect(hotel.locator(".row-message")).to_have_text("Question sent to the claimant.")
        expect(queue_rows).to_have_count(3)  # swapped, not added
        assert review.evaluate("window.__noReload") == 1
        expect(review).to_have_url(f"{base}/expenses/review")

        # The doctor sees the question and answers it with an itemised receipt.
        page.reload()
        hotel_line = page.locator(f"tr#line-{line_ids[2]}")
        expect(hotel_line.locator(".status")).to_have_text("queried")
        expect(hotel_line).to_contain_text(QUESTION)
        expect(page.locator(f"tr#line-{line_ids[0]} .status")).to_have_text("approved")
        answer_row = page.locator("tr.answer-row")
        expect(answer_row).to_have_count(1)
        answer_row.get_by_label("Your answer", exact=True).fill(ANSWER)
        answer_row.get_by_label("New receipt (optional)", exact=True).set_input_files(itemised)
        answer_row.get_by_role("button", name="Send the answer", exact=True).click()
        expect(page.locator("#flashes")).to_have_text("Thank you: your answer has been sent.")
        expect(hotel_line.locator(".status")).to_have_text("submitted")
        expect(hotel_line).to_contain_text(ANSWER)
        expect(hotel_line.get_by_role("link", name=itemised.name)).to_be_visible()
        expect(page.locator("tr.answer-row")).to_have_count(0)

        # Back in the queue, the answered line waits alone; staff approve it.
        review.goto(f"{base}/expenses/review")
        expect(queue_rows).to_have_count(1)
        expect(hotel).to_contain_text(ANSWER)
        hotel.locator("summary", has_text="Approve").click()
        with review.expect_response(lambda r: r.url == f"{base}/expenses/lines/{line_ids[2]}/approve") as answer:
            hotel.get_by_role("button", name="Approve the line", exact=True).click()
        assert answer.value.status == 200
        expect(hotel.locator(".status")).to_have_text("approved")
        expect(hotel.locator(".row-message")).to_have_text("Line approved.")
    finally:
        staff_context.close()

    # The GBP amounts stored on the lines when they were added.
    with app.app_context():
        stored = db.session.execute(select(ExpenseLine.id, ExpenseLine.amount_gbp, ExpenseLine.status)
                                    .where(ExpenseLine.id.in_(line_ids)).order_by(ExpenseLine.id)).all()
        db.session.rollback()
    assert [(i, status) for i, _, status in stored] == [(i, "approved") for i in line_ids]
    assert all(amount for _, amount, _ in stored)
    total = sum(amount for _, amount, _ in stored)

    # Finance pays the three lines in one payment.
    finance_context = browser.new_context(**browser_context_args)
    try:
        pay = finance_context.new_page()
        console_errors.watch(pay)
        sign_in(pay, finance_email)
        pay.goto(f"{base}/expenses/payments")
        group = pay.locator("section.panel", has=pay.get_by_role("heading", name=re.compile("Irina Sokolova")))
        expect(group).to_have_count(1)
        expect(group.get_by_role("heading", level=2)).to_contain_text(gbp(total))
        boxes = group.locator("input[type=checkbox][name=line]")
        expect(boxes).to_have_count(3)
        for box in boxes.all():
            expect(box).to_be_checked()
        amount = group.get_by_label("Amount paid (GBP)", exact=True)
        expect(amount).to_have_value(re.compile(rf"^{re.escape(f'{Decimal(total) / 100:.2f}')}$"))
        expect(group.get_by_label("Paid on", exact=True)).to_have_value(today)
        group.get_by_label("Method", exact=True).select_option(label="Bank transfer")
        group.get_by_label("Payment reference", exact=True).fill("BACS-2024-0042")
        group.get_by_role("button", name="Record the payment", exact=True).click()
        expect(pay.locator("#flashes")).to_have_text("Payment BACS-2024-0042 recorded for 3 lines.")
        expect(pay.get_by_role("heading", level=1)).to_have_text("Ready to pay")
        expect(pay.get_by_text("Nothing is waiting to be paid.")).to_be_visible()
        recent = pay.locator("table tbody tr", has_text="BACS-2024-0042")
        expect(recent).to_contain_text("Irina Sokolova")
        expect(recent).to_contain_text(gbp(total))

        # The budget: spent is the sum of the lines' stored GBP amounts.
        pay.goto(f"{base}/expenses/budget")
        expect(pay.get_by_role("heading", level=1)).to_have_text(f"Budget {dt.date.today().year}")
        expect(pay.locator("#total-spent")).to_have_text(gbp(total))
    finally:
        finance_context.close()

    with app.app_context():
        paid = db.session.scalars(select(ExpenseLine.status).where(ExpenseLine.id.in_(line_ids))).all()
        db.session.rollback()
    assert paid == ["paid", "paid", "paid"]
    assert console_errors == []
