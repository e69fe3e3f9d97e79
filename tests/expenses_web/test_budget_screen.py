"""The budget page: budget, committed, spent and remaining for the year, with a chart."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import ExpenseLine, ProgrammeBudget
from tests.expenses_web.conftest import add_line, open_claim


def figure(html: str, name: str) -> str:
    return re.search(rf'id="total-{name}">(?:<a [^>]*>)?([^<]*)<', html).group(1)


def test_admins_set_the_budget_and_everyone_reads_the_figures(app, client, login, claimable, make_user):
    year = dt.date.today().year
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id, amount="100", spent_on=f"{year}-01-15")
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")

    line = db.session.scalars(select(ExpenseLine)).one()
    line.status, line.decided_by_id = "paid", make_user(roles=["staff"]).id
    db.session.commit()

    login(make_user(roles=["admin"]))
    response = client.post(f"/expenses/budget?year={year}", data={"year": str(year), "amount": "50000"})
    assert response.status_code == 303
    assert db.session.get(ProgrammeBudget, year).amount_gbp == 5_000_000
    html = client.get(f"/expenses/budget?year={year}").get_data(as_text=True)
    # approved: €900 → £765, $600 → £474, ₽50,000 → £475; £85 of registration is spent
    assert figure(html, "budget") == "£50,000.00"
    assert figure(html, "spent") == "£85.00"
    assert figure(html, "committed") == "£1,629.00"
    assert figure(html, "remaining") == "£48,286.00"
    assert "<svg" in html and 'class="bar-spent"' in html
    assert f"/expenses/review?status=paid&amp;year={year}" in html  # the number links to its lines

    client.post("/logout")
    login(make_user(roles=["staff"]))
    assert client.get(f"/expenses/budget?year={year}").status_code == 200
    assert client.post(f"/expenses/budget?year={year}", data={"year": str(year), "amount": "1"}).status_code == 403
    dashboard = client.get("/").get_data(as_text=True)
    assert "Budget left" in dashboard and "£48,286.00" in dashboard
