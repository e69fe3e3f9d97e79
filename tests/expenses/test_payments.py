"""Finance pays approved lines: one payment, one claimant, the exact pounds; nobody pays
their own claim or a line they approved; a line is paid once, however many press Pay."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.blueprints.expenses import services
from portal.blueprints.expenses.services import Conflict, ExpenseError, IllegalTransition
from portal.extensions import db
from portal.models import AuditEvent, ExpenseLine, OutboxMessage, Payment, User

TODAY = dt.date.today()


def pay(lines, by, amount_gbp=None, reference="BACS 2026-117"):
    return services.pay(lines, paid_on=TODAY, method="bank_transfer", reference=reference,
                        amount_gbp=sum(line.amount_gbp for line in lines) if amount_gbp is None else amount_gbp,
                        by=by)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def statuses(*lines: ExpenseLine) -> list[str]:
    ids = [line.id for line in lines]
    db.session.rollback()  # what the database holds once the request is over
    return [db.session.get(ExpenseLine, line_id).status for line_id in ids]


def test_finance_pays_a_claimants_approved_lines_with_one_payment(make_funded_item, make_line, staff, finance,
                                                                  doctor, rates):
    item = make_funded_item()
    train = make_line(item, status="approved", approver=staff, amount=12000)  # €120.00 → £102.00
    fee = make_line(item, status="approved", approver=staff, category="registration", amount=24000)  # £204.00

    payment = pay([train, fee], by=finance, amount_gbp=30600)

    payment = db.session.get(Payment, payment.id)
    assert (payment.payee_id, payment.amount_gbp, payment.recorded_by_id, payment.reference, payment.paid_on) == (
        doctor.id, 30600, finance.id, "BACS 2026-117", TODAY)
    assert sorted(line.id for line in payment.lines) == sorted([train.id, fee.id])
    assert {line.status for line in payment.lines} == {"paid"}
    assert {line.decided_by_id for line in payment.lines} == {staff.id}  # the approver stays on record
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "payment_recorded")).one()
    assert recorded.subject_id == payment.id and recorded.details == {
        "lines": [train.id, fee.id], "amount_gbp": 30600}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "line_pay")) == 2
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).one()
    assert mail.recipient == doctor.email


def test_the_payment_must_equal_the_lines_pounds(make_funded_item, make_line, staff, finance, rates):
    item = make_funded_item()
    lines = [make_line(item, status="approved", approver=staff, amount=12000),
             make_line(item, status="approved", approver=staff, amount=24000)]
    for wrong in (30599, 30601, 10200):
        with pytest.raises(ExpenseError) as refused:
            pay(lines, by=finance, amount_gbp=wrong)
        assert "306.00 GBP" in str(refused.value)
    assert count(Payment) == 0
    assert statuses(*lines) == ["approved", "approved"]


def test_nobody_pays_their_own_claim(make_user, make_funded_item, make_line, staff, rates):
    finance_doctor = make_user(roles=["doctor", "finance"])
    line = make_line(make_funded_item(beneficiary=finance_doctor), status="approved", approver=staff)
    with pytest.raises(ExpenseError) as refused:
        pay([line], by=finance_doctor)
    assert "your own claim" in str(refused.value)
    assert count(Payment) == 0 and statuses(line) == ["approved"]


def test_whoever_approved_a_line_cannot_pay_it(make_user, make_funded_item, make_line, finance, rates):
    staff_and_finance = make_user(roles=["staff", "finance"])
    item = make_funded_item()
    mine = make_line(item, status="approved", approver=staff_and_finance)
    theirs = make_line(item, status="approved", approver=finance)

    with pytest.raises(ExpenseError) as refused:
        pay([theirs, mine], by=staff_and_finance)
    assert "You approved one of these lines" in str(refused.value)
    assert count(Payment) == 0 and statuses(theirs, mine) == ["approved", "approved"]

    # Each is paid by someone who did not approve it.
    pay([db.session.get(ExpenseLine, mine.id)], by=db.session.get(User, finance.id))
    pay([db.session.get(ExpenseLine, theirs.id)], by=db.session.get(User, staff_and_finance.id))
    assert statuses(mine, theirs) == ["paid", "paid"]


def test_one_payment_goes_to_one_claimant(make_user, make_funded_item, make_line, staff, finance, rates):
    first = make_line(make_funded_item(), status="approved", approver=staff)
    second = make_line(make_funded_item(beneficiary=make_user(roles=["doctor"])), status="approved", approver=staff)
    with pytest.raises(ExpenseError) as refused:
        pay([first, second], by=finance)
    assert "One payment goes to one claimant" in str(refused.value)
    with pytest.raises(ExpenseError):
        pay([], by=finance, amount_gbp=100)
    assert count(Payment) == 0 and statuses(first, second) == ["approved", "approved"]


def test_a_paid_line_cannot_be_paid_again(make_funded_item, make_line, staff, finance, rates):
    line = make_line(make_funded_item(), status="paid", approver=staff, payer=finance)
    with pytest.raises(IllegalTransition):
        pay([db.session.get(ExpenseLine, line.id)], by=finance, reference="BACS again")
    db.session.rollback()
    assert count(Payment) == 1


def test_a_refused_payment_leaves_nothing_for_the_next_commit(make_funded_item, make_line, staff, finance, rates):
    """The refusal comes after the Payment row is flushed: whatever the same session commits
    next must not carry a payment for lines that were never paid."""
    item = make_funded_item()
    approved = make_line(item, status="approved", approver=staff, amount=12000)
    submitted = make_line(item, amount=24000)

    with pytest.raises(IllegalTransition):
        pay([approved, submitted], by=finance)
    # The same person goes on to do something legitimate in the same session.
    services.approve_line(submitted, by=staff, version=submitted.version)

    db.session.expire_all()
    assert count(Payment) == 0
    assert [(line.status, line.payment_id) for line in (db.session.get(ExpenseLine, approved.id),
                                                        db.session.get(ExpenseLine, submitted.id))] == [
        ("approved", None), ("approved", None)]
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "line_pay")).all()


def test_a_hundred_simultaneous_payments_of_one_line_pay_it_once(app, make_funded_item, make_line, staff, finance,
                                                                 doctor, rates):
    line = make_line(make_funded_item(), status="approved", approver=staff)
    line_id, payer_id, amount, payee_email = line.id, finance.id, line.amount_gbp, doctor.email
    mails_before = count(OutboxMessage)
    db.session.close()  # the test holds no transaction while the threads race

    def attempt(n: int) -> str:
        with app.app_context(), app.test_request_context():
            try:
                services.pay([db.session.get(ExpenseLine, line_id)], paid_on=TODAY, method="bank_transfer",
                             reference=f"BACS {n}", amount_gbp=amount, by=db.session.get(User, payer_id))
                return "paid"
            except Conflict:
                return "conflict"
            except ExpenseError:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(100)))

    assert outcomes.count("paid") == 1, outcomes
    assert outcomes.count("conflict") + outcomes.count("refused") == 99
    assert count(Payment) == 1
    payment = db.session.scalars(select(Payment)).one()
    line = db.session.get(ExpenseLine, line_id)
    assert (line.status, line.payment_id, payment.amount_gbp) == ("paid", payment.id, amount)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "line_pay", AuditEvent.subject_id == line_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment_recorded")) == 1
    assert count(OutboxMessage) == mails_before + 1  # one payment e-mail to the doctor
    assert db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().recipient == payee_email
