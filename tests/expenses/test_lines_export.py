"""The expense lines CSV streams in pieces from the database: each funded item named as its
pages name it (an application by its conference, a visit by its expert, clinic and date), the
same statements for a handful of lines as for many more than a piece holds."""

from __future__ import annotations

import csv
import datetime as dt
import io

from portal.blueprints.expenses import services
from portal.extensions import db
from portal.models import BudgetLine, ExpertVisit


def _visit(make_user, make_clinic) -> ExpertVisit:
    visit = ExpertVisit(beneficiary=make_user(roles=["expert"], name="Prof. Ingrid Berg"),
                        host_clinic=make_clinic(name="Gorbacheva Institute"), status="confirmed",
                        arrival_on=dt.date(2026, 3, 1), departure_on=dt.date(2026, 3, 5), purpose="Lectures")
    visit.budget_lines.append(BudgetLine(category="travel", requested_amount=90000, requested_currency="EUR",
                                         approved_amount=90000, approved_currency="EUR"))
    db.session.add(visit)
    db.session.commit()
    return visit


def _export(client) -> tuple[list[list[str]], int]:
    response = client.get("/expenses/review.csv?status=all", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    pieces = [piece for piece in response.response if piece]
    response.close()
    return list(csv.reader(io.StringIO(b"".join(pieces).decode()))), len(pieces)


def test_the_csv_streams_and_names_each_kind_of_funded_item(
        client, login, make_user, make_clinic, make_funded_item, make_line, staff, rates, count_statements,
        monkeypatch):
    application = make_funded_item()
    visit = _visit(make_user, make_clinic)
    make_line(item=application, description="Train")
    make_line(item=visit, description="Flight", amount=20000)
    login(staff)
    with count_statements() as few:
        rows, pieces = _export(client)
    names = {row[6]: row[3] for row in rows[1:-1]}
    assert names == {"Train": application.display_name,
                     "Flight": "Prof. Ingrid Berg · Gorbacheva Institute (01.03.2026)"}
    assert names["Train"] == f"{application.conference.name} ({application.conference.start_date.year})"
    assert rows[-1][0] == "total" and pieces == 2  # the lines, then the total

    monkeypatch.setattr(services, "CSV_BATCH", 2)  # pieces of two lines
    for n in range(5):
        make_line(item=application, description=f"Taxi {n}")
    with count_statements() as many:
        rows, pieces = _export(client)
    assert len(rows) == 1 + 7 + 1 and pieces == 5  # four pieces of lines, then the total
    assert many.count == few.count
