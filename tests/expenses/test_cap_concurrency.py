"""Five staff approve five lines of one category at the same moment, through the queue's
inline forms: the category's approved amount holds. The lines it cannot take are refused
with the request for a reason, never approved over the amount in silence."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import ExpenseLine
from tests.fixtures.concurrency import at_once

from .conftest import SPENT_ON, receipt

ROUNDS = 20
STAFF = 5
CAP = 10000  # £100.00 approved for travel
LINE = 3000  # £30.00 a line: three fit, the fourth would go over
NEEDS_REASON = "This would take Travel over its approved amount. Give a reason to approve it anyway."


def _submitted_lines(item: Any) -> list[ExpenseLine]:
    claimant = item.beneficiary
    claim = services.open_claim(item, by=claimant)
    for n in range(STAFF):
        services.add_line(claim, {"category": "travel", "spent_on": SPENT_ON, "description": f"Taxi {n + 1}",
                                  "amount": LINE, "currency": "GBP"}, receipt(), by=claimant)
    services.submit_claim(claim, by=claimant)
    return list(claim.lines)


def _approve(client: Any, token: str, line_id: int, version: int) -> tuple[int, int, str]:
    """What the queue row's approve form sends through htmx, with no reason given."""
    prefix = f"l{line_id}"
    response = client.post(f"/expenses/lines/{line_id}/approve", csrf=False,
                           headers={"HX-Request": "true", "X-CSRFToken": token},
                           data={"csrf_token": token, f"{prefix}-version": str(version),
                                 f"{prefix}-next": "/expenses/review", f"{prefix}-override_reason": ""})
    return line_id, response.status_code, response.get_data(as_text=True)


def test_five_staff_approving_at_once_never_take_a_category_over(signed_in_clients, make_funded_item, doctor):
    clients = signed_in_clients(STAFF)

    for round_number in range(1, ROUNDS + 1):
        item = make_funded_item(beneficiary=doctor, approved={"travel": (CAP, "GBP")})
        lines = [(line.id, line.version) for line in _submitted_lines(item)]
        db.session.commit()  # the test holds no transaction while the staff act
        answers = at_once([functools.partial(_approve, client, token, line_id, version)
                           for (client, token), (line_id, version) in zip(clients, lines, strict=True)])
        assert len(answers) == STAFF, f"round {round_number}"

        approved = sorted(line_id for line_id, status, _ in answers if status == 200)
        refused = [(line_id, status, body) for line_id, status, body in answers if status != 200]
        assert len(approved) == 3, f"round {round_number}: {[(i, s) for i, s, _ in answers]}"
        for line_id, status, body in refused:
            assert status == 422, f"round {round_number}: line {line_id} answered {status}"
            assert NEEDS_REASON in body and "<html" not in body
        for line_id, _status, body in answers:
            if line_id in approved:
                assert "Line approved." in body

        db.session.expire_all()
        stored = db.session.scalars(select(ExpenseLine).where(ExpenseLine.id.in_([i for i, _ in lines]))).all()
        assert sorted(line.id for line in stored if line.status == "approved") == approved
        assert all(line.status == "submitted" for line in stored if line.id not in approved)
        assert sum(line.amount_gbp for line in stored if line.status == "approved") <= CAP
        assert all(line.override_reason is None for line in stored)
        assert services.category_usage(item, "travel") == (CAP, 3 * LINE)
