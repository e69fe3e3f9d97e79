"""Catalogue changes: one transaction with its audit entry (and e-mail where someone waits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ... import audit
from ...extensions import db
from ...mail import queue_mail
from ...models import Clinic, Conference, User
from ...permissions import is_staff


class DuplicateName(ValueError):
    pass


def _blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v or None) if isinstance(v, str) else v for k, v in values.items()}


def save_clinic(clinic: Clinic | None, values: dict[str, Any], *, by: User) -> Clinic:
    values = _blank_to_none(values)
    clash = db.session.scalar(select(Clinic).where(Clinic.name == values["name"]))
    if clash is not None and clash is not clinic:
        raise DuplicateName(values["name"])
    created = clinic is None
    clinic = clinic or Clinic()
    changed = sorted(k for k, v in values.items() if getattr(clinic, k) != v)
    for key in changed:
        setattr(clinic, key, values[key])
    db.session.add(clinic)
    if created or changed:
        audit.record("clinic_created" if created else "clinic_updated", clinic, actor=by,
                     details=None if created else {"fields": changed})
    db.session.commit()
    return clinic


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
    db.session.commit()
    return conference


def confirm_conference(conference: Conference, *, by: User) -> bool:
    if conference.confirmed:
        return False
    conference.confirmed = True
    audit.record("conference_confirmed", conference, actor=by, from_state="proposed", to_state="confirmed")
    if conference.proposed_by is not None:
        queue_mail(conference.proposed_by, "conference_confirmed", conference=conference)
    db.session.commit()
    return True
