"""Deciding claim lines: the category's approved amount is a cap that only a reason lifts;
no rate, no approval; the state machine refuses what it does not allow; every decision
is audited and e-mailed to the claimant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.blueprints.expenses import services
from portal.blueprints.expenses.services import Conflict, IllegalTransition, NeedsOverride, NoRate
from portal.extensions import db
from portal.models import AuditEvent, ExpenseLine, OutboxMessage

from .conftest import SPENT_ON, pdf_bytes, receipt


def trail(line: ExpenseLine, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "expense_lines", AuditEvent.subject_id == line.id,
        AuditEvent.action == action).order_by(AuditEvent.id)))


def mails_to(email: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                   .order_by(OutboxMessage.id)))


def reloaded(line: ExpenseLine) -> ExpenseLine:
    """The line as the database holds it, after the change or refusal (the request is over)."""
    line_id = line.id
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(ExpenseLine, line_id)


@pytest.fixture
def item(make_funded_item):
    # Travel approved up to €400.00, which is £340.00 at 0.85.
    return make_funded_item(approved={"travel": (40000, "EUR")})


def test_a_line_within_the_approved_amount_is_approved_with_its_rate(item, make_line, staff, rates):
    line = make_line(item, amount=30000)  # €300.00 → £255.00
    services.approve_line(line, by=staff, version=line.version)

    line = reloaded(line)
    assert (line.status, line.decided_by_id, line.rate, line.amount_gbp) == ("approved", staff.id,
                                                                          Decimal("0.85"), 25500)
    assert line.override_reason is None
    (event,) = trail(line, "line_approve")
    assert (event.from_state, event.to_state, event.actor_id, event.note) == ("submitted", "approved", staff.id, None)
    assert event.details == {"amount_gbp": 25500, "rate": "0.85"}


def test_going_over_the_category_cap_needs_a_reason_which_the_trail_keeps(item, make_line, staff, doctor, rates):
    make_line(item, status="approved", approver=staff, amount=30000)  # £255.00 of £340.00 used
    line = make_line(item, amount=12000)  # £102.00 more: £357.00 > £340.00

    for reason in (None, "", "   "):
        with pytest.raises(NeedsOverride) as refused:
            services.approve_line(line, by=staff, version=line.version, override_reason=reason)
        assert "over its approved amount" in str(refused.value)
        assert refused.value.status == 422
        line = reloaded(line)
        assert line.status == "submitted" and not trail(line, "line_approve")

    services.approve_line(line, by=staff, version=line.version, override_reason="Fares rose after booking.")
    line = reloaded(line)
    assert line.status == "approved" and line.override_reason == "Fares rose after booking."
    (event,) = trail(line, "line_approve")
    assert event.note == "Fares rose after booking."
    assert event.details == {"amount_gbp": 10200, "rate": "0.85", "over_cap": True, "cap_gbp": 34000,
                             "already_gbp": 25500}
    assert "approved" in mails_to(doctor.email)[-1].body_text.lower()


def test_exactly_the_approved_amount_needs_no_reason(item, make_line, staff, rates):
    make_line(item, status="approved", approver=staff, amount=30000)
    line = make_line(item, amount=10000)  # £85.00: £340.00 exactly
    services.approve_line(line, by=staff, version=line.version)
    assert reloaded(line).status == "approved"


def test_rejected_lines_do_not_use_up_the_cap(item, make_line, staff, rates):
    big = make_line(item, amount=40000)
    services.reject_line(big, "This is the return fare of another trip.", by=staff, version=big.version)
    line = make_line(item, amount=40000)
    services.approve_line(line, by=staff, version=line.version)
    assert reloaded(line).status == "approved"


def test_no_rate_no_approval_until_finance_adds_one(item, make_line, staff, finance, rates):
    line = make_line(item, currency="CHF", amount=12000)  # no CHF rate yet
    assert line.rate is None and line.amount_gbp is None

    with pytest.raises(NoRate) as refused:
        services.approve_line(line, by=staff, version=line.version)
    message = str(refused.value)
    assert "no exchange rate for CHF" in message and SPENT_ON.isoformat() in message
    assert "Exchange rates" in message

    # A rate from after the expense was paid does not apply to it.
    services.add_rate("CHF", Decimal("0.90"), SPENT_ON + dt.timedelta(days=1), by=finance)
    with pytest.raises(NoRate):
        services.approve_line(reloaded(line), by=staff, version=line.version)

    services.add_rate("CHF", Decimal("0.88"), SPENT_ON - dt.timedelta(days=30), by=finance)
    line = reloaded(line)
    services.approve_line(line, by=staff, version=line.version)
    line = reloaded(line)
    assert (line.status, line.rate, line.amount_gbp) == ("approved", Decimal("0.88"), 10560)
    assert trail(line, "line_approve")[0].details == {"amount_gbp": 10560, "rate": "0.88"}


def test_reject_keeps_the_reason_and_cannot_then_be_approved(item, make_line, staff, rates):
    line = make_line(item)
    services.reject_line(line, "No receipt for the return leg.", by=staff, version=line.version)
    line = reloaded(line)
    assert (line.status, line.reject_reason, line.decided_by_id) == ("rejected", "No receipt for the return leg.",
                                                                     staff.id)
    with pytest.raises(IllegalTransition) as refused:
        services.approve_line(line, by=staff, version=line.version)
    assert "no longer possible" in str(refused.value)
    assert reloaded(line).status == "rejected"


def test_illegal_transitions_are_refused(item, make_line, staff, finance, doctor, rates):
    submitted = make_line(item)
    with pytest.raises(IllegalTransition):
        services.pay([submitted], paid_on=dt.date.today(), method="bank_transfer", reference="BACS 7",
                     amount_gbp=submitted.amount_gbp, by=finance)
    assert reloaded(submitted).status == "submitted"

    submitted = reloaded(submitted)
    with pytest.raises(IllegalTransition):
        services.answer_query(submitted, "It was the airport train.", None, by=doctor)

    draft = make_line(item, status="draft")
    with pytest.raises(IllegalTransition):
        services.approve_line(draft, by=staff, version=draft.version)

    approved = make_line(item, status="approved", approver=staff)
    for decide in (lambda line: services.approve_line(line, by=staff, version=line.version),
                   lambda line: services.reject_line(line, "Too late.", by=staff, version=line.version),
                   lambda line: services.query_line(line, "Which train?", by=staff, version=line.version)):
        with pytest.raises(IllegalTransition):
            decide(reloaded(approved))
    assert reloaded(approved).status == "approved"


def test_a_query_and_its_answer_return_the_line_to_submitted(item, make_line, make_user, staff, doctor, rates):
    line = make_line(item)
    services.query_line(line, "Was this a return ticket?", by=staff, version=line.version)
    line = reloaded(line)
    assert (line.status, line.question) == ("queried", "Was this a return ticket?")

    stranger = make_user(roles=["doctor"])
    with pytest.raises(IllegalTransition):
        services.answer_query(line, "Yes.", None, by=stranger)

    line = reloaded(line)
    services.answer_query(line, "Yes, there and back.", None, by=doctor)
    line = reloaded(line)
    assert (line.status, line.answer) == ("submitted", "Yes, there and back.")
    (event,) = trail(line, "line_answer")
    assert (event.from_state, event.to_state, event.actor_id) == ("queried", "submitted", doctor.id)

    services.approve_line(line, by=staff, version=line.version)
    assert reloaded(line).status == "approved"


def test_an_answer_may_bring_a_new_receipt(item, make_line, staff, doctor, rates):
    line = make_line(item)
    first_receipt = line.receipt_id
    services.query_line(line, "The receipt is unreadable.", by=staff, version=line.version)
    services.answer_query(reloaded(line), "A clearer scan.", receipt(pdf_bytes("clear scan"), "scan.pdf"), by=doctor)
    line = reloaded(line)
    assert line.status == "submitted" and line.receipt_id != first_receipt
    assert line.receipt.original_name == "scan.pdf"


def test_a_stale_decision_loses_and_names_who_decided(item, make_line, staff, make_user, rates):
    line = make_line(item)
    seen_version = line.version
    services.approve_line(line, by=staff, version=seen_version)

    other = make_user(roles=["staff"], name="Second Reviewer")
    with pytest.raises(Conflict) as lost:
        services.reject_line(reloaded(line), "Not eligible.", by=other, version=seen_version)
    assert "Emma Clarke" in str(lost.value)
    line = reloaded(line)
    assert (line.status, line.decided_by_id) == ("approved", staff.id)


def test_every_decision_emails_the_claimant(item, make_line, staff, doctor, rates):
    approved, rejected, queried = make_line(item), make_line(item), make_line(item)
    before = len(mails_to(doctor.email))

    services.approve_line(approved, by=staff, version=approved.version)
    assert len(mails_to(doctor.email)) == before + 1
    services.reject_line(rejected, "Duplicate of an earlier line.", by=staff, version=rejected.version)
    assert len(mails_to(doctor.email)) == before + 2
    assert "Duplicate of an earlier line." in mails_to(doctor.email)[-1].body_text
    services.query_line(queried, "Which date did you travel?", by=staff, version=queried.version)
    assert len(mails_to(doctor.email)) == before + 3
    assert "Which date did you travel?" in mails_to(doctor.email)[-1].body_text
    services.answer_query(reloaded(queried), "The 3rd.", None, by=doctor)
    assert len(mails_to(doctor.email)) == before + 4

    assert not mails_to(staff.email)
    for message in mails_to(doctor.email)[before:]:
        assert "/expenses/" in message.body_text  # a link to the claim


def test_a_rejected_line_stays_rejected_even_when_it_is_over_the_cap(item, make_line, staff, rates):
    """The state machine speaks first: asking for an override reason for a line that cannot be
    approved at all sends the reviewer the wrong way."""
    line = make_line(item, amount=50000)  # £425.00, over the £340.00 cap on its own
    services.reject_line(line, "Not this trip.", by=staff, version=line.version)
    for reason in (None, "We changed our minds."):
        with pytest.raises(IllegalTransition):
            services.approve_line(reloaded(line), by=staff, version=line.version, override_reason=reason)
    assert reloaded(line).status == "rejected"


def test_the_cap_holds_when_the_approved_currency_has_no_rate_today(make_funded_item, make_line, staff, rates):
    """Travel approved in Swiss francs, for which the table has no rate: the approval must not
    go through unchecked, however large the line."""
    item = make_funded_item(approved={"travel": (40000, "CHF")})  # CHF 400.00
    line = make_line(item, amount=500000)  # €5,000.00 → £4,250.00
    with pytest.raises((NeedsOverride, NoRate)):
        services.approve_line(line, by=staff, version=line.version)
    assert reloaded(line).status == "submitted"
