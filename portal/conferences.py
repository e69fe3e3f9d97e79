"""Conferences in the catalogue: staff add and confirm them, anyone else proposes one (a
doctor, while applying). One transaction each, with its audit entry and, where someone
waits, its e-mail. Used by the catalogue pages and by modules alike."""

from __future__ import annotations

from typing import Any

from . import audit
from .extensions import db
from .mail import queue_mail
from .models import Conference, User
from .modules import plugin_manager
from .permissions import is_staff
from .transactions import transaction


def _blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v or None) if isinstance(v, str) else v for k, v in values.items()}


@transaction  # called inside another service's transaction (a doctor proposing while applying), it joins that
def save_conference(conference: Conference | None, values: dict[str, Any], *, by: User,
                    confirmed: bool | None = None) -> Conference:
    """Create or edit a conference. Staff decide ``confirmed``; anyone else only proposes."""
    values = _blank_to_none(values)
    created = conference is None
    conference = conference or Conference(proposed_by_id=None if is_staff(by) else by.id)
    changed = sorted(k for k, v in values.items() if getattr(conference, k) != v)
    for key in changed:
        setattr(conference, key, values[key])
    if created:
        conference.confirmed = bool(confirmed) if is_staff(by) else False
    db.session.add(conference)
    if created:
        action = "conference_added" if is_staff(by) else "conference_proposed"
        audit.record(action, conference, actor=by,
                     to_state="confirmed" if conference.confirmed else "proposed")
    elif changed:
        audit.record("conference_updated", conference, actor=by, details={"fields": changed})
        plugin_manager().hook.portal_conference_changed(conference=conference, fields=changed, by=by)
    return conference


@transaction
def confirm_conference(conference: Conference, *, by: User) -> bool:
    """Confirm a proposed conference and tell whoever proposed it; False if it already was."""
    if conference.confirmed:
        return False
    conference.confirmed = True
    audit.record("conference_confirmed", conference, actor=by, from_state="proposed", to_state="confirmed")
    if conference.proposed_by is not None:
        queue_mail(conference.proposed_by, "conference_confirmed", conference=conference)
    return True
