"""Staff add a conference from the catalogue page; htmx swaps the form, no page load."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

NAME = "European Haematology Association Congress"


def test_staff_adds_conference_in_place(live_server: Any, page: Page, sign_in: Any, make_user: Any,
                                        make_conference: Any) -> None:
    staff = make_user(roles=["staff"])
    older = make_conference(name="Older Oncology Symposium")
    sign_in(page, staff.email)

    page.goto(f"{live_server.url}/conferences")
    rows = page.locator("tbody#conference-rows > tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(older.name)
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it

    form = page.locator("#conference-form")
    first_day = dt.date.today() + dt.timedelta(days=200)
    form.get_by_label("Conference name", exact=True).fill(NAME)
    form.get_by_label("Organiser", exact=True).fill("European Haematology Association")
    form.get_by_label("City", exact=True).fill("Milan")
    form.get_by_label("Country", exact=True).fill("Italy")
    form.get_by_label("First day", exact=True).fill(first_day.isoformat())
    form.get_by_label("Last day", exact=True).fill((first_day - dt.timedelta(days=1)).isoformat())

    # Last day before the first: the server answers 422 and htmx swaps the form in place.
    with page.expect_response(lambda r: r.url == f"{live_server.url}/conferences"
                              and r.request.method == "POST") as answer:
        form.get_by_role("button", name="Add conference").click()
    assert answer.value.status == 422
    last_day = form.get_by_label("Last day", exact=True)
    expect(form.locator("#end_date-error")).to_have_text("The last day cannot be before the first day.")
    expect(last_day).to_have_attribute("aria-invalid", "true")
    expect(last_day).to_have_accessible_description(re.compile("The last day cannot be before the first day."))
    expect(form.locator(".error-summary")).to_be_focused()
    expect(form.get_by_label("Conference name", exact=True)).to_have_value(NAME)
    expect(form.get_by_label("City", exact=True)).to_have_value("Milan")
    expect(form.get_by_label("First day", exact=True)).to_have_value(first_day.isoformat())
    expect(rows).to_have_count(1)
    assert page.evaluate("window.__noReload") == 1

    # Corrected: the row goes on top of the table, the message shows, the form is fresh.
    last_day.fill((first_day + dt.timedelta(days=3)).isoformat())
    form.get_by_role("button", name="Add conference").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(NAME)
    expect(rows.first).to_contain_text("Milan, Italy")
    expect(rows.first).to_contain_text("confirmed")
    expect(rows.nth(1)).to_contain_text(older.name)
    expect(page.locator("#flashes")).to_have_text(f"Conference “{NAME}” added.")
    expect(form.locator(".error-summary")).to_have_count(0)
    expect(form.get_by_label("Conference name", exact=True)).to_have_value("")
    expect(form.get_by_label("City", exact=True)).to_have_value("")
    # Nothing of the row spilled out beside the form (as when the parser drops a bare <tbody>).
    expect(page.locator("section.panel")).not_to_contain_text(NAME)
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(f"{live_server.url}/conferences")

    # It was stored, not only drawn: a real reload shows it first.
    page.reload()
    expect(rows.first).to_contain_text(NAME)
    assert page.evaluate("window.__noReload") is None
