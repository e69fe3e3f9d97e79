"""The first screen of an application takes a supporting document with the first save (a refused
file saves nothing and keeps what was typed), and a doctor who submits is told at once what
their visa letter will need from their profile, with the way to add it."""

from __future__ import annotations

import html
import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Application, ApplicationDocument
from tests.applications.test_doctor_applies import form_data

PDF = b"%PDF-1.4\n%%EOF\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_document_comes_with_the_first_save(client, login, make_user, make_conference):
    doctor = make_user(roles=["doctor"])
    conference = make_conference()
    login(doctor)
    response = client.post("/applications/new", content_type="multipart/form-data", data={
        **form_data(conference.id), "document_kind": "acceptance_letter",
        "document": (io.BytesIO(PDF), "acceptance.pdf")})
    assert response.status_code == 303
    document = db.session.scalars(select(ApplicationDocument)).one()
    assert document.kind == "acceptance_letter" and document.file.original_name == "acceptance.pdf"


def test_a_refused_document_saves_nothing_and_keeps_what_was_typed(client, login, make_user, make_conference):
    doctor = make_user(roles=["doctor"])
    conference = make_conference()
    login(doctor)
    response = client.post("/applications/new", content_type="multipart/form-data", data={
        **form_data(conference.id, purpose="My own words, kept."), "document_kind": "cv",
        "document": (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "cv.svg")})
    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert 'id="document-error"' in body and "SVG images are not accepted" in body
    assert "My own words, kept." in body
    assert count(Application) == 0 and count(ApplicationDocument) == 0


def test_on_submit_the_doctor_is_told_what_the_visa_letter_will_need(client, login, make_user, make_conference):
    doctor = make_user(roles=["doctor"])  # an empty profile
    conference = make_conference()
    login(doctor)
    response = client.post("/applications/new", data=form_data(conference.id, action="submit"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    needs = html.unescape(page.split('id="letter-needs"', 1)[1].split("</section>", 1)[0])
    for item in ("your position", "your clinic", "your passport number", "your nationality"):
        assert item in needs, item
    assert 'href="/profile"' in needs
    no_visa = client.post("/applications/new", data=form_data(make_conference().id, visa_needed="", action="submit"))
    assert 'id="letter-needs"' not in client.get(no_visa.headers["Location"]).get_data(as_text=True)
