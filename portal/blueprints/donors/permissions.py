"""Who may use the donors module and have its files: staff keep the donors' records (donors
never sign in)."""

from __future__ import annotations

from typing import Any

from ...models import (
    Acknowledgement,
    AcknowledgementBatch,
    Donation,
    DonationImport,
    DonationRefund,
    Donor,
    GiftAidAggregate,
    GiftAidClaim,
)
from ...permissions import has_role

ROLES = ("staff",)

OWN_SUBJECTS = (Acknowledgement, AcknowledgementBatch, Donation, DonationImport, DonationRefund, Donor,
                GiftAidAggregate, GiftAidClaim)


def can_access(user: Any, subject: Any) -> bool | None:
    """Staff have the module's records and files (a batch's letters to post, a claim's schedule …); None for what
    is not this module's."""
    if isinstance(subject, OWN_SUBJECTS):
        return has_role(user, *ROLES)
    return None
