"""Two staff press "Acknowledge all pending" at the same moment: every donor is thanked
once, by one of the two runs, with one letter and at most one e-mail."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from portal.blueprints.donors import services
from portal.extensions import db
from portal.models import Acknowledgement, Donation, Donor, Letter, OutboxMessage, User

DONORS = 24


def _run_batch(app, staff_id: int, started: threading.Barrier, reports: list, errors: list) -> None:
    with app.app_context():
        try:
            staff = db.session.get(User, staff_id)
            started.wait(timeout=30)
            reports.append(services.acknowledge_pending(by=staff, workers=1, chunk=4))
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            db.session.remove()


def test_two_batches_at_once_thank_every_donor_exactly_once(app, make_user, make_donor, make_donation):
    staff = [make_user(roles=["staff"]), make_user(roles=["staff"])]
    donors = [make_donor(contact_preference="email" if n % 2 else "post") for n in range(DONORS)]
    for donor in donors:
        make_donation(donor, 1000)
        make_donation(donor, 2500)
    started = threading.Barrier(2)
    reports: list = []
    errors: list = []
    threads = [threading.Thread(target=_run_batch, args=(app, member.id, started, reports, errors))
               for member in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [] and len(reports) == 2
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
