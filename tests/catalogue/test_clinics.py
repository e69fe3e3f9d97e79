"""Partner clinics: staff keep the list."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Clinic

CLINIC = {"name": "Russian Children's Clinical Hospital", "city": "Moscow", "country": "Russia",
          "address": "117 Leninsky Prospekt", "website": ""}


def test_staff_add_edit_and_search_clinics(client, login, make_user):
    login(make_user(roles=["staff"]))
    assert client.post("/clinics/new", data=CLINIC).status_code == 303
    clinic = db.session.scalars(select(Clinic)).one()
    assert clinic.website is None
    assert client.post(f"/clinics/{clinic.id}/edit", data={**CLINIC, "city": "Moskva"}).status_code == 303
    assert db.session.get(Clinic, clinic.id).city == "Moskva"
    html = client.get("/clinics?q=children").get_data(as_text=True)
    assert "Russian Children&#39;s Clinical Hospital" in html
    assert "Russian Children" not in client.get("/clinics?q=berlin").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "clinics")).all()
    assert actions == ["clinic_created", "clinic_updated"]


def test_a_duplicate_name_or_bad_website_is_a_field_error(client, login, make_user, make_clinic):
    make_clinic(name="Rogachev Centre")
    login(make_user(roles=["staff"]))
    response = client.post("/clinics/new", data={**CLINIC, "name": "Rogachev Centre", "website": "not a url"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="website-error"' in html
    response = client.post("/clinics/new", data={**CLINIC, "name": "Rogachev Centre"})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert "117 Leninsky Prospekt</textarea>" in response.get_data(as_text=True)


def test_doctors_cannot_open_clinic_screens(client, login, make_user, make_clinic):
    clinic = make_clinic()
    login(make_user(roles=["doctor", "expert", "finance"]))
    assert client.get("/clinics").status_code == 403
    assert client.post(f"/clinics/{clinic.id}/edit", data=CLINIC).status_code == 403
