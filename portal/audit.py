"""The audit trail: one helper to record a change, one to read a record's history."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event, select

from .extensions import db
from .models import AuditEvent, User


def subject_type_of(subject: Any) -> str:
    return getattr(subject, "__tablename__", type(subject).__name__.lower())


def record(
    action: str,
    subject: Any,
    *,
    actor: User | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit entry to the current transaction (the caller commits it with the change).

    ``actor`` defaults to the signed-in user; the subject must already have an id
    (the session is flushed if it has none yet).
    """
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()  # type: ignore[attr-defined]
    if getattr(subject, "id", None) is None:
        db.session.flush()
    entry = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else None,
        action=action,
        subject_type=subject_type_of(subject),
        subject_id=subject.id,
        from_state=from_state,
        to_state=to_state,
        note=note,
        details=details,
    )
    db.session.add(entry)
    return entry


def timeline(subject: Any) -> list[AuditEvent]:
    """The record's history, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == subject_type_of(subject),
                   AuditEvent.subject_id == subject.id)
            .order_by(AuditEvent.id)
        )
    )


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewriting_history(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise RuntimeError("audit events are append-only")


# What each action is called on a timeline. Modules add theirs with ``describe``.
ACTION_LABELS: dict[str, Any] = {
    "account_registered": _l("Account registered"),
    "registration_attempted": _l("Someone tried to register again with this address"),
    "account_created": _l("Account created"),
    "password_reset_requested": _l("Password reset requested"),
    "password_reset": _l("Password reset by e-mailed link"),
    "password_changed": _l("Password changed"),
    "profile_updated": _l("Profile updated"),
    "roles_changed": _l("Roles changed"),
    "account_deactivated": _l("Account deactivated"),
    "account_reactivated": _l("Account reactivated"),
    "clinic_created": _l("Clinic added"),
    "clinic_updated": _l("Clinic updated"),
    "conference_added": _l("Conference added"),
    "conference_proposed": _l("Conference proposed"),
    "conference_confirmed": _l("Conference confirmed"),
    "conference_updated": _l("Conference updated"),
    "account_invited": _l("Invited to the portal"),
    "invitation_accepted": _l("Invitation accepted: password chosen"),
    "letter_issued": _l("Letter issued"),
    "letter_superseded": _l("Letter superseded by a newer one"),
    "letter_revoked": _l("Letter revoked"),
    "organisation_updated": _l("Organisation settings changed"),
}


# What each state is called on a timeline ("proposed → confirmed").
STATE_LABELS: dict[str, Any] = {
    "active": _l("active"),
    "inactive": _l("deactivated"),
    "proposed": _l("proposed"),
    "confirmed": _l("confirmed"),
    "valid": _l("valid"),
    "superseded": _l("superseded"),
    "revoked": _l("revoked"),
}


def describe(action: str, label: Any, states: dict[str, Any] | None = None) -> None:
    """Name an action (and any states it moves between) for timelines, in lazy_gettext strings."""
    ACTION_LABELS[action] = label
    STATE_LABELS.update(states or {})


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action.replace("_", " ")))


def state_label(state: str | None) -> str:
    return str(STATE_LABELS.get(state, state)) if state else "—"
