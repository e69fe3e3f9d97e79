"""The Gift Aid claim: HMRC's schedule columns as CSV, and the same rows on screen."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest

from portal.blueprints.donors import services
from portal.extensions import db
from portal.models import GiftAidDeclaration

HMRC_HEADER = ["Title", "First name or initial", "Last name", "House name or number", "Postcode",
               "Aggregated donations", "Sponsored event", "Donation date", "Amount"]
START, END = dt.date(2024, 4, 6), dt.date(2025, 4, 5)  # a UK tax year
PERIOD = f"start={START.isoformat()}&end={END.isoformat()}"


@pytest.fixture
def claim(make_donor, make_donation):
    """Gifts around one tax year: what should, and what should not, be claimed."""
    declared = dt.date(2024, 1, 1)
    smith = make_donor(declared_on=declared, title="Mrs", first_name="Jane", last_name="Smith", house="12",
                       postcode="sw1a 1aa")
    dupont = make_donor(declared_on=declared, title="Mr", first_name="Pierre", last_name="Dupont", house="Villa Rose",
                        address="3 rue de la Paix\nParis", postcode="75002", country="FR")
    make_donation(smith, 2500, START)  # the first day: in
    make_donation(smith, 100050, dt.date(2024, 11, 30))  # £1,000.50
    make_donation(dupont, 1000, END)  # the last day: in
    make_donation(smith, 4000, START - dt.timedelta(days=1))  # the day before: out
    make_donation(smith, 4100, END + dt.timedelta(days=1))  # the day after: out
    make_donation(smith, 4200, dt.date(2024, 7, 1), currency="EUR")  # not sterling: out

    company = make_donor(kind="organisation", title=None, first_name=None, last_name=None,
                         organisation_name="Acme Widgets Ltd", house="1", postcode="EC1A 1BB")
    db.session.add(GiftAidDeclaration(donor=company, made_on=declared))  # on file by mistake
    db.session.commit()
    make_donation(company, 50000, dt.date(2024, 8, 1))  # an organisation: out

    undeclared = make_donor(first_name="Paul", last_name="Nodecl")
    make_donation(undeclared, 3000, dt.date(2024, 8, 2))  # no declaration: out

    later = make_donor(title=None, first_name="Lena", last_name="Later")  # no title: left blank
    db.session.add(GiftAidDeclaration(donor=later, made_on=dt.date(2024, 9, 1), covers_past=False))
    db.session.commit()
    make_donation(later, 3100, dt.date(2024, 8, 31))  # before a future-only declaration: out
    make_donation(later, 3200, dt.date(2024, 9, 1))  # on the day it was made: in

    cancelled = make_donor(first_name="Carl", last_name="Cancelled")
    db.session.add(GiftAidDeclaration(donor=cancelled, made_on=declared, cancelled_on=dt.date(2024, 10, 1)))
    db.session.commit()
    make_donation(cancelled, 3300, dt.date(2024, 9, 30))  # before the cancellation: in
    make_donation(cancelled, 3400, dt.date(2024, 10, 1))  # from the cancellation: out

    return [
        ["Mrs", "Jane", "Smith", "12", "SW1A 1AA", "", "", "06/04/24", "25.00"],
        ["", "Lena", "Later", later.house, "SW1A 1AA", "", "", "01/09/24", "32.00"],
        ["Mr", "Carl", "Cancelled", cancelled.house, "SW1A 1AA", "", "", "30/09/24", "33.00"],
        ["Mrs", "Jane", "Smith", "12", "SW1A 1AA", "", "", "30/11/24", "1000.50"],
        ["Mr", "Pierre", "Dupont", "Villa Rose", "X", "", "", "05/04/25", "10.00"],
    ]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_has_hmrcs_columns_and_only_the_eligible_gifts_of_the_period(client, login, staff, claim):
    login(staff)
    response = client.get(f"/donors/gift-aid?{PERIOD}&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="gift-aid-20240406-20250405.csv"'
    rows = csv_rows(response)
    assert rows[0] == HMRC_HEADER
    assert rows[1:] == claim


def test_organisations_foreign_currency_and_uncovered_gifts_are_absent(client, login, staff, claim):
    login(staff)
    text = client.get(f"/donors/gift-aid?{PERIOD}&format=csv").get_data(as_text=True)
    for absent in ("Acme", "Nodecl", "42.00", "40.00", "41.00", "500.00", "30.00", "31.00", "34.00"):
        assert absent not in text, absent


def test_a_period_with_no_eligible_gift_gives_the_header_alone(client, login, staff, claim):
    login(staff)
    rows = csv_rows(client.get("/donors/gift-aid?start=2023-01-01&end=2023-12-31&format=csv"))
    assert rows == [HMRC_HEADER]


def test_a_single_day_period_includes_that_day(client, login, staff, claim):
    login(staff)
    rows = csv_rows(client.get(f"/donors/gift-aid?start={END}&end={END}&format=csv"))
    assert rows == [HMRC_HEADER, claim[-1]]


def test_a_period_that_ends_before_it_starts_is_refused(client, login, staff, claim):
    login(staff)
    for fmt in ("", "&format=csv"):
        response = client.get(f"/donors/gift-aid?start=2025-04-05&end=2024-04-06{fmt}")
        assert response.status_code == 422
        assert response.mimetype == "text/html"
        assert "The period ends before it starts." in response.get_data(as_text=True)


def test_a_missing_or_malformed_date_is_refused(client, login, staff):
    login(staff)
    response = client.get("/donors/gift-aid?start=2024-04-06&end=&format=csv")
    assert response.status_code == 422 and "Enter the last day of the period." in response.get_data(as_text=True)
    response = client.get("/donors/gift-aid?start=06/04/2024&end=2025-04-05")
    assert response.status_code == 422 and response.mimetype == "text/html"


def table_rows(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_preview_on_screen_lists_the_same_rows(client, login, staff, claim):
    login(staff)
    response = client.get(f"/donors/gift-aid?{PERIOD}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    headers = re.findall(r'<th scope="col">(.*?)</th>', page)
    assert headers == HMRC_HEADER
    assert table_rows(page) == claim
    assert "5 eligible gifts: £1,100.50" in page


def test_the_claim_is_for_staff_only(client, login, make_user, claim):
    assert client.get(f"/donors/gift-aid?{PERIOD}&format=csv").status_code == 302  # to the login page
    login(make_user(roles=["doctor"]))
    assert client.get(f"/donors/gift-aid?{PERIOD}&format=csv").status_code == 403


def test_a_donor_name_that_is_a_formula_reaches_the_schedule_as_text(client, login, staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), title="Mr", first_name="=HYPERLINK(\"http://x\")",
                       last_name="@SUM(A1)", house="+44", postcode="SW1A 1AA")
    make_donation(donor, 2500, START)
    login(staff)
    response = client.get(f"/donors/gift-aid?{PERIOD}&format=csv")
    assert response.headers["Cache-Control"] == "private, no-store"
    [row] = csv_rows(response)[1:]
    assert row[1:4] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+44"]
    assert row[-1] == "25.00"


def test_a_long_claim_comes_a_hundred_gifts_a_page_and_streams_whole(client, login, staff, make_donor,
                                                                     make_donation, count_statements):
    donors = [make_donor(declared_on=dt.date(2024, 1, 1), last_name=f"Donor {n:03d}") for n in range(7)]
    for n in range(130):
        make_donation(donors[n % 7], 1000 + n, START + dt.timedelta(days=n))
    login(staff)
    with count_statements() as short:
        first = client.get(f"/donors/gift-aid?{PERIOD}").get_data(as_text=True)
    assert len(table_rows(first)) == 100 and "130 eligible gifts: £1,383.85" in first  # the count is of all
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(f"/donors/gift-aid?{PERIOD}&page=2").get_data(as_text=True)
    assert [row[7] for row in table_rows(second)] == [
        (START + dt.timedelta(days=n)).strftime("%d/%m/%y") for n in range(100, 130)]
    with count_statements() as long:
        client.get(f"/donors/gift-aid?{PERIOD}&page=2")
    assert long.count == short.count

    response = client.get(f"/donors/gift-aid?{PERIOD}&format=csv", buffered=False)
    assert response.is_streamed
    pieces = list(services.hmrc_csv(services.gift_aid_donations(START, END), batch=50))
    assert len(pieces) == 3 and "".join(pieces) == b"".join(response.response).decode()
    response.close()
    assert len(list(csv.reader(io.StringIO("".join(pieces))))) == 131  # the header and every gift
