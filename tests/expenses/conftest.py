"""Fixtures for money out: approved items with caps, receipts, and claim lines brought to
a given state through the real services (the people are in tests/fixtures/people.py)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import Application, ExpenseLine, User

_receipts = itertools.count(1)

SPENT_ON = dt.date.today() - dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def request_context(app: Flask) -> Iterator[None]:
    """The services write e-mails with external links, which need a request."""
    with app.test_request_context():
        yield


def pdf_bytes(text: str | None = None) -> bytes:
    """A small PDF-looking file; different text, different SHA-256."""
    return b"%PDF-1.4\n% " + (text or f"receipt {next(_receipts)}").encode() + b"\n%%EOF\n"


def receipt(content: bytes | None = None, filename: str = "receipt.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(content if content is not None else pdf_bytes()), filename=filename)


@pytest.fixture
def make_funded_item(make_application: Any, make_conference: Any, doctor: User) -> Any:
    """An approved application for a conference that starts today (this budget year's);
    ``approved`` is category → (minor units, currency)."""

    def _create(beneficiary: User | None = None,
                approved: dict[str, tuple[int, str]] | None = None) -> Application:
        approved = approved or {"travel": (40000, "EUR"), "registration": (65000, "EUR")}
        today = dt.date.today()
        conference = make_conference(start_date=today, end_date=today + dt.timedelta(days=3))
        item = make_application(doctor=beneficiary or doctor, conference=conference, status="approved",
                                lines=approved)
        for line in item.budget_lines:
            line.approved_amount, line.approved_currency = approved[line.category]
        db.session.commit()
        return item

    return _create


@pytest.fixture
def make_line(make_funded_item: Any) -> Any:
    """A claim line brought through the services to ``status`` (submitted, approved, paid …)."""

    def _create(item: Application | None = None, *, status: str = "submitted", approver: User | None = None,
                payer: User | None = None, category: str = "travel", amount: int = 12000,
                currency: str = "EUR", spent_on: dt.date = SPENT_ON, content: bytes | None = None,
                description: str = "Train to the airport") -> ExpenseLine:
        item = item or make_funded_item()
        claimant = item.beneficiary
        claim = services.open_claim(item, by=claimant)
        line = services.add_line(claim, {"category": category, "spent_on": spent_on, "description": description,
                                         "amount": amount, "currency": currency},
                                 receipt(content), by=claimant)
        if status == "draft":
            return line
        services.submit_claim(claim, by=claimant)
        if status == "submitted":
            return line
        assert approver is not None, "an approver is needed past submitted"
        services.approve_line(line, by=approver, version=line.version)
        if status == "approved":
            return line
        assert payer is not None and status == "paid"
        services.pay([line], paid_on=dt.date.today(), method="bank_transfer", reference="BACS 1",
                     amount_gbp=line.amount_gbp, by=payer)
        return line

    return _create
