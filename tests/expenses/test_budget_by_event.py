"""A trip counts in the budget year of its conference and a visit in that of its arrival,
whenever it was approved or paid; the budget year can run April to March; the chart has an
axis of amounts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from portal.blueprints.expenses.budget import budget_left, chart_bars, year_figures
from portal.extensions import db
from portal.models import BudgetLine, Clinic, ExchangeRate, ExpertVisit, ProgrammeBudget


@pytest.fixture
def euro(app):
    db.session.add(ExchangeRate(base_currency="GBP", currency="EUR", rate=Decimal("0.85"),
                                valid_from=dt.date.today() - dt.timedelta(days=400)))
    db.session.commit()


def approved_for(make_application, make_conference, start: dt.date, amount: int = 100000):
    conference = make_conference(start_date=start, end_date=start + dt.timedelta(days=3))
    application = make_application(conference=conference, status="approved", lines={"travel": (amount, "EUR")})
    application.budget_lines[0].approved_amount, application.budget_lines[0].approved_currency = amount, "EUR"
    db.session.commit()
    return application


def test_next_years_conference_is_committed_next_year_and_its_paid_line_spent_there(
        euro, make_application, make_conference, make_line, staff, finance):
    this_year = dt.date.today().year
    later = approved_for(make_application, make_conference, dt.date(this_year + 1, 3, 10))
    approved_for(make_application, make_conference, dt.date(this_year, 1, 20), amount=20000)
    line = make_line(item=later, category="travel", amount=10000, currency="EUR", spent_on=dt.date.today(),
                     status="paid", approver=staff, payer=finance)  # a deposit, paid this year

    ahead, current = year_figures(this_year + 1), year_figures(this_year)
    assert ahead["spent"] == line.amount_gbp == 8500
    assert ahead["committed"] == 85000 - 8500  # what the trip may still spend
    assert {m["month"]: m["committed"] for m in ahead["months"]}[3] == 76500  # the conference's month
    assert current["spent"] == 0 and current["committed"] == 17000
    db.session.add(ProgrammeBudget(year=this_year + 1, amount_gbp=1_000_000))
    db.session.commit()
    assert budget_left(this_year + 1) == 1_000_000 - 8500 - 76500


def test_a_visit_counts_in_the_year_of_its_arrival(euro, make_user):
    clinic = Clinic(name="Morozov Hospital", city="Moscow", country="Russia")
    db.session.add(clinic)
    db.session.flush()
    year = dt.date.today().year + 1
    visit = ExpertVisit(beneficiary=make_user(roles=["expert"]), host_clinic_id=clinic.id, status="confirmed",
                        arrival_on=dt.date(year, 2, 3), departure_on=dt.date(year, 2, 9), purpose="Lectures")
    db.session.add(visit)
    db.session.flush()
    db.session.add(BudgetLine(funded_item_id=visit.id, category="travel", requested_amount=50000,
                              requested_currency="EUR", approved_amount=50000, approved_currency="EUR"))
    db.session.commit()
    assert year_figures(year)["committed"] == 42500
    assert year_figures(year - 1)["committed"] == 0


@pytest.mark.parametrize("config_overrides", [{"FINANCIAL_YEAR_START_MONTH": 4}])
def test_an_april_to_march_year(euro, make_application, make_conference, config_overrides, client, login, staff):
    year = dt.date.today().year
    approved_for(make_application, make_conference, dt.date(year + 1, 3, 31), amount=10000)  # year's last day
    approved_for(make_application, make_conference, dt.date(year + 1, 4, 1), amount=20000)  # the next year's first
    approved_for(make_application, make_conference, dt.date(year, 4, 1), amount=40000)
    figures = year_figures(year)
    assert figures["label"] == f"{year}/{(year + 1) % 100:02d}"
    assert [m["month"] for m in figures["months"]] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
    assert figures["committed"] == 8500 + 34000
    assert year_figures(year + 1)["committed"] == 17000
    login(staff)
    page = client.get(f"/expenses/budget?year={year}").get_data(as_text=True)
    assert f"Budget {year}/{(year + 1) % 100:02d}" in page
    months = re.findall(r'<th scope="row">(\w+)</th><td>', page)
    assert months[:2] == ["Apr", "May"] and months[-1] == "Mar"


def test_the_chart_has_an_axis_of_amounts():
    chart = chart_bars([{"month": m, "spent": 1000 * m, "committed": 0} for m in range(1, 13)])
    assert [tick["value"] for tick in chart["ticks"]] == [0, 3000, 6000, 9000, 12000]
    assert chart["ticks"][0]["y"] > chart["ticks"][-1]["y"]  # upwards
    assert all(bar["x"] >= chart["axis"] for bar in chart["bars"])  # right of the labels
    assert len(chart["labels"]) == 12
