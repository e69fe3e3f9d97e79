"""Pressing "Claim expenses" again carries on with the claim not yet submitted instead of
starting another empty one — also when two tabs press it at the same moment."""

from __future__ import annotations

import functools

from sqlalchemy import func, select

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import ExpenseClaim
from tests.fixtures.concurrency import at_once


def claims_of(item) -> int:
    return db.session.scalar(select(func.count()).select_from(ExpenseClaim)
                             .where(ExpenseClaim.funded_item_id == item.id)) or 0


def test_claim_expenses_twice_reuses_the_open_draft(app, client, login, make_funded_item, doctor):
    item = make_funded_item()
    login(doctor)
    first = client.post("/expenses/claims", data={"funded_item_id": item.id})
    again = client.post("/expenses/claims", data={"funded_item_id": item.id})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] and claims_of(item) == 1
    claim = db.session.scalars(select(ExpenseClaim)).one()
    from tests.expenses.conftest import receipt

    services.add_line(claim, {"category": "travel", "spent_on": item.conference.start_date,
                              "description": "Taxi", "amount": 3000, "currency": "EUR"}, receipt(), by=doctor)
    services.submit_claim(claim, by=doctor)
    after_submit = client.post("/expenses/claims", data={"funded_item_id": item.id})
    assert after_submit.headers["Location"] != first.headers["Location"] and claims_of(item) == 2


def _press(app, email: str, item_id: int) -> str:
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": "correct horse battery"}).status_code == 303
    return client.post("/expenses/claims", data={"funded_item_id": item_id}).headers["Location"]


def test_two_tabs_pressing_claim_at_once_make_one_claim(app, make_funded_item, doctor):
    for _round in range(8):
        item = make_funded_item()
        places = at_once([functools.partial(_press, app, doctor.email, item.id) for _ in range(3)])
        db.session.expire_all()
        assert len(set(places)) == 1 and claims_of(item) == 1
