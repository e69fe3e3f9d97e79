"""How donor kinds, methods, channels and actions read, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ...hookspecs import LabelKey, timeline_labels
from ...models import Donation, DonationImport, Donor, GiftAidAggregate, GiftAidClaim

KIND_LABELS = {"individual": _l("Individual"), "organisation": _l("Organisation")}
PREFERENCE_LABELS = {"email": _l("E-mail"), "post": _l("Post"), "none": _l("No contact")}
METHOD_LABELS = {"bank_transfer": _l("Bank transfer"), "card": _l("Card"), "cheque": _l("Cheque"),
                 "cash": _l("Cash"), "online_platform": _l("Online platform")}
CHANNEL_LABELS = {"email": _l("by e-mail"), "post": _l("by post"), "none": _l("on file, not sent")}
LANGUAGE_LABELS = {"en": _l("English"), "ru": _l("Russian")}
DONATION_STATE_LABELS = {"pending": lazy_pgettext("donation state", "awaiting thanks"),
                         "acknowledged": lazy_pgettext("donation state", "acknowledged")}
# A donor's own timeline moves between the states of their Gift Aid declarations.
DECLARATION_STATE_LABELS = {"valid": lazy_pgettext("Gift Aid declaration state", "valid"),
                            "cancelled": lazy_pgettext("Gift Aid declaration state", "cancelled")}

CLAIM_STATE_LABELS = {"draft": lazy_pgettext("Gift Aid claim state", "draft"),
                      "submitted": lazy_pgettext("Gift Aid claim state", "submitted"),
                      "paid": lazy_pgettext("Gift Aid claim state", "paid")}


def audit_labels() -> dict[LabelKey, Any]:
    """States and actions of donors, donations, imports and Gift Aid claims, for ``portal_labels``."""
    return {
        **timeline_labels(Donor.__tablename__, states=DECLARATION_STATE_LABELS, actions={
            "donor_added": lazy_pgettext("donor action", "Donor added"),
            "donor_changed": lazy_pgettext("donor action", "Donor details changed"),
            "gift_aid_declared": lazy_pgettext("donor action", "Gift Aid declaration recorded"),
            "gift_aid_cancelled": lazy_pgettext("donor action", "Gift Aid declaration cancelled"),
            "person_erased": lazy_pgettext("donor action", "Personal details erased: a pseudonym from now on"),
            "erasure_scheduled": lazy_pgettext("donor action",
                                               "Erasure scheduled for when HMRC can no longer ask about Gift Aid"),
        }),
        **timeline_labels(Donation.__tablename__, states=DONATION_STATE_LABELS, actions={
            "donation_recorded": lazy_pgettext("donation action", "Donation recorded"),
            "donation_changed": lazy_pgettext("donation action", "Donation changed"),
            "donation_acknowledged": lazy_pgettext("donation action", "Donation acknowledged"),
            "donation_allocated": lazy_pgettext("donation action", "Donation allocated"),
            "allocation_removed": lazy_pgettext("donation action", "Allocation removed"),
            "donation_refunded": lazy_pgettext("donation action", "Refund recorded"),
        }),
        **timeline_labels(GiftAidClaim.__tablename__, states=CLAIM_STATE_LABELS, actions={
            "gift_aid_claim_created": lazy_pgettext("Gift Aid claim action", "Claim made"),
            "gift_aid_line_removed": lazy_pgettext("Gift Aid claim action", "Line taken out"),
            "gift_aid_claim_discarded": lazy_pgettext("Gift Aid claim action", "Claim discarded"),
            "gift_aid_claim_submitted": lazy_pgettext("Gift Aid claim action", "Submitted to HMRC"),
            "gift_aid_claim_paid": lazy_pgettext("Gift Aid claim action", "Paid by HMRC"),
        }),
        **timeline_labels(GiftAidAggregate.__tablename__, actions={
            "gift_aid_aggregate_recorded": lazy_pgettext("aggregated entry action", "Aggregated entry recorded"),
            "gift_aid_aggregate_removed": lazy_pgettext("aggregated entry action", "Aggregated entry removed"),
        }),
        **timeline_labels(DonationImport.__tablename__, actions={
            "donations_imported": lazy_pgettext("donation import action", "Donations imported"),
        }),
    }
