"""The staff review queue: filters, sort, pages of 50, totals in GBP, no N+1."""

from __future__ import annotations

import datetime as dt

from portal.extensions import db
from portal.models import Application, BudgetLine
from portal.models.types import utcnow


def rows(html: str) -> int:
    return html.count('<tr id="application-')


def table(response) -> str:
    """The queue's rows only (the filter lists name conferences and clinics too)."""
    html = response.get_data(as_text=True)
    return html[html.index('id="queue-rows"'):html.index("</main>")]


def test_filters_and_sort(client, login, make_user, make_clinic, make_conference, make_application):
    moscow = make_clinic(name="Moscow Children's Clinic")
    petersburg = make_clinic(name="Petersburg Institute")
    ash = make_conference(name="ASH Annual Meeting", start_date=dt.date(2027, 12, 5), end_date=dt.date(2027, 12, 8))
    eha = make_conference(name="EHA Congress", start_date=dt.date(2027, 6, 11), end_date=dt.date(2027, 6, 14))
    anna = make_user(name="Anna Sokolova", clinic=moscow)
    boris = make_user(name="Boris Orlov", clinic=petersburg)
    make_application(doctor=anna, conference=ash)
    make_application(doctor=boris, conference=eha)
    make_application(doctor=boris, conference=ash, status="approved")
    login(make_user(roles=["staff"]))

    html = table(client.get("/applications/review"))  # default: submitted, oldest first
    assert rows(html) == 2 and html.index("Anna Sokolova") < html.index("Boris Orlov")
    assert rows(client.get("/applications/review?status=all").get_data(as_text=True)) == 3
    assert rows(client.get("/applications/review?status=approved").get_data(as_text=True)) == 1
    html = table(client.get(f"/applications/review?conference_id={eha.id}"))
    assert rows(html) == 1 and "Boris Orlov" in html
    html = table(client.get(f"/applications/review?status=all&clinic_id={moscow.id}"))
    assert rows(html) == 1 and "Anna Sokolova" in html
    html = table(client.get("/applications/review?status=all&date_from=2027-11-01&date_to=2027-12-31"))
    assert rows(html) == 2 and "EHA Congress" not in html
    html = table(client.get("/applications/review?q=orlov"))
    assert rows(html) == 1 and "Boris Orlov" in html
    html = table(client.get("/applications/review?q=petersburg"))
    assert rows(html) == 1
    html = table(client.get("/applications/review?sort=conference"))
    assert html.index("EHA Congress") < html.index("ASH Annual Meeting")
    html = table(client.get("/applications/review?sort=doctor&status=all"))
    assert html.index("Anna Sokolova") < html.index("Boris Orlov")
    html = table(client.get("/applications/review?date_from=not-a-date&sort=nonsense&status=bogus"))
    assert rows(html) == 2  # bad filters fall back to the defaults, never a 500


def test_each_row_shows_the_requested_total_in_gbp_and_its_age(client, login, make_user, make_application, rates):
    make_application(lines={"registration": (65000, "EUR"), "visa": (8000, "GBP")},
                     submitted_at=utcnow() - dt.timedelta(days=3))
    login(make_user(roles=["staff"]))
    html = table(client.get("/applications/review"))
    assert "£632.50" in html  # €650 × 0.85 + £80
    assert "3 days" in html


def _add_applications(count: int, doctor, conference) -> None:
    now = utcnow()
    for i in range(count):
        application = Application(beneficiary_id=doctor.id, conference_id=conference.id, status="submitted",
                                  purpose="p", expected_benefit="b", participation="attending",
                                  submitted_at=now - dt.timedelta(minutes=i))
        application.budget_lines = [BudgetLine(category="registration", requested_amount=1000 + i,
                                               requested_currency="EUR"),
                                    BudgetLine(category="travel", requested_amount=500, requested_currency="USD")]
        db.session.add(application)
    db.session.commit()


def _statements_for(count_statements, client, url: str) -> int:
    with count_statements() as counted:
        response = client.get(url)
    assert response.status_code == 200
    return counted.count


def test_the_queue_runs_as_many_statements_for_500_rows_as_for_10(client, login, make_user, make_clinic,
                                                                  make_conference, rates, count_statements):
    conference = make_conference()
    doctors = [make_user(name=f"Doctor {i}", clinic=make_clinic()) for i in range(3)]
    login(make_user(roles=["staff"]))
    for doctor in doctors:
        _add_applications(4, doctor, conference)
    few = _statements_for(count_statements, client, "/applications/review")
    for doctor in doctors:
        _add_applications(163, doctor, conference)
    many = _statements_for(count_statements, client, "/applications/review")
    assert many == few, (few, many)


def test_pages_of_fifty(client, login, make_user, make_conference):
    _add_applications(55, make_user(), make_conference())
    login(make_user(roles=["staff"]))
    first = client.get("/applications/review").get_data(as_text=True)
    assert rows(first) == 50 and "Page 1 of 2" in first and "55 applications" in first
    second = client.get("/applications/review?page=2").get_data(as_text=True)
    assert rows(second) == 5
