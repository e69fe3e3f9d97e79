"""Payments (finance) and expert visits (staff) download as CSV and XLSX: every row, and the
totals a spreadsheet would add up to, read back with csv and openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import ExpertVisit


def read(response, fmt: str) -> list[list[str]]:
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode())))
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [["" if cell is None else str(cell) for cell in row] for row in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_payments_download_with_their_total(client, login, staff, finance, make_line, rates, fmt):
    for amount in (12000, 3050):
        line = make_line(status="approved", approver=staff, amount=amount, currency="GBP")
        services.pay([line], paid_on=dt.date.today(), method="bank_transfer", reference=f"BACS {amount}",
                     amount_gbp=line.amount_gbp, by=finance)
    login(finance)
    rows = read(client.get(f"/expenses/payments.{fmt}"), fmt)
    assert rows[0] == services.PAYMENT_COLUMNS
    assert [row[4] for row in rows[1:-1]] == ["BACS 3050", "BACS 12000"]  # newest first
    assert [row[6] for row in rows[1:-1]] == ["1", "1"]
    assert rows[-1][0] == "total" and Decimal(rows[-1][5]) == Decimal("150.50")
    client.post("/logout")
    login(staff)
    assert client.get(f"/expenses/payments.{fmt}").status_code == 403  # finance's


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_visits_download_with_their_outcomes_totals(app, client, login, staff, make_user, fmt):
    from portal.models import Clinic

    clinic = Clinic(name="Morozov Children’s Hospital", city="Moscow", country="Russia")
    expert = make_user(roles=["expert"], name="Dr Jane Smith")
    db.session.add(clinic)
    db.session.flush()
    for n, patients in enumerate((12, None, 30)):
        db.session.add(ExpertVisit(beneficiary=expert, host_clinic_id=clinic.id, status="completed",
                                   arrival_on=dt.date(2026, 3, 1 + n * 7), departure_on=dt.date(2026, 3, 4 + n * 7),
                                   purpose="Consultations", patients_consulted=patients, doctors_trained=n))
    db.session.commit()
    login(staff)
    rows = read(client.get(f"/visits/visits.{fmt}"), fmt)
    assert rows[0][:3] == ["visit", "status", "expert"]
    assert [row[5] for row in rows[1:-1]] == ["2026-03-15", "2026-03-08", "2026-03-01"]
    assert rows[-1][0] == "total" and rows[-1][7:10] == ["42", "3", "0"]
