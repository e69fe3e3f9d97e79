"""Five staff allocate at the same moment, through the gift page's form: a gift is never
allocated beyond its amount, and a funded item never beyond its approved budget. Those who
come too late are told what is left, and nothing of theirs is kept."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Application, DonationAllocation
from tests.fixtures.concurrency import at_once

ROUNDS = 20
STAFF = 5
SHARE = 3000  # £30.00 each: three fit in £100, the fourth would go over


def _funded_application(make_application: Any, budget: int) -> Application:
    application = make_application(status="approved", lines={"registration": (budget, "GBP")})
    for line in application.budget_lines:
        line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
    db.session.commit()
    return application


def _allocate(client: Any, token: str, donation_id: int, item_id: int) -> tuple[int, str]:
    """What the gift page's allocation form sends."""
    prefix = f"allocate{donation_id}-"
    response = client.post(f"/donors/donations/{donation_id}/allocations", csrf=False,
                           headers={"X-CSRFToken": token},
                           data={"csrf_token": token, f"{prefix}funded_item_id": str(item_id),
                                 f"{prefix}amount": f"{SHARE / 100:.2f}"})
    return response.status_code, response.get_data(as_text=True)


def _race(clients: list[tuple[Any, str]], pairs: list[tuple[int, int]]) -> list[tuple[int, str]]:
    answers = at_once([functools.partial(_allocate, client, token, donation_id, item_id)
                       for (client, token), (donation_id, item_id) in zip(clients, pairs, strict=True)])
    assert len(answers) == STAFF
    return answers


def _allocated(column: Any, value: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(DonationAllocation.amount), 0))
                             .where(column == value))


def test_five_staff_allocating_one_gift_at_once_never_allocate_more_than_it(signed_in_clients, make_application,
                                                                           make_donor, make_donation):
    clients = signed_in_clients(STAFF)
    for round_number in range(1, ROUNDS + 1):
        gift = make_donation(make_donor(), 10000)  # £100
        items = [_funded_application(make_application, 100000) for _ in range(STAFF)]
        gift_id, item_ids = gift.id, [item.id for item in items]
        db.session.commit()  # the test holds no transaction while the staff act

        answers = _race(clients, [(gift_id, item_id) for item_id in item_ids])

        statuses = sorted(status for status, _ in answers)
        assert statuses == [303, 303, 303, 422, 422], f"round {round_number}: {statuses}"
        for status, body in answers:
            if status == 422:
                assert "Only £10.00 of this gift is left to allocate." in body
        assert _allocated(DonationAllocation.donation_id, gift_id) == 3 * SHARE


def test_five_staff_allocating_to_one_item_at_once_never_fund_more_than_its_budget(signed_in_clients, make_application,
                                                                                  make_donor, make_donation):
    clients = signed_in_clients(STAFF)
    for round_number in range(1, ROUNDS + 1):
        item = _funded_application(make_application, 10000)  # £100 approved
        gifts = [make_donation(make_donor(), 5000) for _ in range(STAFF)]
        item_id, gift_ids = item.id, [gift.id for gift in gifts]
        db.session.commit()

        answers = _race(clients, [(gift_id, item_id) for gift_id in gift_ids])

        statuses = sorted(status for status, _ in answers)
        assert statuses == [303, 303, 303, 422, 422], f"round {round_number}: {statuses}"
        for status, body in answers:
            if status == 422:
                assert "That is more than the approved budget: £10.00 of it is still unfunded." in body
        assert _allocated(DonationAllocation.funded_item_id, item_id) == 3 * SHARE
