"""The module's screens speak Russian to Russian-speaking users."""

from __future__ import annotations

import re

from portal.extensions import db
from tests.expenses_web.conftest import add_line, open_claim


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style|svg)[^>]*>.*?</\1>", " ", html, flags=re.S))


def test_claimant_and_finance_screens_in_russian(client, login, claimable, make_user):
    claimable.doctor.preferred_language = "ru"
    db.session.commit()
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    add_line(client, claim_id)
    page = visible_text(client.get(f"/expenses/claims/{claim_id}").get_data(as_text=True))
    for english in ("Add a line", "Category", "Receipt", "Submit the claim", "Approved and left"):
        assert english not in page, english
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff", "finance", "admin"], preferred_language="ru"))
    for url in ("/expenses/review", "/expenses/payments", "/expenses/rates", "/expenses/budget", "/expenses/direct"):
        text = visible_text(client.get(url).get_data(as_text=True))
        for english in ("Approve", "Status", "Budget", "Currency", "Amount", "Record", "Save"):
            assert english not in text, (url, english)
