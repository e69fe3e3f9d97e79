"""Guards against costly mistakes and payees' bank details, in a real browser with axe-core: a
doctor's withdrawal asks first (a dialog; "keep it" changes nothing); staff cannot approve for a
conference that is only proposed without confirming it in the same step; a doctor's bank
details are checked, then shown masked to them and to finance."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.extensions import db
from portal.models import Application, Conference, ExpenseClaim, ExpenseLine

pytestmark = pytest.mark.e2e


def test_withdrawing_asks_first(live_server: Any, page: Page, sign_in: Any, make_user: Any,
                                make_application: Any, axe: Any, console_errors: Any) -> None:
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="submitted")
    application_id = application.id
    console_errors.watch(page)
    sign_in(page, doctor.email)
    page.goto(f"{live_server.url}/applications/{application_id}")
    page.get_by_role("link", name="Withdraw", exact=True).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Withdraw your application?")
    assert axe(page) == []
    dialog.get_by_role("link", name="No, keep it").click()
    expect(page.locator("dialog")).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(Application, application_id).status == "submitted"
    page.get_by_role("link", name="Withdraw", exact=True).click()
    page.locator("dialog[open]").get_by_role("button", name="Yes, withdraw it").click()
    expect(page.locator("#flashes")).to_contain_text("Your application has been withdrawn.")
    db.session.expire_all()
    assert db.session.get(Application, application_id).status == "withdrawn"
    assert console_errors == []


def test_approving_for_a_proposed_conference_confirms_it_in_the_same_step(
        live_server: Any, page: Page, sign_in: Any, make_user: Any, make_application: Any, make_conference: Any,
        axe: Any) -> None:
    doctor = make_user(roles=["doctor"])
    proposal = make_conference(confirmed=False, name="Baltic Haematology Days", proposed_by_id=doctor.id)
    application = make_application(doctor=doctor, conference=proposal)
    application_id, proposal_id = application.id, proposal.id
    staff = make_user(roles=["staff"])
    sign_in(page, staff.email)
    page.goto(f"{live_server.url}/applications/review")
    row = page.locator(f"#application-{application_id}")
    expect(row).to_contain_text("proposed")
    row.locator("summary", has_text="Approve").click()
    expect(row.locator(".proposed-conference")).to_contain_text("Baltic Haematology Days")
    assert axe(page) == []
    row.get_by_role("button", name="Approve these amounts").click()
    row = page.locator(f"#application-{application_id}")
    expect(row.locator(".error")).to_contain_text("tick the box to confirm it with this approval")
    row.get_by_label("Confirm this conference too").check()
    row.get_by_role("button", name="Approve these amounts").click()
    expect(page.locator(f"#application-{application_id}")).to_contain_text("Application approved.")
    db.session.expire_all()
    assert db.session.get(Application, application_id).status == "approved"
    assert db.session.get(Conference, proposal_id).confirmed


def test_bank_details_are_checked_then_shown_masked(live_server: Any, page: Page, browser: Browser,
                                                    browser_context_args: dict[str, Any], sign_in: Any,
                                                    make_user: Any, make_application: Any, axe: Any) -> None:
    doctor = make_user(roles=["doctor"], name="Anna Petrova")
    application = make_application(doctor=doctor, status="approved", lines={"travel": (40000, "GBP")})
    claim = ExpenseClaim(funded_item_id=application.id, claimant_id=doctor.id)
    db.session.add(claim)
    db.session.flush()
    db.session.add(ExpenseLine(claim_id=claim.id, category="travel", spent_on=application.conference.start_date,
                               description="Flight", amount=25000, currency="GBP", amount_gbp=25000,
                               status="approved"))
    db.session.commit()
    finance = make_user(roles=["finance"])
    sign_in(page, doctor.email)
    page.goto(f"{live_server.url}/profile")
    page.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 01")
    page.get_by_label("BIC (SWIFT code)").fill("COBADEFFXXX")
    page.get_by_role("button", name="Save bank details").click()
    expect(page.locator("#bank_iban-error")).to_contain_text("This is not a valid IBAN")
    expect(page.locator(".error-summary")).to_be_focused()  # the keyboard is taken to what went wrong
    expect(page.get_by_label("BIC (SWIFT code)")).to_have_value("COBADEFFXXX")  # what was typed stays
    assert axe(page) == []
    page.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save bank details").click()
    expect(page.locator("#flashes")).to_contain_text("Your bank details have been saved.")
    expect(page.locator("main")).to_contain_text("Repayments go to DE89 •••• 3000.")
    expect(page.locator("main")).not_to_contain_text("0532 0130 00")

    other = browser.new_context(**browser_context_args).new_page()
    sign_in(other, finance.email)
    other.goto(f"{live_server.url}/expenses/payments")
    expect(other.locator(".payee-bank")).to_have_text(re.compile(r"Pay to DE89 •••• 3000"))
    assert axe(other) == []
