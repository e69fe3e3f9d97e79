"""Staff bring in the programme's history from a spreadsheet, in a real browser: from the impact
page to the upload, the columns and the preview (swapped in place by htmx as a column
changes), the rows with errors left out, the import and its result, and the impact page
counting the imported trips. In English and Russian, passing axe-core; and the same with
JavaScript switched off."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.impact import impact_summary
from portal.models import Clinic, HistoricalRecord

pytestmark = pytest.mark.e2e


def workbook(path: Path) -> Path:
    """Ten past trips: eight good, one repeated and one at a clinic the portal does not know."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Start date", "Doctor", "Clinic", "Conference", "City", "Colleagues"])
    for n in range(8):
        sheet.append([f"{2012 + n}-09-1{n}", f"Doctor {n}", "North Clinic", f"Congress {n}", "Vienna", 10 + n])
    sheet.append(["2012-09-10", "DOCTOR 0", "North Clinic", "congress 0", "Vienna", 10])
    sheet.append(["2013-05-01", "Doctor 9", "Nowhere Hospital", "Congress 9", "Berlin", 4])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def doctors_on_the_impact_page(page: Page) -> str:
    return page.locator(".impact-totals dd").first.inner_text()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_staff_import_past_trips_and_see_them_counted(live_server: Any, page: Page, sign_in: Any, make_user: Any,
                                                      tmp_path: Path, axe: Any, console_errors: Any,
                                                      language: str) -> None:
    base = live_server.url
    staff = make_user(roles=["staff"], name="Emma Clarke")
    db.session.add(Clinic(name="North Clinic", city="Moscow", country="Russia"))
    db.session.commit()
    before = impact_summary()["totals"]["applications.doctors"]
    console_errors.watch(page)
    sign_in(page, staff.email)
    staff.preferred_language = language  # the pages from here on in this language
    db.session.commit()

    page.goto(f"{base}/impact")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".impact-totals dd").first).to_have_text(str(before))
    page.locator("a[href$='/history']").click()
    expect(page).to_have_url(f"{base}/history")
    assert axe(page) == []
    page.locator("input[name=kind][value=trip]").check()
    page.locator("input[type=file][name=file]").set_input_files(str(workbook(tmp_path / "trips.xlsx")))
    page.locator("form[enctype] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/history/imports/\d+$"))

    counts = page.locator("#import-counts li")
    expect(counts.nth(0)).to_contain_text("8")
    expect(counts.nth(1)).to_contain_text("1")
    expect(counts.nth(2)).to_contain_text("1")
    expect(page.locator("#row-11")).to_contain_text("Nowhere Hospital")
    assert axe(page) == []

    # The city is not wanted after all: the preview follows the change in place (htmx)
    with page.expect_response(lambda r: r.request.method == "POST" and "/history/imports/" in r.url) as swapped:
        page.select_option("#col_city", "")
    assert swapped.value.status == 200 and swapped.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#import-preview #skip_errors")).to_be_visible()
    page.locator("#skip_errors").check()
    page.locator("#import-preview button[type=submit]").click()
    expect(page.locator("#import-result")).to_be_visible()
    expect(page.locator("#import-result dd").nth(1)).to_have_text("8")
    assert axe(page) == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HistoricalRecord)) == 8
    assert db.session.scalar(select(func.count()).select_from(HistoricalRecord)
                             .where(HistoricalRecord.city.is_not(None))) == 0

    page.goto(f"{base}/impact")
    expect(page.locator(".impact-totals dd").first).to_have_text(str(before + 8))
    assert console_errors == []


def test_the_history_import_works_without_javascript(live_server: Any, browser: Browser,
                                                     browser_context_args: dict[str, Any], sign_in: Any,
                                                     make_user: Any, tmp_path: Path) -> None:
    base = live_server.url
    staff = make_user(roles=["staff"], name="Emma Clarke")
    db.session.add(Clinic(name="North Clinic", city="Moscow", country="Russia"))
    db.session.commit()
    context = browser.new_context(**{**browser_context_args, "java_script_enabled": False})
    page = context.new_page()
    sign_in(page, staff.email)
    page.goto(f"{base}/history")
    page.get_by_label("Conference trips").check()
    page.get_by_label("CSV or Excel file").set_input_files(str(workbook(tmp_path / "trips.xlsx")))
    page.get_by_role("button", name="Upload and choose the columns").click()
    expect(page.locator("#import-counts")).to_contain_text("8 will be imported")

    page.select_option("#col_city", "")
    page.get_by_role("button", name="Preview", exact=True).click()  # a plain post redraws the whole page
    expect(page.locator("#import-counts")).to_contain_text("8 will be imported")
    page.get_by_role("button", name="Import 8 records").click()  # the box is not ticked: refused, nothing written
    expect(page.locator("#skip_errors-error")).to_contain_text("1 row has an error, so nothing was imported")
    page.get_by_label("Skip the 1 row with errors and import the others").check()
    page.get_by_role("button", name="Import 8 records").click()
    expect(page.locator("#import-result")).to_contain_text("8")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HistoricalRecord)) == 8
    context.close()
