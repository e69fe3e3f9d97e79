"""An approved application ready to claim against, and helpers to post claim lines."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from portal.extensions import db


@pytest.fixture
def claimable(make_user, make_application, make_conference, rates):
    """A doctor's approved application: registration €900, travel $600, accommodation ₽50,000,
    for a conference that starts today (so it counts in this budget year)."""
    doctor = make_user(roles=["doctor"], name="Dr Anna Sokolova")
    today = dt.date.today()
    conference = make_conference(start_date=today, end_date=today + dt.timedelta(days=3))
    application = make_application(doctor=doctor, conference=conference, status="approved", lines={
        "registration": (90000, "EUR"), "travel": (60000, "USD"), "accommodation": (5000000, "RUB")})
    for line in application.budget_lines:
        line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
    db.session.commit()
    return application


def add_line(client, claim_id, receipt=b"%PDF-1.4\n%%EOF\n", **values):
    data = {"category": "registration", "spent_on": "2026-11-01", "description": "Registration fee",
            "amount": "100.00", "currency": "EUR", **values,
            "receipt": (io.BytesIO(receipt), "receipt.pdf")}
    return client.post(f"/expenses/claims/{claim_id}/lines", data=data, content_type="multipart/form-data")


def open_claim(client, application) -> int:
    response = client.post("/expenses/claims", data={"funded_item_id": application.id})
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rsplit("/", 1)[1])
