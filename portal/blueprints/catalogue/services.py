"""Clinic changes: one transaction with its audit entry. Conferences are ``portal.conferences``:
modules propose them too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ... import audit
from ...extensions import db
from ...models import Clinic, User


class DuplicateName(ValueError):
    pass


def _blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v or None) if isinstance(v, str) else v for k, v in values.items()}


def save_clinic(clinic: Clinic | None, values: dict[str, Any], *, by: User) -> Clinic:
    """Create (``clinic`` None) or change a clinic; a name another clinic has raises ``DuplicateName``."""
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
