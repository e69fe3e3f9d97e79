"""The audit trail: one helper to record a change, one to read a record's history, and how
its states and actions read (each module names its own through ``portal_labels``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import event, select

from .extensions import db
from .hookspecs import ACTION, STATE, LabelKey
from .models import AuditEvent, User
from .modules import plugin_manager


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


def labels() -> Mapping[LabelKey, Any]:
    """How every running module's states and actions read (``portal_labels``), gathered once
    per app."""
    found = current_app.extensions.get("portal_labels")
    if found is None:
        found = {}
        for batch in plugin_manager().hook.portal_labels():
            for key, label in (batch or {}).items():
                if key in found:
                    raise RuntimeError(f"two modules name the label {key!r}")
                found[key] = label
        current_app.extensions["portal_labels"] = found
    return found


def _type_of(subject: Any) -> str:
    return subject if isinstance(subject, str) else subject_type_of(subject)


def action_label(subject: Any, action: str) -> str:
    """What ``action`` on ``subject`` (a record, or its subject type) is called on a timeline."""
    label = labels().get((_type_of(subject), ACTION, action))
    return str(label) if label is not None else action.replace("_", " ")


def state_label(subject: Any, state: str | None) -> str:
    """How ``state`` of ``subject`` (a record, or its subject type: "expert_visits") reads, in
    the reader's language and agreeing with the record's noun."""
    if not state:
        return "—"
    label = labels().get((_type_of(subject), STATE, state))
    return str(label) if label is not None else state
