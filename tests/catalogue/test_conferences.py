"""The conferences catalogue: staff add and confirm, doctors propose, htmx in place."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Conference, OutboxMessage

NEW = {"name": "World Congress of Paediatric Oncology", "organiser": "SIOP", "city": "Lisbon",
       "country": "Portugal", "start_date": "2027-10-15", "end_date": "2027-10-18",
       "website": "https://siop-online.org/", "confirmed": "y"}


def test_staff_add_a_conference_without_javascript(client, login, make_user):
    login(make_user(roles=["staff"]))
    response = client.post("/conferences", data=NEW)
    assert response.status_code == 303 and response.headers["Location"] == "/conferences"
    conference = db.session.scalars(select(Conference)).one()
    assert conference.confirmed and conference.proposed_by_id is None
    assert conference.start_date == dt.date(2027, 10, 15)
    page = client.get("/conferences").get_data(as_text=True)
    assert "World Congress of Paediatric Oncology" in page and "added" in page


def test_staff_add_a_conference_with_htmx_gets_a_fragment(client, login, make_user):
    login(make_user(roles=["staff"]))
    response = client.htmx_post("/conferences", data=NEW)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="conference-form"' in html  # a fresh, empty form
    assert 'hx-swap-oob="afterbegin:#conference-rows"' in html and "World Congress of Paediatric Oncology" in html
    assert 'value="World Congress' not in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_errors_come_back_in_the_form_with_what_was_typed(client, login, make_user):
    login(make_user(roles=["staff"]))
    response = client.htmx_post("/conferences", data={**NEW, "end_date": "2027-10-01", "city": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "cannot be before the first day" in html and "Enter the city." in html
    assert 'value="World Congress of Paediatric Oncology"' in html
    assert db.session.scalars(select(Conference)).all() == []


def test_a_doctor_proposes_a_conference_and_staff_confirm_it(app, client, login, make_user):
    doctor = make_user(roles=["doctor"])
    login(doctor)
    response = client.post("/conferences", data={**NEW, "confirmed": "y"})  # cannot self-confirm
    assert response.status_code == 303
    conference = db.session.scalars(select(Conference)).one()
    assert not conference.confirmed and conference.proposed_by_id == doctor.id
    other_doctor = app.test_client()
    other = make_user(roles=["doctor"])
    other_doctor.post("/login", data={"email": other.email, "password": "correct horse battery"})
    assert "World Congress" not in other_doctor.get("/conferences").get_data(as_text=True)
    assert "World Congress" in client.get("/conferences").get_data(as_text=True)
    assert client.post(f"/conferences/{conference.id}/confirm").status_code == 403

    client.post("/logout")
    login(make_user(roles=["staff"]))
    assert "World Congress" in client.get("/conferences?show=proposed").get_data(as_text=True)
    response = client.htmx_post(f"/conferences/{conference.id}/confirm")
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.strip().startswith(f'<tr id="conference-{conference.id}"') and "confirmed" in row
    assert db.session.get(Conference, conference.id).confirmed
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.recipient == doctor.email and "World Congress" in mail.body_text
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "conferences")).all()
    assert actions == ["conference_proposed", "conference_confirmed"]
    assert "World Congress" in other_doctor.get("/conferences").get_data(as_text=True)


def test_staff_edit_a_conference_and_see_its_history(client, login, make_user, make_conference):
    conference = make_conference(name="EHA Congress")
    login(make_user(roles=["staff"], name="Emma Clarke"))
    response = client.post(f"/conferences/{conference.id}/edit",
                           data={**NEW, "name": "EHA Congress 2027", "city": "Milan", "country": "Italy"})
    assert response.status_code == 303
    assert db.session.get(Conference, conference.id).city == "Milan"
    page = client.get(f"/conferences/{conference.id}/edit").get_data(as_text=True)
    assert "Emma Clarke" in page and "History" in page


def test_search_the_catalogue(client, login, make_user, make_conference):
    make_conference(name="ASH Annual Meeting", city="San Diego", country="USA")
    make_conference(name="EBMT Annual Meeting", city="Vienna", country="Austria")
    login(make_user())
    html = client.get("/conferences?q=vienna").get_data(as_text=True)
    assert "EBMT Annual Meeting" in html and "ASH Annual Meeting" not in html


def test_doctors_cannot_edit_conferences(client, login, make_user, make_conference):
    conference = make_conference()
    login(make_user(roles=["doctor"]))
    assert client.get(f"/conferences/{conference.id}/edit").status_code == 403


def test_percent_and_underscore_in_a_search_are_literal(client, login, make_user, make_conference):
    make_conference(name="Meeting 100% Online")
    make_conference(name="Other Meeting")
    login(make_user())
    assert "Other Meeting" not in client.get("/conferences?q=%25").get_data(as_text=True)
    assert "Meeting 100% Online" in client.get("/conferences?q=100%25").get_data(as_text=True)
    assert "Meeting" not in client.get("/conferences?q=_").get_data(as_text=True).split("<tbody")[1]
