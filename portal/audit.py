"""The audit trail: one helper to record a change, one to read a record's history."""

from __future__ import annotations

from typing import Any

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


# What each action is called on a timeline. Modules add their own at import time.
ACTION_LABELS: dict[str, Any] = {}


def describe(action: str, label: Any) -> None:
    """Name an action for timelines (``label`` is usually a ``lazy_gettext`` string)."""
    ACTION_LABELS[action] = label


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action.replace("_", " ")))
