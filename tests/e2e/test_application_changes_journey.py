"""Staff send an application back inline; the doctor reads why, edits and submits it again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

CONFERENCE = "Nordic Transfusion Medicine Days"
COMMENT = "Please say which sessions you will attend and how they help your ward."
NEW_PURPOSE = "The sessions on massive transfusion protocols: our ward starts one this year."


def test_staff_request_changes_and_doctor_resubmits(
        live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any], sign_in: Any,
        make_user: Any, make_conference: Any, make_application: Any, rates: Any, console_errors: Any) -> None:
    base = live_server.url
    doctor = make_user(roles=["doctor"], name="Ivan Sokolov")
    staff = make_user(roles=["staff"], name="Sam Reviewer")
    application = make_application(doctor=doctor, conference=make_conference(name=CONFERENCE), status="submitted")
    application_id = application.id
    old_purpose = application.purpose

    console_errors.watch(page)

    # Staff send it back from the queue; the row changes in place.
    sign_in(page, staff.email)
    page.goto(f"{base}/applications/review")
    row = page.locator(f"tr#application-{application_id}")
    expect(row).to_contain_text("Ivan Sokolov")
    expect(row).to_contain_text(CONFERENCE)
    expect(row.locator(".status")).to_have_text("submitted")
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it

    row.locator("summary", has_text="Request changes").click()
    comment = row.get_by_label("What should the doctor change?", exact=True)
    expect(comment).to_be_visible()
    comment.fill(COMMENT)
    with page.expect_response(lambda r: r.url == f"{base}/applications/{application_id}/request-changes") as answer:
        row.get_by_role("button", name="Send back for changes").click()
    assert answer.value.status == 200
    expect(row.locator(".status")).to_have_text("changes requested")
    expect(row.locator(".row-message")).to_have_text("Changes requested. The doctor has been told.")
    expect(row.get_by_role("button", name="Send back for changes")).to_have_count(0)
    expect(page.locator("table.queue tbody > tr")).to_have_count(1)  # swapped, not added
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(f"{base}/applications/review")

    # The doctor, in a browser of their own, reads the comment and edits the application.
    doctor_context = browser.new_context(**browser_context_args)
    try:
        mine = console_errors.watch(doctor_context.new_page())
        sign_in(mine, doctor.email)
        mine.goto(f"{base}/applications/")
        mine.get_by_role("link", name=CONFERENCE).click()
        expect(mine).to_have_url(f"{base}/applications/{application_id}")
        expect(mine.locator(".lead .status")).to_have_text("changes requested")
        expect(mine.locator(".lead")).to_contain_text("Edit the application as asked and submit it again.")
        history = mine.locator("#history")
        note = history.locator("li", has_text=COMMENT)
        expect(note).to_have_count(1)
        expect(note.locator(".who")).to_have_text("Sam Reviewer")
        expect(note.locator(".what")).to_have_text("Comment")

        mine.get_by_role("link", name="Edit", exact=True).click()
        expect(mine).to_have_url(f"{base}/applications/{application_id}/edit")
        expect(mine.get_by_role("heading", level=1)).to_have_text("Edit application")
        purpose = mine.get_by_label("Why do you want to attend?", exact=True)
        expect(purpose).to_have_value(old_purpose)
        expect(mine.get_by_label("Conference", exact=True)).to_have_value(str(application.conference_id))
        expect(mine.locator("#budget-registration-amount")).to_have_value(re.compile(r"^650(\.00?)?$"))
        expect(mine.locator("#budget-total")).to_contain_text("€1,050.00")
        purpose.fill(NEW_PURPOSE)
        mine.get_by_role("button", name="Save and submit").click()

        expect(mine).to_have_url(f"{base}/applications/{application_id}")
        expect(mine.locator("#flashes")).to_have_text(
            "Your application has been submitted. We will e-mail you when it is decided.")
        expect(mine.locator(".lead .status")).to_have_text("submitted")
        expect(mine.locator("dl.facts")).to_contain_text(NEW_PURPOSE)
        expect(mine.locator("dl.facts")).not_to_contain_text(old_purpose)
        expect(mine.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    finally:
        doctor_context.close()

    # Staff find it back in the queue, ready for a decision, with the new purpose.
    page.reload()
    assert page.evaluate("window.__noReload") is None
    expect(row.locator(".status")).to_have_text("submitted")
    expect(row.locator(".row-message")).to_have_count(0)
    expect(row.locator("summary", has_text="Approve")).to_be_visible()
    row.get_by_role("link", name="Ivan Sokolov").click()
    expect(page).to_have_url(f"{base}/applications/{application_id}")
    expect(page.locator("dl.facts")).to_contain_text(NEW_PURPOSE)
    expect(page.locator("#history")).to_contain_text(COMMENT)
    assert console_errors == []
