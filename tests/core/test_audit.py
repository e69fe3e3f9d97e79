"""The audit trail: one helper to record, history shown as a timeline, never rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent


def test_record_and_read_a_timeline(app, make_user, make_conference):
    staff = make_user(roles=["staff"], name="Emma Clarke")
    conference = make_conference(confirmed=False)
    audit.record("conference_confirmed", conference, actor=staff, from_state="proposed", to_state="confirmed",
                 note="Checked the organiser's site")
    db.session.commit()
    [event] = audit.timeline(conference)
    assert (event.actor_name, event.action, event.from_state, event.to_state) == (
        "Emma Clarke", "conference_confirmed", "proposed", "confirmed")
    assert event.subject_type == "conferences" and event.subject_id == conference.id
    assert event.occurred_at.tzinfo is not None


def test_history_cannot_be_changed_through_the_model(app, make_user):
    user = make_user()
    audit.record("something", user, actor=user)
    db.session.commit()
    event = db.session.scalars(select(AuditEvent)).one()
    event.note = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AuditEvent)).one())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_history_cannot_be_changed_in_the_database_either(app, make_user):
    user = make_user()
    audit.record("something", user, actor=user)
    db.session.commit()
    for statement in ("UPDATE audit_events SET note = 'rewritten'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(AuditEvent.note)) is None


def test_the_profile_page_shows_the_users_history(client, login, make_user):
    user = make_user()
    audit.record("account_registered", user, actor=user, to_state="active")
    db.session.commit()
    login(user)
    html = client.get("/profile").get_data(as_text=True)
    assert "History" in html and "Account registered" in html
