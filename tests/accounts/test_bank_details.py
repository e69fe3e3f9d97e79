"""Claimants keep where their repayments go: an IBAN checked with schwifty (and a BIC for a bank
abroad), or a UK sort code and account number; stored encrypted, shown masked, every change
audited and e-mailed to the owner; finance sees them on the payments page and in the bank file."""

from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import select, text

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, User

GOOD_DE = {"bank_holder": "Anna Petrova", "bank_iban": "DE89 3704 0044 0532 0130 00", "bank_bic": "COBADEFFXXX"}


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_an_iban_is_checked_kept_encrypted_shown_masked_and_its_change_told(client, login, make_user):
    doctor = make_user(roles=["doctor"], name="Anna Petrova")
    login(doctor)
    assert "No bank details yet" in page_text(client.get("/profile"))
    response = client.post("/profile/bank", data=GOOD_DE)
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(User, doctor.id)
    assert (saved.bank_iban, saved.bank_bic) == ("DE89370400440532013000", "COBADEFFXXX")
    raw = db.session.execute(text("SELECT bank_iban FROM users WHERE id = :id"), {"id": doctor.id}).scalar()
    assert raw and "0532013000" not in raw  # encrypted at rest
    profile = page_text(client.get("/profile"))
    assert "Repayments go to DE89 •••• 3000." in profile and "0532 0130" not in profile
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bank_details_changed")).one()
    assert "0532013000" not in str(event.details)
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == doctor.email)).one()
    assert "DE89 •••• 3000" in mail.body_text and "0532013000" not in mail.body_text


def test_bad_bank_details_are_refused_beside_their_field_and_keep_what_was_typed(client, login, make_user):
    doctor = make_user(roles=["doctor"])
    login(doctor)
    cases = [
        ({**GOOD_DE, "bank_iban": "DE89 3704 0044 0532 0130 01"}, "bank_iban", "This is not a valid IBAN"),
        ({**GOOD_DE, "bank_bic": ""}, "bank_bic", "a payment abroad needs it"),
        ({**GOOD_DE, "bank_bic": "COBADEF"}, "bank_bic", "This is not a valid BIC"),
        ({**GOOD_DE, "bank_sort_code": "123456"}, "bank_iban", "not both"),
        ({"bank_holder": "A", "bank_sort_code": "12-34-5", "bank_account_number": "12345678"}, "bank_sort_code",
         "6 digits"),
        ({"bank_holder": "A", "bank_sort_code": "12-34-56", "bank_account_number": "1234"}, "bank_account_number",
         "8 digits"),
        ({"bank_iban": "GB82 WEST 1234 5698 7654 32"}, "bank_holder", "account holder's name"),
        ({**GOOD_DE, "bank_iban": "=HYPERLINK(\"http://evil\")\x07"}, "bank_iban", "This is not a valid IBAN"),
    ]
    for data, field, message in cases:
        response = client.post("/profile/bank", data=data)
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert f'id="{field}-error"' in body and message in html.unescape(body), (field, message)
        typed = data.get("bank_holder")
        if typed:
            assert f'value="{html.escape(typed)}"' in body
    db.session.expire_all()
    assert db.session.get(User, doctor.id).bank_iban is None


def test_a_uk_account_and_what_finance_sees(client, login, make_user, make_application, finance):
    from portal.models import ExpenseClaim, ExpenseLine

    doctor = make_user(roles=["doctor"], name="=HYPERLINK(\"http://evil\")")
    login(doctor)
    assert client.post("/profile/bank", data={"bank_holder": "=SUM(A1)", "bank_sort_code": "12-34-56",
                                              "bank_account_number": "12345678"}).status_code == 303
    assert "12-34-56 ••••5678" in page_text(client.get("/profile"))
    client.post("/logout")
    application = make_application(doctor=doctor, status="approved", lines={"travel": (40000, "GBP")})
    claim = ExpenseClaim(funded_item_id=application.id, claimant_id=doctor.id)
    db.session.add(claim)
    db.session.flush()
    db.session.add(ExpenseLine(claim_id=claim.id, category="travel", spent_on=application.conference.start_date,
                               description="Flight", amount=25000, currency="GBP", amount_gbp=25000,
                               status="approved"))
    db.session.commit()
    login(finance)
    payments = page_text(client.get("/expenses/payments"))
    assert "Pay to 12-34-56 ••••5678" in payments and "12345678" not in payments
    rows = list(csv.reader(io.StringIO(client.get("/expenses/payments/bank.csv").get_data(as_text=True))))
    assert rows[0][:6] == ["payee", "account_holder", "iban", "bic", "sort_code", "account_number"]
    assert rows[1][4:7] == ["123456", "12345678", "250.00"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)  # no formula runs
    assert rows[-1][0] == "total" and rows[-1][6] == "250.00"


def test_the_bank_file_sends_as_many_statements_for_forty_payees_as_for_two(client, login, make_user,
                                                                            make_application, finance,
                                                                            count_statements):
    from portal.models import ExpenseClaim, ExpenseLine

    def payees(count: int) -> None:
        for n in range(count):
            doctor = make_user(roles=["doctor"], bank_holder=f"Payee {n}", bank_sort_code="123456",
                               bank_account_number=f"{n:08d}")
            application = make_application(doctor=doctor, status="approved", lines={"travel": (40000, "GBP")})
            claim = ExpenseClaim(funded_item_id=application.id, claimant_id=doctor.id)
            db.session.add(claim)
            db.session.flush()
            db.session.add(ExpenseLine(claim_id=claim.id, category="travel", description="Flight", amount=1000,
                                       spent_on=application.conference.start_date, currency="GBP",
                                       amount_gbp=1000, status="approved"))
        db.session.commit()

    login(finance)
    payees(2)
    with count_statements() as few:
        assert client.get("/expenses/payments/bank.csv").status_code == 200
    payees(38)
    with count_statements() as many:
        rows = list(csv.reader(io.StringIO(client.get("/expenses/payments/bank.csv").get_data(as_text=True))))
    assert len(rows) == 1 + 40 + 1 and many.count == few.count
