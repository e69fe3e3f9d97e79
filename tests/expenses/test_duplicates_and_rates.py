"""Receipts with the same bytes are flagged wherever they were claimed; exchange rates come
from a CSV with its mistakes named by line, replace the same day's rate, and apply from
their date on."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

from sqlalchemy import select

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import AuditEvent, ExchangeRate
from portal.money import CURRENCIES, rate_for, rates_on

from .conftest import pdf_bytes


def test_the_same_receipt_on_two_lines_is_reported_for_both(make_user, make_funded_item, make_line, rates):
    scan = pdf_bytes("Hotel Sacher, 3 nights")
    first = make_line(make_funded_item(), content=scan)
    second = make_line(make_funded_item(beneficiary=make_user(roles=["doctor"])), content=scan)  # another doctor
    other = make_line(make_funded_item(), content=pdf_bytes("Vienna airport train"))
    digest = hashlib.sha256(scan).hexdigest()

    assert first.receipt.sha256 == second.receipt.sha256 == digest
    assert services.duplicate_receipts([first]) == {digest}
    assert services.duplicate_receipts([second]) == {digest}
    assert services.duplicate_receipts([first, second, other]) == {digest}
    assert services.duplicate_receipts([other]) == set()
    assert services.duplicate_receipts([]) == set()


def test_different_receipts_are_not_duplicates(make_funded_item, make_line, rates):
    item = make_funded_item()
    lines = [make_line(item, content=pdf_bytes(f"receipt {n}")) for n in range(3)]
    assert services.duplicate_receipts(lines) == set()


CSV = (
    "date,currency,rate\n"      # 1: a header is allowed
    "2026-11-01,EUR,0.85\n"     # 2
    "2026-11-01, usd ,0.79\n"   # 3: spaces and lower case are forgiven
    "2026-13-01,EUR,0.85\n"     # 4: no 13th month
    "2026-11-02,XYZ,1.0\n"      # 5: not a currency the portal knows
    "2026-11-02,EUR,-0.85\n"    # 6: negative
    "\n"                        # 7: blank lines are skipped
    "2026-11-03,CHF\n"          # 8: no rate
    "2026-11-03,EUR,abc\n"      # 9: not a number
    "2026-11-04,EUR,0\n"        # 10: zero
    "01/11/2026,EUR,0.85\n"     # 11: not an ISO date
)


def row_number(error: str) -> int:
    """The number an error names first ("Row 4 is not …")."""
    return int(re.match(r"\D*(\d+)", error).group(1))


def test_a_rates_csv_is_read_and_its_mistakes_named_by_line():
    rows, errors = services.parse_rates_csv(CSV.encode(), CURRENCIES)
    assert rows == [(dt.date(2026, 11, 1), "EUR", Decimal("0.85")), (dt.date(2026, 11, 1), "USD", Decimal("0.79"))]
    assert [row_number(error) for error in errors] == [4, 5, 6, 8, 9, 10, 11]
    assert "2026-13-01,EUR,0.85" in errors[0] and "XYZ" in errors[1] and "-0.85" in errors[2]


def test_a_csv_from_excel_with_a_byte_order_mark_reads_the_same():
    rows, errors = services.parse_rates_csv("\ufeffDate,Currency,Rate\r\n2026-11-01,EUR,0.85\r\n".encode(), CURRENCIES)
    assert rows == [(dt.date(2026, 11, 1), "EUR", Decimal("0.85"))] and errors == []


def test_a_header_is_allowed_only_on_the_first_line_and_the_file_must_be_text():
    rows, errors = services.parse_rates_csv(b"2026-11-01,EUR,0.85\ndate,currency,rate\n", CURRENCIES)
    assert len(rows) == 1 and [row_number(error) for error in errors] == [2]
    rows, errors = services.parse_rates_csv(b"\xff\xfe2\x000\x00", CURRENCIES)
    assert rows == [] and len(errors) == 1 and "UTF-8" in errors[0]


def eur_rates() -> dict[dt.date, Decimal]:
    return {entry.valid_from: entry.rate for entry in db.session.scalars(
        select(ExchangeRate).where(ExchangeRate.currency == "EUR"))}


def test_importing_replaces_the_same_days_rate_and_adds_new_days(finance):
    services.add_rate("EUR", Decimal("0.84"), dt.date(2026, 11, 1), by=finance)
    rows, errors = services.parse_rates_csv(b"2026-11-01,EUR,0.86\n2026-11-02,EUR,0.87\n2026-11-02,USD,0.79\n",
                                            CURRENCIES)
    assert errors == []
    assert services.import_rates(rows, by=finance) == 3

    db.session.expire_all()
    assert eur_rates() == {dt.date(2026, 11, 1): Decimal("0.86"), dt.date(2026, 11, 2): Decimal("0.87")}
    assert {entry.recorded_by_id for entry in db.session.scalars(select(ExchangeRate))} == {finance.id}
    imported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rate_set")
                                  .order_by(AuditEvent.id)).all()
    assert len(imported) == 4  # the hand-entered rate and three from the file
    assert imported[1].details == {"currency": "EUR", "rate": "0.86", "valid_from": "2026-11-01",
                                   "from": "CSV import"}

    # Importing the same file again changes nothing but the trail.
    services.import_rates(rows, by=finance)
    db.session.expire_all()
    assert eur_rates() == {dt.date(2026, 11, 1): Decimal("0.86"), dt.date(2026, 11, 2): Decimal("0.87")}
    assert len(db.session.scalars(select(ExchangeRate)).all()) == 3


def test_adding_a_rate_by_hand_also_replaces_the_same_day(finance):
    services.add_rate("EUR", Decimal("0.84"), dt.date(2026, 11, 1), by=finance)
    services.add_rate("EUR", Decimal("0.845"), dt.date(2026, 11, 1), by=finance)
    assert eur_rates() == {dt.date(2026, 11, 1): Decimal("0.845")}


def test_the_rate_for_a_day_is_the_latest_on_or_before_it(finance):
    for day, rate in ((dt.date(2026, 10, 1), "0.84"), (dt.date(2026, 11, 15), "0.86"), (dt.date(2026, 11, 1), "0.85")):
        services.add_rate("EUR", Decimal(rate), day, by=finance)
    services.add_rate("USD", Decimal("0.79"), dt.date(2026, 11, 20), by=finance)

    assert rate_for("EUR", dt.date(2026, 9, 30)) is None
    assert rate_for("EUR", dt.date(2026, 10, 1)) == Decimal("0.84")
    assert rate_for("EUR", dt.date(2026, 10, 31)) == Decimal("0.84")
    assert rate_for("EUR", dt.date(2026, 11, 1)) == Decimal("0.85")
    assert rate_for("EUR", dt.date(2026, 11, 14)) == Decimal("0.85")
    assert rate_for("EUR", dt.date(2026, 11, 15)) == Decimal("0.86")
    assert rate_for("EUR", dt.date(2030, 1, 1)) == Decimal("0.86")
    assert rate_for("USD", dt.date(2026, 11, 19)) is None
    assert rate_for("CHF", dt.date(2026, 11, 19)) is None
    assert rate_for("GBP", dt.date(2000, 1, 1)) == Decimal(1)

    assert rates_on(dt.date(2026, 11, 14)) == {"EUR": Decimal("0.85"), "GBP": Decimal(1)}
    assert rates_on(dt.date(2026, 11, 20)) == {"EUR": Decimal("0.86"), "USD": Decimal("0.79"), "GBP": Decimal(1)}


def test_a_line_keeps_the_rate_it_was_priced_at(make_line, finance, rates):
    line = make_line(amount=10000)  # €100.00 at the fixture's 0.85
    assert (line.rate, line.amount_gbp) == (Decimal("0.85"), 8500)
    services.add_rate("EUR", Decimal("0.90"), line.spent_on, by=finance)  # a newer rate for the same day
    db.session.expire_all()
    assert (line.rate, line.amount_gbp) == (Decimal("0.85"), 8500)
