"""What the donors module puts in the staff inbox: gifts awaiting thanks, thanked in one click."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...hookspecs import InboxItem, InboxKind
from ...models import Donation
from ...money import format_minor
from . import services
from .labels import CHANNEL_LABELS

TO_THANK = "donors.to_thank"


def inbox_kinds(limit: int) -> list[InboxKind]:
    """Gifts awaiting thanks, the longest-waiting first (the dashboard card counts the same)."""
    oldest = db.session.scalars(
        services.pending_query().options(joinedload(Donation.donor))
        .order_by(Donation.received_on, Donation.id).limit(limit)).all()
    return [InboxKind(
        TO_THANK, "donors", _l("Donors"), _l("Gifts awaiting thanks"), services.pending_count(),
        [InboxItem(d.id, d.donor.display_name, d.received_on, url_for("donors.donation", donation_id=d.id),
                   detail=format_minor(d.amount, d.currency)) for d in oldest],
        url_for("donors.donations", status="pending"), action=_l("Thank"), order=50)]


def act(user: Any, item_id: int) -> str:
    donation = db.get_or_404(Donation, item_id)
    acknowledgement = services.acknowledge([donation], by=user)
    return _("Thanked %(channel)s: letter %(reference)s.", channel=CHANNEL_LABELS[acknowledgement.channel],
             reference=acknowledgement.letter.reference)
