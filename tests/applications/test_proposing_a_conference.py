"""Proposing a conference while applying is one change: the proposal and the draft are
committed together, or neither is."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from portal.blueprints.applications import services
from portal.extensions import db
from portal.models import Application, AuditEvent, Conference, FundedItem
from tests.applications.test_doctor_applies import form_data

PROPOSAL = {"new_conference_name": "Nordic Paediatric Oncology Days", "new_conference_city": "Oslo",
            "new_conference_country": "Norway", "new_conference_start": "2027-05-03",
            "new_conference_end": "2027-05-05"}


@contextmanager
def counting_commits():
    commits: list[Session] = []

    def count(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", count)
    try:
        yield commits
    finally:
        event.remove(Session, "after_commit", count)


def test_the_proposal_and_the_draft_are_one_commit(client, login, make_user):
    doctor = make_user(roles=["doctor"])
    login(doctor)
    with counting_commits() as commits:
        response = client.post("/applications/new", data=form_data(0, **PROPOSAL))
    assert response.status_code == 303
    assert len(commits) == 1
    conference = db.session.scalars(select(Conference)).one()
    application = db.session.scalars(select(Application)).one()
    assert application.conference_id == conference.id and application.status == "draft"
    assert not conference.confirmed and conference.proposed_by_id == doctor.id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"conference_proposed", "application_created"} <= actions


def test_a_refused_draft_leaves_no_proposal_behind(app, make_user, make_conference, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, conference=make_conference(name="EHA Congress"), status="draft")
    with db.engine.begin() as conn:  # someone else changed the application since the doctor's form was drawn
        conn.execute(update(FundedItem).where(FundedItem.id == application.id)
                     .values(version=FundedItem.version + 1))
    proposal = {"name": PROPOSAL["new_conference_name"], "city": "Oslo", "country": "Norway",
                "start_date": application.conference.start_date, "end_date": application.conference.end_date,
                "website": None, "organiser": None}

    with pytest.raises(services.DecisionConflict):
        services.save_draft(application, {"purpose": "Changed my mind."}, {"registration": (65000, "EUR")},
                            by=doctor, new_conference=proposal)
    assert db.session.scalars(select(Conference.name)).all() == ["EHA Congress"]
    assert "conference_proposed" not in set(db.session.scalars(select(AuditEvent.action)))
    assert db.session.get(Application, application.id).purpose != "Changed my mind."
