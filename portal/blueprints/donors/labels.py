"""How donor kinds, methods, channels and actions read, in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ... import audit

KIND_LABELS = {"individual": _l("Individual"), "organisation": _l("Organisation")}
PREFERENCE_LABELS = {"email": _l("E-mail"), "post": _l("Post"), "none": _l("No contact")}
METHOD_LABELS = {"bank_transfer": _l("Bank transfer"), "card": _l("Card"), "cheque": _l("Cheque"),
                 "cash": _l("Cash"), "online_platform": _l("Online platform")}
CHANNEL_LABELS = {"email": _l("by e-mail"), "post": _l("by post"), "none": _l("on file, not sent")}
LANGUAGE_LABELS = {"en": _l("English"), "ru": _l("Russian")}
STATE_LABELS = {"pending": _l("awaiting thanks"), "acknowledged": _l("acknowledged"),
                "cancelled": _l("cancelled"), "valid": _l("valid")}

for action, label in {
    "donor_added": _l("Donor added"),
    "donor_changed": _l("Donor details changed"),
    "gift_aid_declared": _l("Gift Aid declaration recorded"),
    "gift_aid_cancelled": _l("Gift Aid declaration cancelled"),
    "donation_recorded": _l("Donation recorded"),
    "donation_changed": _l("Donation changed"),
    "donation_acknowledged": _l("Donation acknowledged"),
    "donation_allocated": _l("Donation allocated"),
    "allocation_removed": _l("Allocation removed"),
    "donations_imported": _l("Donations imported"),
}.items():
    audit.describe(action, label, STATE_LABELS)
