"""A claim's Gift Aid schedule in HMRC's columns, as ODS, XLSX and CSV read back with odfpy,
openpyxl and csv: 1,000 donations a file at most, the claim's reference in every file name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow
from openpyxl import load_workbook
from sqlalchemy import insert

from portal import clock
from portal.blueprints.donors import claims
from portal.extensions import db
from portal.models import Donation, GiftAidDeclaration

HMRC_HEADER = ["Item", "Title", "First name or initial", "Last name", "House name or number", "Postcode",
               "Aggregated donations", "Sponsored event", "Donation date", "Amount"]
START, END = dt.date(2024, 4, 6), dt.date(2025, 4, 5)  # a UK tax year


def ods_rows(body: bytes) -> list[list[str]]:
    """The sheet's rows as the cells' text (a float cell: its value), as a spreadsheet reads them."""
    document = load(io.BytesIO(body))
    [sheet] = document.spreadsheet.getElementsByType(Table)
    rows = []
    for row in sheet.getElementsByType(TableRow):
        cells = []
        for cell in row.getElementsByType(TableCell):
            value = cell.getAttribute("value")
            cells.append(value if value is not None else str(cell))
        rows.append(cells)
    return rows


def xlsx_rows(body: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


READERS = {"ods": ods_rows, "xlsx": xlsx_rows, "csv": csv_rows}


@pytest.fixture
def claim(staff, make_donor, make_donation):
    """A claim of gifts around one tax year, with what should and should not be in it."""
    declared = dt.date(2024, 1, 1)
    smith = make_donor(declared_on=declared, title="Mrs", first_name="Jane", last_name="Smith", house="12",
                       postcode="sw1a 1aa")
    dupont = make_donor(declared_on=declared, title="Mr", first_name="Pierre", last_name="Dupont", house="Villa Rose",
                        address="3 rue de la Paix\nParis", postcode="75002", country="FR")
    make_donation(smith, 2500, START)
    make_donation(smith, 100050, dt.date(2024, 11, 30), sponsored_event=True)  # £1,000.50
    make_donation(dupont, 1000, END)
    make_donation(smith, 4100, END + dt.timedelta(days=1))  # after the claim's day: out
    make_donation(smith, 4200, dt.date(2024, 7, 1), currency="EUR")  # not sterling: out
    company = make_donor(kind="organisation", title=None, first_name=None, last_name=None,
                         organisation_name="Acme Widgets Ltd", house="1", postcode="EC1A 1BB")
    db.session.add(GiftAidDeclaration(donor=company, made_on=declared))  # on file by mistake
    db.session.commit()
    make_donation(company, 50000, dt.date(2024, 8, 1))  # an organisation: out
    made = claims.create_claim(END, by=staff)
    made.expected = [
        ["1", "Mrs", "Jane", "Smith", "12", "SW1A 1AA", "", "", "06/04/24", "25.00"],
        ["2", "Mrs", "Jane", "Smith", "12", "SW1A 1AA", "", "Yes", "30/11/24", "1000.50"],
        ["3", "Mr", "Pierre", "Dupont", "Villa Rose", "X", "", "", "05/04/25", "10.00"],  # X: abroad
    ]
    return made


def money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


@pytest.mark.parametrize("fmt", ["ods", "xlsx", "csv"])
def test_the_schedule_has_hmrcs_columns_and_the_claims_lines(client, login, staff, claim, fmt):
    login(staff)
    response = client.get(f"/donors/gift-aid/claims/{claim.id}/schedule-1.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="gift-aid-schedule-{claim.reference}-1-of-1.{fmt}"')
    header, *rows = READERS[fmt](response.data)
    assert header == HMRC_HEADER
    assert [[*row[:9], f"{money(row[9])}"] for row in rows] == claim.expected
    assert sum(money(row[9]) for row in rows) == Decimal(claim.total) / 100 == Decimal("1035.50")


def test_the_ods_amounts_are_numbers_and_the_dates_text(client, login, staff, claim):
    login(staff)
    document = load(io.BytesIO(client.get(f"/donors/gift-aid/claims/{claim.id}/schedule-1.ods").data))
    first = document.spreadsheet.getElementsByType(TableRow)[1].getElementsByType(TableCell)
    assert first[9].getAttribute("valuetype") == "float" and str(first[9]) == "25.00"
    assert first[8].getAttribute("valuetype") == "string" and str(first[8]) == "06/04/24"


def test_2500_gifts_make_three_files_whose_totals_sum_to_the_claim(client, login, staff, make_donor):
    donors = [make_donor(declared_on=dt.date(2020, 1, 1), last_name=f"Donor {n:03d}") for n in range(25)]
    today = clock.today()
    db.session.execute(insert(Donation), [
        {"donor_id": donors[n % 25].id, "amount": 1000 + n, "currency": "GBP", "method": "card",
         "received_on": today - dt.timedelta(days=n % 700), "restricted": False} for n in range(2500)])
    db.session.commit()
    made = claims.create_claim(today, by=staff)
    assert (made.lines_count, claims.schedule_parts(made)) == (2500, 3)
    assert made.total == sum(1000 + n for n in range(2500))
    login(staff)
    page = client.get(f"/donors/gift-aid/claims/{made.id}").get_data(as_text=True)
    for fmt in ("ods", "xlsx", "csv"):
        totals, counts, items = [], [], []
        for part in (1, 2, 3):
            url = f"/donors/gift-aid/claims/{made.id}/schedule-{part}.{fmt}"
            assert url in page
            response = client.get(url)
            assert f"gift-aid-schedule-{made.reference}-{part}-of-3.{fmt}" in response.headers["Content-Disposition"]
            header, *rows = READERS[fmt](response.data)
            assert header == HMRC_HEADER
            counts.append(len(rows))
            totals.append(sum(money(row[9]) for row in rows))
            items.append((rows[0][0], rows[-1][0]))
        assert counts == [1000, 1000, 500], fmt
        assert sum(totals) == Decimal(made.total) / 100, fmt
        assert items == [("1", "1000"), ("1", "1000"), ("1", "500")], fmt  # HMRC's item numbers, a file each
    assert client.get(f"/donors/gift-aid/claims/{made.id}/schedule-4.ods").status_code == 404


@pytest.mark.parametrize("fmt", ["ods", "xlsx", "csv"])
def test_a_donor_name_that_is_a_formula_reaches_the_schedule_as_text(client, login, staff, make_donor, make_donation,
                                                                     fmt):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), title="Mr", first_name="=HYPERLINK(\"http://x\")",
                       last_name="@SUM(A1)", house="+44", postcode="SW1A 1AA")
    make_donation(donor, 2500, START)
    made = claims.create_claim(END, by=staff)
    login(staff)
    [row] = READERS[fmt](client.get(f"/donors/gift-aid/claims/{made.id}/schedule-1.{fmt}").data)[1:]
    assert row[2:5] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+44"]
    assert money(row[9]) == Decimal("25.00")


def test_the_claim_page_lists_its_lines_a_hundred_a_page(client, login, staff, make_donor, count_statements):
    donor = make_donor(declared_on=dt.date(2020, 1, 1))
    today = clock.today()
    db.session.execute(insert(Donation), [
        {"donor_id": donor.id, "amount": 500 + n, "currency": "GBP", "method": "card",
         "received_on": today - dt.timedelta(days=n), "restricted": False} for n in range(130)])
    db.session.commit()
    made = claims.create_claim(today, by=staff)
    login(staff)
    with count_statements() as first:
        page = client.get(f"/donors/gift-aid/claims/{made.id}").get_data(as_text=True)
    assert len(re.findall(r'data-label="Donation date"', page)) == 100 and "Page 1 of 2" in page
    with count_statements() as second:
        page = client.get(f"/donors/gift-aid/claims/{made.id}?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-label="Donation date"', page)) == 30
    assert first.count == second.count
