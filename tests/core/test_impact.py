"""The trustees' impact page: every module's figures, totals equal to what the database holds
(with the doctors supported before the portal), by year of the events and by partner clinic;
the donors' letters quote the same totals."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import distinct, func, select

from portal.blueprints.donors.services import impact_figures as letter_figures
from portal.extensions import db
from portal.impact import impact_summary
from portal.letters import organisation
from portal.models import Application, Clinic, ConferenceReport, ExpertVisit


def cell(html: str, table_row: str) -> list[str]:
    found = re.search(rf"<tr><th scope=\"row\">{re.escape(table_row)}</th>(.*?)</tr>", html, re.S)
    assert found, table_row
    return re.findall(r"<td>(.*?)</td>", found.group(1))


def test_the_impact_page_adds_up_what_the_database_holds(client, login, staff, make_user, make_application,
                                                         make_conference):
    north = Clinic(name="North Clinic", city="Moscow", country="Russia")
    south = Clinic(name="South Clinic", city="Kazan", country="Russia")
    db.session.add_all([north, south])
    db.session.flush()
    anna = make_user(roles=["doctor"], clinic_id=north.id)
    ivan = make_user(roles=["doctor"], clinic_id=south.id)
    y2024 = make_conference(start_date=dt.date(2024, 5, 1), end_date=dt.date(2024, 5, 3))
    y2025 = make_conference(start_date=dt.date(2025, 5, 1), end_date=dt.date(2025, 5, 3))
    reported = make_application(doctor=anna, conference=y2024, status="completed")
    make_application(doctor=anna, conference=y2025, status="approved")
    make_application(doctor=ivan, conference=y2025, status="approved")
    make_application(doctor=ivan, conference=y2024, status="declined")  # not supported
    db.session.add(ConferenceReport(application_id=reported.id, learned="New protocols.", shared_by=["talk"],
                                    shared_on=dt.date(2024, 6, 1), colleagues_reached=35, status="accepted"))
    expert = make_user(roles=["expert"])
    db.session.add_all([
        ExpertVisit(beneficiary=expert, host_clinic_id=north.id, status="completed", purpose="Consultations",
                    arrival_on=dt.date(2025, 2, 1), departure_on=dt.date(2025, 2, 5), patients_consulted=40,
                    doctors_trained=6, operations_performed=3),
        ExpertVisit(beneficiary=expert, host_clinic_id=south.id, status="cancelled", purpose="Lectures",
                    arrival_on=dt.date(2025, 3, 1), departure_on=dt.date(2025, 3, 5), patients_consulted=99)])
    assert organisation().doctors_before_portal == 70  # the programme's history, as admins set it
    db.session.commit()  # (organisation() may have made its row: the page's request must see it)

    login(staff)
    html = client.get("/impact").get_data(as_text=True)
    supported = db.session.scalar(select(func.count(distinct(Application.beneficiary_id)))
                                  .where(Application.is_funded()))
    assert supported == 2
    summary = impact_summary()
    assert summary["totals"]["applications.doctors"] == 70 + supported
    assert summary["totals"]["applications.conferences"] == 2
    assert summary["totals"]["applications.colleagues"] == 35
    assert summary["totals"]["expert_visits.patients"] == 40  # the cancelled visit's do not count
    assert summary["totals"]["expert_visits.visits"] == 1
    assert "<dt>Doctors supported</dt><dd>72</dd>" in html
    assert "<dt>Patients consulted</dt><dd>40</dd>" in html
    figures = [f.key for f in summary["figures"]]
    column = {key: n for n, key in enumerate(figures)}
    assert cell(html, "2024")[column["applications.doctors"]] == "1"
    assert cell(html, "2025")[column["applications.doctors"]] == "2"
    assert cell(html, "Before the portal")[column["applications.doctors"]] == "70"
    assert cell(html, "North Clinic")[column["expert_visits.operations"]] == "3"
    assert cell(html, "South Clinic")[column["applications.doctors"]] == "1"
    assert cell(html, "South Clinic")[column["expert_visits.patients"]] == "0"
    assert '<svg viewBox="0 0' in html and 'class="axis"' in html and "<title>2025: 2</title>" in html
    assert letter_figures() == {"since": 2011, "doctors": 72, "conferences": 2, "expert_visits": 1}


def test_the_impact_page_is_for_staff(client, login, make_user):
    login(make_user(roles=["doctor"]))
    assert client.get("/impact").status_code == 403
    client.post("/logout")
    login(make_user(roles=["finance"]))
    assert client.get("/impact").status_code == 403
