"""When the conference's dates change, the visa letters that certify the old ones are superseded
by new ones in the background, and each doctor is told a new letter is ready; the verification
page of the old one says it no longer stands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.extensions import db
from portal.models import Letter, OutboxMessage
from tests.fixtures.tasks import run_queued_tasks


def test_new_conference_dates_supersede_the_letters_that_certify_the_old_ones(app, client, login,
                                                                              approved_application, make_user):
    application = approved_application()
    doctor, conference = application.doctor, application.conference
    login(doctor)
    assert client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True).data[:4] == b"%PDF"
    old = db.session.scalars(select(Letter)).one()
    client.post("/logout")

    login(make_user(roles=["staff"]))
    start = conference.start_date + dt.timedelta(days=7)
    response = client.post(f"/conferences/{conference.id}/edit", data={
        "name": conference.name, "organiser": "", "city": conference.city, "country": conference.country,
        "start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=3)).isoformat(), "website": "",
        "confirmed": "y"})
    assert response.status_code == 303
    assert db.session.scalars(select(Letter)).one().status == "valid"  # nothing rendered in the request
    assert run_queued_tasks(app) >= 1
    db.session.expire_all()

    letters = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert [letter.status for letter in letters] == ["superseded", "valid"]
    new = letters[1]
    assert new.facts["start"] != old.facts["start"] and letters[0].superseded_by_id == new.id
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains(new.reference))).one()
    assert mail.recipient == doctor.email and old.reference in mail.body_text
    verify = client.get(f"/verify/{old.token}").get_data(as_text=True)
    assert "Superseded: a newer letter replaces this one." in verify

    # A change the letter does not certify (the website) replaces nothing
    client.post(f"/conferences/{conference.id}/edit", data={
        "name": conference.name, "organiser": "", "city": conference.city, "country": conference.country,
        "start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=3)).isoformat(),
        "website": "https://example.org/congress", "confirmed": "y"})
    run_queued_tasks(app)
    db.session.expire_all()
    assert [letter.status for letter in db.session.scalars(select(Letter).order_by(Letter.id))] == [
        "superseded", "valid"]
