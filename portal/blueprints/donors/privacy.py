"""What the donors module holds about a donor, for their data export and their erasure."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from ...extensions import db
from ...hookspecs import PersonalData
from ...models import (
    Acknowledgement,
    AuditEvent,
    Donation,
    DonationImport,
    Donor,
    GiftAidClaimLine,
    GiftAidDeclaration,
    Letter,
    OutboxMessage,
)
from ...models.types import utcnow
from ...personal_data import as_row
from ...privacy import erase_letter


def _letters(donor: Donor) -> list[Letter]:
    return list(db.session.scalars(select(Letter).join(Acknowledgement, Acknowledgement.letter_id == Letter.id)
                                   .where(Acknowledgement.donor_id == donor.id).order_by(Letter.id)))


def personal_data(person: Any) -> PersonalData | None:
    """The donor's record, gifts, Gift Aid declarations and claim lines, thank-you letters, e-mails and audit
    trail."""
    if not isinstance(person, Donor):
        return None
    donations = db.session.scalars(select(Donation).where(Donation.donor_id == person.id).order_by(Donation.id))
    declarations = db.session.scalars(select(GiftAidDeclaration).where(GiftAidDeclaration.donor_id == person.id)
                                      .order_by(GiftAidDeclaration.id))
    acknowledgements = db.session.scalars(select(Acknowledgement).where(Acknowledgement.donor_id == person.id)
                                          .order_by(Acknowledgement.id))
    letters = _letters(person)
    lines = db.session.scalars(select(GiftAidClaimLine).join(Donation, Donation.id == GiftAidClaimLine.donation_id)
                               .where(Donation.donor_id == person.id).order_by(GiftAidClaimLine.id))
    emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == person.email)
                                .order_by(OutboxMessage.id)).all() if person.email else []
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == Donor.__tablename__,
                                                         AuditEvent.subject_id == person.id).order_by(AuditEvent.id))
    return PersonalData(
        records={"donor": [as_row(person, skip=("search_name",))], "donations": [as_row(d) for d in donations],
                 "gift_aid_declarations": [as_row(d) for d in declarations],
                 "gift_aid_claim_lines": [as_row(line) for line in lines],
                 "acknowledgements": [as_row(a) for a in acknowledgements],
                 "letters": [as_row(letter, skip=("token",)) for letter in letters],
                 "emails": [as_row(message) for message in emails],
                 "audit_events": [as_row(event) for event in events]},
        files=[(f"letters/{letter.reference}.pdf", letter.pdf) for letter in letters if letter.pdf is not None])


def erase(donor: Donor, pseudonym: str) -> None:
    """The donor's name, address, e-mail and notes replaced by the pseudonym; their letters
    revoked and emptied, their Gift Aid claim lines pseudonymised. Their gifts, Gift Aid declarations
    and allocations stay as they are."""
    now = utcnow()
    for letter in _letters(donor):
        erase_letter(letter, pseudonym, now)
    _erase_from_imports(donor, pseudonym, now)
    # The claims' copies of the details (erasure waits until HMRC can no longer ask about them).
    db.session.execute(update(GiftAidClaimLine).where(GiftAidClaimLine.donation_id.in_(
        select(Donation.id).where(Donation.donor_id == donor.id))).values(
        title="", first_name="", last_name=pseudonym, house="", postcode="").execution_options(
        synchronize_session=False))
    donor.kind, donor.title, donor.first_name, donor.organisation_name = "individual", None, None, None
    donor.last_name = pseudonym
    donor.email = donor.house = donor.address = donor.postcode = donor.notes = None
    donor.contact_preference = "none"
    donor.refresh_search_name()


def _erase_from_imports(donor: Donor, pseudonym: str, now: Any) -> None:
    """The donor's name in an import's report becomes the pseudonym; a file still holding it is emptied."""
    names = {name for name in (donor.full_name, donor.display_name, donor.email) if name}
    for upload in db.session.scalars(select(DonationImport)):
        if upload.result and any(name in json.dumps(upload.result, ensure_ascii=False) for name in names):
            text = json.dumps(upload.result, ensure_ascii=False)
            for name in sorted(names, key=len, reverse=True):
                text = text.replace(json.dumps(name, ensure_ascii=False)[1:-1], pseudonym)
            upload.result = json.loads(text)
        if upload.content and any(name in upload.content for name in names):
            upload.content, upload.purged_at = "", upload.purged_at or now
