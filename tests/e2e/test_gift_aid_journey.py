"""Gift Aid, end to end: staff record three gifts for a donor with a Gift Aid declaration (one
sponsorship of a sponsored event, one with a benefit over HMRC's limits, whose page says why it
cannot be claimed), record an aggregated collection, make a claim and check its figures,
download HMRC's schedule as ODS and XLSX and read both back, then mark the claim submitted and
paid; the donor's page shows what was claimed on their gifts. The overview and the claim page
also read in Russian, pass axe-core and fit a 360 px phone."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import clock
from portal.blueprints.donors.claims import SCHEDULE_COLUMNS
from portal.extensions import db
from portal.models import Donor, GiftAidDeclaration
from tests.e2e.test_phone_widths import PHONE, WIDEST

pytestmark = pytest.mark.e2e

TITLE, FIRST, LAST = "Mrs", "Margaret", "Hollis-Grant"
NAME = f"{TITLE} {FIRST} {LAST}"
SCHEDULE_LAST = "Hollis Grant"  # HMRC takes no hyphens in a surname
HOUSE, POSTCODE = "14", "BA1 2AB"
# (amount typed, as shown, bank reference, days ago received, sponsored event, benefit typed, what it was)
CLAIMED_GIFTS = [("25", "£25.00", "HOLLIS-0001", 6, False, None, None),
                 ("40.00", "£40.00", "HOLLIS-0002", 3, True, None, None)]
# £30 of concert tickets for £100: HMRC allows 25 % of the first £100, £25.
OVER_LIMIT = ("100", "£100.00", "HOLLIS-0003", 2, False, "30", "Two concert tickets")
NOT_ELIGIBLE = ("not eligible: The donor received a benefit worth £30.00: more than HMRC allows for a gift of "
                "£100.00 (£25.00).")
COLLECTION, COLLECTION_GIFTS, COLLECTION_TOTAL = "Concert collection", "12", "150"
# Two gifts (£65) and the collection (£150): 25 % of £215.
LINES, DONATIONS, GIFT_AID = 3, "£215.00", "£53.75"
GIFT_AID_RATE = "Gift Aid: 25p in the pound"
HMRC_REFERENCE = "X12345CHAR"
# Strings of these screens that portal/translations/ru already translates.
RU_DONORS, RU_LINES, RU_DONATIONS = "Доноры", "Строки", "Пожертвования"
RU_FIRST_NAME, RU_LAST_NAME, RU_AMOUNT = "Имя", "Фамилия", "Сумма"



def _donor_with_declaration(declared_on: dt.date) -> Donor:
    donor = Donor(kind="individual", title=TITLE, first_name=FIRST, last_name=LAST,
                  email="margaret.hollis@example.org", house=HOUSE, address="Cherry Tree Lane\nBath",
                  postcode=POSTCODE, country="GB", language="en", contact_preference="email")
    donor.refresh_search_name()
    donor.declarations.append(GiftAidDeclaration(made_on=declared_on))  # past and future gifts
    db.session.add(donor)
    return donor


def _medium(day: dt.date) -> str:
    return format_date(day, "medium", locale="en_GB")


def _fact(page: Page, term: str | re.Pattern[str]) -> Any:
    """The <dd> after the <dt> reading exactly ``term`` (or matching the pattern) in the page's facts."""
    if isinstance(term, str):
        term = re.compile(rf"^{re.escape(term)}$")
    return page.locator("dl.facts dt", has_text=term).locator("+ dd")


def _ods_rows(path: Path) -> list[list[Any]]:
    """The one sheet's rows: numbers as (Decimal, text shown), text as str, empty cells as ""."""
    from odf import teletype
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    tables = load(str(path)).spreadsheet.getElementsByType(Table)
    assert [table.getAttribute("name") for table in tables] == ["Donations"]
    rows = []
    for row in tables[0].getElementsByType(TableRow):
        values: list[Any] = []
        for cell in row.getElementsByType(TableCell):
            if cell.getAttribute("valuetype") == "float":
                values.append((Decimal(cell.getAttribute("value")), teletype.extractText(cell)))
            else:
                values.append(teletype.extractText(cell))
        rows.append(values)
    return rows


