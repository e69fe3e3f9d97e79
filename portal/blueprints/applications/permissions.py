"""Who may use the applications module, see or change an application, and have its files."""

from __future__ import annotations

from typing import Any

from ...models import ApplicationDocument, ConferenceReport
from ...permissions import is_staff

ROLES = ("doctor", "staff")


def can_see_application(user: Any, application: Any) -> bool:
    """The doctor sees their own; staff see every application once it is submitted."""
    if application.beneficiary_id == user.id:
        return True
    return is_staff(user) and application.status != "draft"


def can_change_application(user: Any, application: Any) -> bool:
    """Only the doctor edits, documents and reports their own application."""
    return application.beneficiary_id == user.id


def can_access(user: Any, subject: Any) -> bool | None:
    """A document or a report (its certificate) goes with its application; None for what is
    not this module's."""
    if isinstance(subject, ApplicationDocument | ConferenceReport):
        return can_see_application(user, subject.application)
    return None
