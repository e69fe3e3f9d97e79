"""The donations and donors lists download as CSV and XLSX with the filters of their page: the
rows the page would show, a total per currency, every formula-looking cell made text, and
never a donor's notes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal.blueprints.donors import services


def read(response, fmt: str) -> list[list[str]]:
    """The file's rows as text, read back as a spreadsheet program would (csv, openpyxl)."""
    assert response.status_code == 200
    data = response.get_data()
    response.close()  # what the server does once it has sent the file
    if fmt == "csv":
        assert response.mimetype == "text/csv"
        return list(csv.reader(io.StringIO(data.decode())))
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = [["" if cell is None else str(cell) for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


@pytest.fixture
def gifts(make_donor, make_donation, staff):
    alice = make_donor(first_name="Alice", last_name="Archer", notes="Prefers phone calls after 6 pm.")
    boris = make_donor(first_name="Boris", last_name="Belov", email="boris@example.org")
    make_donation(alice, 5000, dt.date(2026, 3, 1), campaign="=HYPERLINK(\"http://evil.example\")")
    make_donation(alice, 1250, dt.date(2026, 3, 2), currency="EUR")
    make_donation(boris, 700, dt.date(2026, 3, 3), reference="BB-1")
    thanked = make_donation(boris, 10000, dt.date(2026, 2, 1))
    services.acknowledge([thanked], by=staff)
    return alice, boris


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_donations_export_has_the_pages_rows_and_a_total_per_currency(client, login, staff, gifts, fmt):
    login(staff)
    rows = read(client.get(f"/donors/donations.{fmt}?status=pending"), fmt)
    assert rows[0] == services.DONATION_COLUMNS
    body = [row for row in rows[1:] if row[0] != "total"]
    alice, boris = (donor.display_name for donor in gifts)
    assert [row[2] for row in body] == [boris, alice, alice]  # newest first
    totals = {row[5]: Decimal(row[4]) for row in rows if row[0] == "total"}  # XLSX: numbers
    assert totals == {"EUR": Decimal("12.50"), "GBP": Decimal("57.00")}
    assert "'=HYPERLINK(\"http://evil.example\")" in [row[8] for row in body]  # text, never a formula

    everything = read(client.get(f"/donors/donations.{fmt}?status=all&q=belov"), fmt)
    assert [row[3] for row in everything[1:] if row[0] != "total"] == [str(gifts[1].id)] * 2
    [total] = [row for row in everything if row[0] == "total"]
    assert Decimal(total[4]) == Decimal("107.00") and total[5] == "GBP"
    thanked = [row for row in everything[1:] if row[0] != "total" and row[10]]
    assert len(thanked) == 1 and thanked[0][10].count("-") == 2  # the letter's reference


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_donors_export_has_contact_details_but_never_the_notes(client, login, staff, gifts, fmt):
    login(staff)
    alice, boris = (donor.display_name for donor in gifts)
    rows = read(client.get(f"/donors/export.{fmt}"), fmt)
    assert rows[0] == services.DONOR_COLUMNS
    assert {row[2]: row[11] for row in rows[1:]} == {alice: "2", boris: "2"}
    assert not any("Prefers phone calls" in cell for row in rows for cell in row)
    assert [row[2] for row in read(client.get(f"/donors/export.{fmt}?q=BORIS"), fmt)[1:]] == [boris]


def test_exports_are_for_staff_and_name_their_file(client, login, make_user, staff):
    login(make_user(roles=["doctor"]))
    assert client.get("/donors/donations.csv").status_code == 403
    assert client.get("/donors/export.xlsx").status_code == 403
    client.post("/logout")
    login(staff)
    response = client.get("/donors/donations.xlsx")
    response.close()
    assert response.headers["Content-Disposition"].startswith("attachment; filename=donations-")
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    assert client.get("/donors/donations.pdf").status_code == 404
    page = client.get("/donors/donations?status=all&q=x&page=2").get_data(as_text=True)
    assert 'href="/donors/donations.csv?status=all&amp;q=x"' in page  # the filters, not the page