def _download(page: Page, link_name: str, tmp_path: Path) -> tuple[str, Path]:
    with page.expect_download() as download:
        page.locator("#schedule").get_by_role("link", name=link_name, exact=True).click()
    name = download.value.suggested_filename
    path = tmp_path / name
    download.value.save_as(path)
    return name, path


def test_gifts_a_collection_a_claim_its_schedule_submitted_and_paid(
        app: Flask, live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any],
        sign_in: Any, make_user: Any, axe: Any, console_errors: Any, tmp_path: Path) -> None:
    base = live_server.url
    today = clock.today()
    staff = make_user(roles=["staff"], name="Emma Clarke")
    donor = _donor_with_declaration(today - dt.timedelta(days=30))
    db.session.commit()
    staff_email, donor_url = staff.email, f"{base}/donors/{donor.id}"
    db.session.commit()  # end the read transaction the attribute load opened
    console_errors.watch(page)

    # Staff open the donor: their declaration stands.
    sign_in(page, staff_email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Donors", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/")
    page.locator("#donor-rows").get_by_role("link", name=NAME, exact=True).click()
    expect(page).to_have_url(donor_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator("#gift-aid tbody tr td").nth(2)).to_have_text("in force")
    expect(page.locator("#claimed tbody")).to_have_text("No Gift Aid claimed on this donor's gifts yet.")

    # Three gifts through the "Record a gift" form: the second sponsors a sponsored event, the
    # third came with a benefit worth more than HMRC allows.
    gifts = page.locator("#donations")
    gift_rows = gifts.locator("tbody tr")
    form = gifts.locator("form[action$='/donations']")
    for n, (typed, shown, reference, days_ago, sponsored, benefit, benefit_was) in enumerate(
            [*CLAIMED_GIFTS, OVER_LIMIT], start=1):
        gifts.locator("summary", has_text="Record a gift").click()
        form.get_by_label("Amount", exact=True).fill(typed)
        expect(form.get_by_label("Currency", exact=True)).to_have_value("GBP")
        form.get_by_label("Date received", exact=True).fill((today - dt.timedelta(days=days_ago)).isoformat())
        form.get_by_label("Reference", exact=True).fill(reference)
        if sponsored:
            form.get_by_label("Sponsorship of a sponsored event", exact=True).check()
        if benefit:
            form.get_by_label("Value of any benefit the donor received", exact=True).fill(benefit)
            form.get_by_label("What the benefit was", exact=True).fill(benefit_was)
        form.get_by_role("button", name="Record the gift", exact=True).click()
        expect(page.locator("#flashes")).to_have_text(f"Donation of {shown} recorded: it awaits thanks.")
        expect(page).to_have_url(f"{donor_url}#donations")
        expect(gift_rows).to_have_count(n)
    for _, shown, reference, *_ in CLAIMED_GIFTS:
        row = gift_rows.filter(has_text=reference)
        expect(row.locator("td").nth(1)).to_have_text(shown)
        expect(row.locator("td").nth(4)).to_have_text("eligible")
    over_limit_row = gift_rows.filter(has_text=OVER_LIMIT[2])
    expect(over_limit_row.locator("td").nth(1)).to_have_text(OVER_LIMIT[1])
    expect(over_limit_row.locator("td").nth(4)).to_have_text("—")

    # The third gift's page says why Gift Aid cannot be claimed on it.
    over_limit_row.locator("td").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/donations/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{OVER_LIMIT[1]} · {NAME}")
    expect(_fact(page, "Gift Aid")).to_have_text(NOT_ELIGIBLE)
    expect(_fact(page, "Benefit to the donor")).to_have_text(f"£30.00: {OVER_LIMIT[6]}")
    assert axe(page) == []

    # The Gift Aid overview, from the donors' list: two gifts wait, nothing claimed yet.
    page.get_by_role("link", name=f"← {NAME}", exact=True).click()
    expect(page).to_have_url(donor_url)
    page.get_by_role("link", name="← Donors", exact=True).click()
    page.get_by_role("link", name="Gift Aid claims", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/gift-aid")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gift Aid claims")
    expect(_fact(page, "Eligible gifts not yet claimed")).to_have_text("2 gifts: £65.00")
    expect(_fact(page, "Aggregated entries not yet claimed")).to_have_text("0 entries: £0.00")
    expect(page.locator("#claims tbody")).to_have_text("No claims yet.")
    assert axe(page) == []

    # A collection recorded as one aggregated line.
    aggregated = page.locator("#aggregated")
    aggregated.locator("summary", has_text="Record aggregated donations").click()
    entry_form = aggregated.locator("form[action$='/gift-aid/aggregates']")
    collected_on = today - dt.timedelta(days=1)
    entry_form.get_by_label("Description", exact=True).fill(COLLECTION)
    entry_form.get_by_label("Day of the last gift", exact=True).fill(collected_on.isoformat())
    entry_form.get_by_label("Number of gifts", exact=True).fill(COLLECTION_GIFTS)
    entry_form.get_by_label("Total", exact=True).fill(COLLECTION_TOTAL)
    entry_form.get_by_role("button", name="Record the entry", exact=True).click()
    expect(page).to_have_url(f"{base}/donors/gift-aid#aggregated")
    expect(page.locator("#flashes")).to_have_text(f"Aggregated entry “{COLLECTION}” of £150.00 recorded.")
    expect(aggregated.locator("tbody tr").first.locator("td")).to_have_text(
        [COLLECTION, _medium(collected_on), COLLECTION_GIFTS, "£150.00", "Remove"])
    expect(_fact(page, "Aggregated entries not yet claimed")).to_have_text("1 entry: £150.00")
    expect(_fact(page, "Gift Aid a claim made today would ask for")).to_have_text(GIFT_AID)

    # A claim of everything up to today: the draft's page.
    claim_form = page.locator("#next-claim form")
    claim_form.get_by_label("Gifts received up to", exact=True).fill(today.isoformat())
    claim_form.get_by_role("button", name="Make a claim", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/donors/gift-aid/claims/\d+$"))
    claim_url = page.url
    reference = f"GA-{int(claim_url.rsplit('/', 1)[1]):05d}"
    assert reference == "GA-00001"  # the first claim on a fresh database
    expect(page.locator("#flashes")).to_have_text(f"Draft claim {reference} made: {GIFT_AID} of Gift Aid to claim.")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(rf"^Gift Aid claim {reference}\b"))
    state = page.locator("main .badge")  # the claim's state, beside its heading
    expect(state).to_have_text("draft")
    expect(_fact(page, "Gifts received up to")).to_have_text(format_date(today, "long", locale="en_GB"))
    expect(_fact(page, "Lines")).to_have_text(str(LINES))
    expect(_fact(page, "Donations")).to_have_text(DONATIONS)
    expect(_fact(page, GIFT_AID_RATE)).to_have_text(GIFT_AID)
    expect(_fact(page, "Adjustment to previous claims")).to_have_text("£0.00")
    expect(_fact(page, "Gift Aid claimed")).to_have_text(GIFT_AID)
    days = [today - dt.timedelta(days=CLAIMED_GIFTS[0][3]), today - dt.timedelta(days=CLAIMED_GIFTS[1][3]),
            collected_on]
    short = [format_date(day, "short", locale="en_GB") for day in days]
    lines = page.locator("#lines tbody tr")
    expect(lines).to_have_count(LINES)
    expect(lines.nth(0).locator("td")).to_have_text(
        [TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, "", "", short[0], "£25.00", "Take out"])
    expect(lines.nth(1).locator("td")).to_have_text(
        [TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, "", "Yes", short[1], "£40.00", "Take out"])
    expect(lines.nth(2).locator("td")).to_have_text(["", "", "", "", "", COLLECTION, "", short[2], "£150.00",
                                                     "Take out"])
    assert axe(page) == []

    # HMRC's schedule, as ODS and as XLSX, in HMRC's columns with the claim's three lines.
    hmrc_days = [day.strftime("%d/%m/%y") for day in days]
    name, ods = _download(page, "ODS", tmp_path)
    assert name == f"gift-aid-schedule-{reference}-1-of-1.ods"
    assert ods.read_bytes().startswith(b"PK")  # a zip, as OpenDocument files are
    header, *rows = _ods_rows(ods)
    assert tuple(header) == SCHEDULE_COLUMNS
    assert rows == [
        [(Decimal(1), "1"), TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, "", "", hmrc_days[0],
         (Decimal("25.00"), "25.00")],
        [(Decimal(2), "2"), TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, "", "Yes", hmrc_days[1],
         (Decimal("40.00"), "40.00")],
        [(Decimal(3), "3"), "", "", "", "", "", COLLECTION, "", hmrc_days[2], (Decimal("150.00"), "150.00")],
    ]

    from openpyxl import load_workbook

    name, xlsx = _download(page, "XLSX", tmp_path)
    assert name == f"gift-aid-schedule-{reference}-1-of-1.xlsx"
    workbook = load_workbook(xlsx)
    assert workbook.sheetnames == ["Donations"]
    sheet = workbook["Donations"]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert tuple(header) == SCHEDULE_COLUMNS
    assert [row[:9] for row in rows] == [
        [1, TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, None, None, hmrc_days[0]],
        [2, TITLE, FIRST, SCHEDULE_LAST, HOUSE, POSTCODE, None, "Yes", hmrc_days[1]],
        [3, None, None, None, None, None, COLLECTION, None, hmrc_days[2]],
    ]
    assert [Decimal(str(row[9])) for row in rows] == [Decimal("25.00"), Decimal("40.00"), Decimal("150.00")]
    assert [row[9].number_format for row in sheet.iter_rows(min_row=2)] == ["0.00"] * LINES
    workbook.close()

    # Submitted to HMRC, with their reference; then paid in full.
    submit = page.locator("#submit")
    submit.get_by_label("HMRC's reference", exact=True).fill(HMRC_REFERENCE)
    submit.get_by_label("Submitted on", exact=True).fill(today.isoformat())
    submit.get_by_role("button", name="Mark as submitted", exact=True).click()
    expect(page).to_have_url(claim_url)
    expect(page.locator("#flashes")).to_have_text(f"Claim {reference} marked as submitted to HMRC.")
    expect(state).to_have_text("submitted")
    expect(_fact(page, "Submitted to HMRC")).to_have_text(
        f"{format_date(today, 'long', locale='en_GB')}, HMRC's reference {HMRC_REFERENCE}")
    expect(page.locator("#submit")).to_have_count(0)
    expect(page.get_by_role("button", name="Take out")).to_have_count(0)  # a submitted claim stays as sent
    paid = page.locator("#paid")
    paid.get_by_label("Amount received", exact=True).fill("53.75")
    paid.get_by_label("Received on", exact=True).fill(today.isoformat())
    paid.get_by_role("button", name="Mark as paid", exact=True).click()
    expect(page).to_have_url(claim_url)
    expect(page.locator("#flashes")).to_have_text(f"Claim {reference} marked as paid.")
    expect(state).to_have_text("paid")
    expect(_fact(page, "Paid by HMRC")).to_have_text(f"{GIFT_AID}, {format_date(today, 'long', locale='en_GB')}")
    expect(page.locator("#paid")).to_have_count(0)
    expect(page.locator("section.timeline li .what")).to_have_text(["Claim made", "Submitted to HMRC", "Paid by HMRC"])
    assert axe(page) == []

    # The overview lists the paid claim.
    page.get_by_role("link", name="← Gift Aid claims").click()
    expect(page).to_have_url(f"{base}/donors/gift-aid")
    claim_row = page.locator("#claims tbody tr")
    expect(claim_row).to_have_count(1)
    expect(claim_row.locator("td")).to_have_text(
        [reference, "paid", _medium(today), str(LINES), DONATIONS, GIFT_AID, f"{_medium(today)} · {HMRC_REFERENCE}",
         f"{GIFT_AID}, {_medium(today)}"])
    expect(_fact(page, "Eligible gifts not yet claimed")).to_have_text("0 gifts: £0.00")

    # The donor's page: what was claimed on each of their gifts, and in which claim.
    page.goto(donor_url)
    claimed = page.locator("#claimed")
    expect(claimed.get_by_role("heading", level=2)).to_have_text("Gift Aid claimed")
    claimed_rows = claimed.locator("tbody tr")
    expect(claimed_rows).to_have_count(2)  # newest first; the collection is no gift of theirs
    expect(claimed_rows.nth(0).locator("td")).to_have_text(
        [_medium(days[1]), "£40.00", "£10.00", f"{reference} · paid", _medium(today)])
    expect(claimed_rows.nth(1).locator("td")).to_have_text(
        [_medium(days[0]), "£25.00", "£6.25", f"{reference} · paid", _medium(today)])
    expect(claimed_rows.get_by_role("link", name=reference, exact=True)).to_have_count(2)
    claimed_rows.nth(0).get_by_role("link", name=_medium(days[1]), exact=True).click()
    expect(_fact(page, "Gift Aid")).to_have_text(  # a line break between the two
        re.compile(rf"^eligible\s*Claimed in {reference} \(paid\): £40\.00$"))
    expect(_fact(page, "Sponsored event")).to_have_text("yes")

    # At a phone's width the claim page and the overview need no sideways scrolling.
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    phone_page = console_errors.watch(phone.new_page())
    sign_in(phone_page, staff_email)
    too_wide = []
    for url in (claim_url, f"{base}/donors/gift-aid"):
        phone_page.goto(url)
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        found = phone_page.evaluate(WIDEST)
        if found["scroll"] > PHONE["width"] or found["scroll"] > found["inner"]:
            too_wide.append(("en", url, found))

    # In Russian (the staff member's own choice of language), the same screens.
    staff.preferred_language = "ru"
    db.session.commit()
    page.goto(f"{base}/donors/gift-aid")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("nav").get_by_role("link", name=RU_DONORS, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"← {RU_DONORS}", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gift Aid")  # a name, kept in Russian
    claims_table = page.locator("#claims table")
    expect(claims_table.get_by_role("columnheader", name=RU_LINES, exact=True)).to_be_visible()
    expect(claims_table.get_by_role("columnheader", name=RU_DONATIONS, exact=True)).to_be_visible()
    expect(claims_table.get_by_role("link", name=reference, exact=True)).to_be_visible()
    assert axe(page) == []
    claims_table.get_by_role("link", name=reference, exact=True).click()
    expect(page).to_have_url(claim_url)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.locator("nav").get_by_role("link", name=RU_DONORS, exact=True)).to_be_visible()
    expect(_fact(page, RU_LINES)).to_have_text(str(LINES))
    expect(page.locator("dl.facts dt", has_text=re.compile(rf"^{RU_DONATIONS}$"))).to_have_count(1)
    lines_table = page.locator("#lines table")
    for heading in (RU_FIRST_NAME, RU_LAST_NAME, RU_AMOUNT):
        expect(lines_table.get_by_role("columnheader", name=heading, exact=True)).to_be_visible()
    expect(lines_table.locator("tbody tr")).to_have_count(LINES)
    assert axe(page) == []
    for url in (claim_url, f"{base}/donors/gift-aid"):
        phone_page.goto(url)
        expect(phone_page.locator("html")).to_have_attribute("lang", "ru")
        found = phone_page.evaluate(WIDEST)
        if found["scroll"] > PHONE["width"] or found["scroll"] > found["inner"]:
            too_wide.append(("ru", url, found))
    phone.close()
    assert too_wide == [], "\n".join(map(str, too_wide))

    assert console_errors == []
