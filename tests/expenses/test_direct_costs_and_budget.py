"""Costs the charity paid itself are spent at once, priced and with their invoice; the
programme's yearly budget is set by year and audited."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.blueprints.expenses import services
from portal.blueprints.expenses.services import NeedsOverride, NoRate
from portal.extensions import db
from portal.models import AuditEvent, ExpenseClaim, ExpenseLine, Payment, ProgrammeBudget, StoredFile

from .conftest import SPENT_ON, receipt

FEE = {"category": "registration", "spent_on": SPENT_ON, "description": "Registration fee paid to the organiser",
       "amount": 65000, "currency": "EUR"}


def test_a_direct_cost_is_paid_at_once_with_its_invoice_and_rate(make_funded_item, staff, rates):
    item = make_funded_item(approved={"registration": (65000, "EUR"), "travel": (40000, "EUR")})
    line = services.record_direct_cost(item, dict(FEE), receipt(filename="organiser-invoice.pdf"), by=staff)

    db.session.expire_all()
    line = db.session.get(ExpenseLine, line.id)
    assert (line.status, line.rate, line.amount_gbp, line.amount, line.currency) == (
        "paid", Decimal("0.85"), 55250, 65000, "EUR")
    assert (line.decided_by_id, line.payment_id) == (staff.id, None)  # nobody was sent money
    assert line.receipt.original_name == "organiser-invoice.pdf" and line.receipt.content_type == "application/pdf"
    assert line.claim.direct and line.claim.funded_item_id == item.id and line.claim.submitted_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "direct_cost_recorded")).one()
    assert (event.subject_id, event.actor_id, event.to_state) == (line.id, staff.id, "paid")
    assert event.details == {"amount_gbp": 55250, "funded_item": item.id}
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0

    # It is spent: it counts against the category's approved amount.
    assert services.category_usage(item, "registration") == (55250, 55250)


def test_a_direct_cost_uses_up_the_cap_for_the_doctors_own_claims(make_funded_item, make_line, staff, rates):
    item = make_funded_item(approved={"registration": (65000, "EUR")})
    services.record_direct_cost(item, dict(FEE), receipt(filename="invoice.pdf"), by=staff)
    line = make_line(item, category="registration", amount=1000)
    with pytest.raises(NeedsOverride):
        services.approve_line(line, by=staff, version=line.version)


def stored_files_on_disk(app) -> list[str]:
    return sorted(path.name for path in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if path.is_file())


def test_a_direct_cost_needs_a_rate_and_a_refusal_leaves_no_invoice_behind(app, make_funded_item, staff, finance,
                                                                           rates):
    item = make_funded_item()
    with pytest.raises(NoRate) as refused:
        services.record_direct_cost(item, dict(FEE, currency="CHF"), receipt(filename="invoice.pdf"), by=staff)
    assert "no exchange rate for CHF" in str(refused.value)

    # Finance adds the rate and staff record the cost again.
    services.add_rate("CHF", Decimal("0.88"), SPENT_ON, by=finance)
    line = services.record_direct_cost(item, dict(FEE, currency="CHF"), receipt(filename="invoice.pdf"), by=staff)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ExpenseClaim)) == 1
    assert db.session.scalar(select(func.count()).select_from(ExpenseLine)) == 1
    assert stored_files_on_disk(app) == [line.receipt.storage_key], "the refused invoice was left on disk"
    assert db.session.scalars(select(StoredFile.id)).all() == [line.receipt_id], "the refused invoice was saved"


def test_the_yearly_budget_is_set_replaced_and_audited(make_user):
    admin = make_user(roles=["admin"])
    services.set_budget(2027, 5_000_000, by=admin)  # £50,000.00
    services.set_budget(2028, 4_000_000, by=admin)
    services.set_budget(2027, 6_000_000, by=admin)

    db.session.expire_all()
    budgets = db.session.scalars(select(ProgrammeBudget).order_by(ProgrammeBudget.year)).all()
    assert [(b.year, b.amount_gbp, b.updated_by_id) for b in budgets] == [(2027, 6_000_000, admin.id),
                                                                            (2028, 4_000_000, admin.id)]
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "budget_set")
                               .order_by(AuditEvent.id)).all()
    assert [(e.subject_type, e.subject_id, e.actor_id, e.details) for e in trail] == [
        ("programme_budgets", 2027, admin.id, {"year": 2027, "from": None, "to": 5_000_000}),
        ("programme_budgets", 2028, admin.id, {"year": 2028, "from": None, "to": 4_000_000}),
        ("programme_budgets", 2027, admin.id, {"year": 2027, "from": 5_000_000, "to": 6_000_000}),
    ]
