"""Claims through the screens: lines in place, decisions inline, payments, CSV, budget."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import ExpenseLine, OutboxMessage, Payment
from tests.expenses_web.conftest import add_line, open_claim


def decide(client, line, action, htmx=True, **fields):
    data = {f"l{line.id}-version": str(line.version), f"l{line.id}-next": "/expenses/review"}
    data.update({f"l{line.id}-{k}": v for k, v in fields.items()})
    post = client.htmx_post if htmx else client.post
    return post(f"/expenses/lines/{line.id}/{action}", data=data)


def test_lines_are_added_and_removed_in_place(client, login, claimable):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    response = client.post(f"/expenses/claims/{claim_id}/lines", headers={"HX-Request": "true"},
                           content_type="multipart/form-data",
                           data={"category": "travel", "spent_on": "2026-11-02", "description": "Flight",
                                 "amount": "250.50", "currency": "USD",
                                 "receipt": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "flight.pdf")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="claim-lines"' in html
    assert "Flight" in html and "$250.50" in html and "£197.90" in html  # 250.50 × 0.79 = 197.895 → half up
    line = db.session.scalars(select(ExpenseLine)).one()
    assert (line.amount, line.currency, str(line.rate), line.amount_gbp) == (25050, "USD", "0.79", 19790)
    response = client.htmx_post(f"/expenses/lines/{line.id}/delete")
    assert response.status_code == 200 and "Flight" not in response.get_data(as_text=True)
    assert db.session.scalars(select(ExpenseLine)).all() == []


def test_bad_lines_show_errors_and_keep_the_input(client, login, claimable):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    response = add_line(client, claim_id, description="", amount="12.345", category="visa")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Say what the expense was." in html and "Too many decimal places for EUR." in html
    assert 'value="12.345"' in html
    response = add_line(client, claim_id, receipt=b"not a receipt at all")
    assert response.status_code == 422 and "whatever its name says" in response.get_data(as_text=True)
    assert db.session.scalars(select(ExpenseLine)).all() == []


def test_staff_decide_inline_and_the_claimant_answers(app, client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, description="Hotel", category="accommodation", amount="20000", currency="RUB")
    client.post(f"/expenses/claims/{claim_id}/submit")
    line = db.session.scalars(select(ExpenseLine)).one()
    staff = app.test_client()
    staff_user = make_user(roles=["staff"], name="Emma Clarke")
    staff.post("/login", data={"email": staff_user.email, "password": "correct horse battery"})
    assert decide(staff, line, "query", question="").status_code == 422
    response = decide(staff, line, "query", question="Which nights?")
    assert response.status_code == 200 and "Question sent to the claimant." in response.get_data(as_text=True)
    assert "Which nights?" in db.session.scalars(select(OutboxMessage.body_text).order_by(OutboxMessage.id)).all()[-1]

    page = client.get(f"/expenses/claims/{claim_id}").get_data(as_text=True)
    assert "Which nights?" in page and "Send the answer" in page
    response = client.post(f"/expenses/lines/{line.id}/answer", content_type="multipart/form-data",
                           data={f"l{line.id}-answer": "12 to 15 June.",
                                 f"l{line.id}-receipt": (io.BytesIO(b"%PDF-1.4\n% new\n%%EOF\n"), "hotel.pdf")})
    assert response.status_code == 303
    line = db.session.get(ExpenseLine, line.id)
    assert line.status == "submitted" and line.answer == "12 to 15 June." and line.receipt.original_name == "hotel.pdf"
    response = decide(staff, line, "approve", htmx=False)
    assert response.status_code == 303 and db.session.get(ExpenseLine, line.id).status == "approved"


def test_over_the_approved_amount_needs_a_reason(client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, amount="950", description="Registration, late fee")
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff"]))
    line = db.session.scalars(select(ExpenseLine)).one()
    response = decide(client, line, "approve")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "over its approved amount" in html and "<html" not in html
    assert db.session.get(ExpenseLine, line.id).status == "submitted"
    response = decide(client, line, "approve", override_reason="The organiser raised the fee.")
    assert response.status_code == 200
    assert db.session.get(ExpenseLine, line.id).override_reason == "The organiser raised the fee."


def test_a_line_without_a_rate_cannot_be_approved_until_one_is_added(client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, amount="300", currency="CHF", description="Taxi", category="travel")
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff", "finance"]))
    line = db.session.scalars(select(ExpenseLine)).one()
    assert line.rate is None and "no rate" in client.get("/expenses/review").get_data(as_text=True)
    response = decide(client, line, "approve")
    assert response.status_code == 422 and "no exchange rate for CHF" in response.get_data(as_text=True)
    client.post("/expenses/rates", data={"currency": "CHF", "rate": "0.89", "valid_from": "2026-10-01"})
    response = decide(client, db.session.get(ExpenseLine, line.id), "approve")
    assert response.status_code == 200, re.findall(r"role=.status.>([^<]*)<", response.get_data(as_text=True))
    line = db.session.get(ExpenseLine, line.id)
    assert (line.status, str(line.rate), line.amount_gbp) == ("approved", "0.89", 26700)


def test_another_claimants_claim_and_receipt_are_not_found(client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id)
    line = db.session.scalars(select(ExpenseLine)).one()
    client.post("/logout")
    login(make_user(roles=["doctor", "expert"]))
    assert client.get(f"/expenses/claims/{claim_id}").status_code == 404
    assert client.get(f"/expenses/lines/{line.id}/receipt").status_code == 404
    assert client.post(f"/expenses/lines/{line.id}/delete").status_code == 404
    assert client.post("/expenses/claims", data={"funded_item_id": claimable.id}).status_code == 404
    assert client.get("/expenses/review").status_code == 403
    assert client.get("/expenses/payments").status_code == 403


def test_finance_pays_and_cannot_pay_own_approvals(app, client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, amount="100")
    add_line(client, claim_id, amount="50", description="Taxi", category="travel", currency="USD")
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    both = make_user(roles=["staff", "finance"])
    login(both)
    for line in db.session.scalars(select(ExpenseLine)).all():
        decide(client, line, "approve")
    ids = [str(line.id) for line in db.session.scalars(select(ExpenseLine))]
    payment = {"group": str(claimable.beneficiary_id), "line": ids}
    prefix = f"p{claimable.beneficiary_id}"
    payment |= {f"{prefix}-paid_on": "2026-11-20", f"{prefix}-method": "bank_transfer",
                f"{prefix}-reference": "BACS-001", f"{prefix}-amount": "124.50"}
    response = client.post("/expenses/payments", data=payment)
    assert response.status_code == 422 and "someone else must pay it" in response.get_data(as_text=True)
    client.post("/logout")
    login(make_user(roles=["finance"]))
    assert "£124.50" in client.get("/expenses/payments").get_data(as_text=True)  # £85.00 + £39.50
    response = client.post("/expenses/payments", data={**payment, f"{prefix}-amount": "100.00"})
    assert response.status_code == 422 and "must match" in response.get_data(as_text=True)
    assert client.post("/expenses/payments", data=payment).status_code == 303
    assert db.session.scalar(select(Payment.amount_gbp)) == 12450
    assert {line.status for line in db.session.scalars(select(ExpenseLine))} == {"paid"}


def test_csv_export_has_the_columns_and_the_total(client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, amount="100")
    add_line(client, claim_id, amount="10000", currency="RUB", category="accommodation", description="Hotel")
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff"]))
    response = client.get("/expenses/review.csv?status=submitted")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["line", "claim", "claimant", "funded_item", "category", "date", "description", "amount",
                       "currency", "rate", "amount_gbp", "status", "decided_by", "payment_reference", "paid_on"]
    assert [row[7:11] for row in rows[1:3]] == [["100.00", "EUR", "0.85", "85.00"],
                                                 ["10000.00", "RUB", "0.0095", "95.00"]]
    assert rows[-1][0] == "total" and rows[-1][10] == "180.00"
    only_hotel = list(csv.reader(io.StringIO(client.get("/expenses/review.csv?category=accommodation")
                                             .get_data(as_text=True))))
    assert len(only_hotel) == 3 and only_hotel[-1][10] == "95.00"


def test_the_queue_statement_count_does_not_grow_with_lines(client, login, claimable, make_user, count_statements):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    for n in range(3):
        add_line(client, claim_id, amount=str(10 + n), receipt=f"%PDF-1.4\n% {n}\n".encode())
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff"]))

    def statements() -> int:
        with count_statements() as counted:
            assert client.get("/expenses/review").status_code == 200
        return counted.count

    few = statements()
    claim = db.session.get(ExpenseLine, 1).claim
    for n in range(60):
        claim.lines.append(ExpenseLine(category="registration", spent_on=claim.lines[0].spent_on, description=f"x{n}",
                                       amount=100 + n, currency="EUR", status="submitted", rate=claim.lines[0].rate,
                                       amount_gbp=85, receipt_id=claim.lines[n % 3].receipt_id))
    db.session.commit()
    assert statements() == few
