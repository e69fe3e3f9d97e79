"""The donor's letters: a thank-you for their gifts and a statement of what they paid for.
Both are written in the donor's own language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...letters import LetterKind
from ...models import Acknowledgement, Donor
from ...permissions import is_staff
from .services import IMPACT_KIND, THANKS_KIND, impact_facts, thanks_facts


def _staff(user: Any, subject: Any) -> bool:
    return is_staff(user)


def thanks_letter() -> LetterKind:
    return LetterKind(
        key=THANKS_KIND,
        title=_l("Thank-you letter"),
        template="donors/letters/thanks.html",
        subject_type="acknowledgement",
        load=lambda subject_id: db.session.get(Acknowledgement, subject_id),
        facts=thanks_facts,
        missing=lambda acknowledgement: [],
        can_download=_staff,
        can_revoke=_staff,
        language_of=lambda acknowledgement: acknowledgement.donor.language,
    )


def _impact_missing(donor: Donor) -> list[Any]:
    if not any(donation.allocations for donation in donor.donations):
        return [_l("none of this donor's gifts is allocated to a funded application or visit yet")]
    return []


def impact_letter() -> LetterKind:
    return LetterKind(
        key=IMPACT_KIND,
        title=_l("Impact statement"),
        template="donors/letters/impact.html",
        subject_type="donor",
        load=lambda subject_id: db.session.get(Donor, subject_id),
        facts=impact_facts,
        missing=_impact_missing,
        can_download=_staff,
        can_revoke=_staff,
        language_of=lambda donor: donor.language,
    )
