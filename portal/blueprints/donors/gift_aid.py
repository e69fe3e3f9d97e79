"""Which gifts Gift Aid is claimed on: the rule the services, pages and letters share."""

from __future__ import annotations

from ...models import Donation

GIFT_AID_CURRENCY = "GBP"


def gift_aid_eligible(donation: Donation) -> bool:
    """Only an individual's sterling gift covered by a declaration that stands on its date."""
    donor = donation.donor
    return (donor.kind == "individual" and donation.currency == GIFT_AID_CURRENCY
            and any(declaration.covers(donation.received_on) for declaration in donor.declarations))
