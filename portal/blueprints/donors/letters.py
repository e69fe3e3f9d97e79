"""The donor's letters: a thank-you for their gifts and a statement of what they paid for.
Both are written in the donor's own language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...letters import LetterKind
from ...models import Acknowledgement, Donation, DonationAllocation, Donor
from ...permissions import is_staff
from .services import IMPACT_KIND, THANKS_KIND, impact_facts, thanks_facts


def _staff(user: Any, subject: Any) -> bool:
    return is_staff(user)


def _donor_letter(key: str, title: Any, template: str, model: Any, subject_type: str, facts: Any, missing: Any,
                  language_of: Any) -> LetterKind:
    """Staff issue and revoke donor letters; the donor reads them in their own language."""
    return LetterKind(key=key, title=title, template=template, subject_type=subject_type,
                      load=lambda subject_id: db.session.get(model, subject_id), facts=facts, missing=missing,
                      can_download=_staff, can_revoke=_staff, language_of=language_of)


def thanks_letter() -> LetterKind:
    return _donor_letter(THANKS_KIND, _l("Thank-you letter"), "donors/letters/thanks.html", Acknowledgement,
                         "acknowledgement", thanks_facts, lambda acknowledgement: [],
                         lambda acknowledgement: acknowledgement.donor.language)


def _impact_missing(donor: Donor) -> list[Any]:
    allocated = db.session.scalar(select(DonationAllocation.id).join(Donation)
                                  .where(Donation.donor_id == donor.id).limit(1))
    if allocated is None:
        return [_l("none of this donor's gifts is allocated to a funded application or visit yet")]
    return []


def impact_letter() -> LetterKind:
    return _donor_letter(IMPACT_KIND, _l("Impact statement"), "donors/letters/impact.html", Donor, "donor",
                         impact_facts, _impact_missing, lambda donor: donor.language)
