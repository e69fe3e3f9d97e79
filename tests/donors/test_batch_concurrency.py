"""Two staff press "Acknowledge all pending" at the same moment: every donor is thanked
once, by one of the two runs, with one letter and at most one e-mail."""

from __future__ import annotations

import functools
from collections import Counter

from sqlalchemy import func, select

from portal.blueprints.donors import services
from portal.extensions import db
from portal.models import Acknowledgement, Donation, Donor, Letter, OutboxMessage, User
from tests.fixtures.concurrency import at_once

DONORS = 24


def _run_batch(app, staff_id: int):
    with app.app_context():
        try:
            return services.acknowledge_pending(by=db.session.get(User, staff_id), workers=1, chunk=4)
        finally:
            db.session.remove()


def test_two_batches_at_once_thank_every_donor_exactly_once(app, make_user, make_donor, make_donation):
    staff = [make_user(roles=["staff"]), make_user(roles=["staff"])]
    donors = [make_donor(contact_preference="email" if n % 2 else "post") for n in range(DONORS)]
    for donor in donors:
        make_donation(donor, 1000)
        make_donation(donor, 2500)
    reports = at_once([functools.partial(_run_batch, app, member.id) for member in staff], timeout=300)
    assert len(reports) == 2
    db.session.expire_all()

    assert sum(report.letters for report in reports) == DONORS
    assert db.session.scalar(select(func.count()).select_from(Donation).where(
        Donation.acknowledgement_id.is_(None))) == 0
    per_donor = Counter(db.session.scalars(select(Acknowledgement.donor_id)))
    assert per_donor == Counter({donor.id: 1 for donor in donors})
    # every letter belongs to the acknowledgement that won; none was left behind by the other run
    acknowledgements = db.session.scalars(select(Acknowledgement)).all()
    assert {a.letter_id for a in acknowledgements} == set(db.session.scalars(select(Letter.id)))
    assert all(len(a.donations) == 2 for a in acknowledgements)
    references = [letter.reference for letter in db.session.scalars(select(Letter))]
    assert len(set(references)) == DONORS
    emailed = [d.email for d in db.session.scalars(select(Donor)) if d.contact_preference == "email"]
    assert Counter(db.session.scalars(select(OutboxMessage.recipient))) == Counter(emailed)
