"""An application for a conference that is still only proposed: the queue says so, and approving
it either confirms the conference in the same step (its details on the form) or does nothing."""

from __future__ import annotations

import html

from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, AuditEvent, Conference, OutboxMessage
from tests.applications.test_decisions import QUEUE, decide

AMOUNTS = {"approved-registration-amount": "600", "approved-registration-currency": "EUR",
           "approved-travel-amount": "400", "approved-travel-currency": "EUR"}


def test_approving_for_a_proposed_conference_confirms_it_or_is_refused(client, login, staff, make_user,
                                                                      make_application, make_conference, rates):
    doctor = make_user(roles=["doctor"])
    proposal = make_conference(confirmed=False, name="Baltic Haematology Days", proposed_by_id=doctor.id)
    application = make_application(doctor=doctor, conference=proposal)
    login(staff)
    queue = client.get(QUEUE).get_data(as_text=True)
    row = queue.split(f'<tr id="application-{application.id}"')[1].split("</tr>")[0]
    assert "Baltic Haematology Days" in row and "proposed" in row

    form = client.htmx_get(f"/applications/{application.id}/decision/approve").get_data(as_text=True)
    assert "The conference is only proposed:" in form and f'name="a{application.id}-confirm_conference"' in form
    for htmx in (True, False):
        refused = decide(client, application, "approve", htmx=htmx, **AMOUNTS)
        assert refused.status_code == 422
        assert "tick the box to confirm it with this approval" in html.unescape(refused.get_data(as_text=True))
        db.session.expire_all()
        assert db.session.get(Application, application.id).status == "submitted"
        assert not db.session.get(Conference, proposal.id).confirmed

    approved = decide(client, application, "approve", htmx=True, confirm_conference="y", **AMOUNTS)
    assert approved.status_code == 200 and "Application approved." in approved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "approved"
    assert db.session.get(Conference, proposal.id).confirmed
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_type == "conferences",
                                                             AuditEvent.subject_id == proposal.id)) == \
        "conference_confirmed"
    assert {m.recipient for m in db.session.scalars(select(OutboxMessage))} == {doctor.email}


def test_a_confirmed_conference_needs_no_box(client, login, staff, make_application, rates):
    application = make_application()
    login(staff)
    form = client.htmx_get(f"/applications/{application.id}/decision/approve").get_data(as_text=True)
    assert "confirm_conference" not in form
    assert decide(client, application, "approve", **AMOUNTS).status_code == 303
