"""Who may use the expert visits module and see a visit (its page, programme and calendar)."""

from __future__ import annotations

from typing import Any

from ...models import ExpertVisit
from ...permissions import is_staff

ROLES = ("expert", "staff")


def can_see_visit(user: Any, visit: Any) -> bool:
    """The expert sees their own visits; staff see every visit."""
    return visit.beneficiary_id == user.id or is_staff(user)


def can_access(user: Any, subject: Any) -> bool | None:
    """A visit's files (its calendar) go with the visit; None for what is not this module's."""
    if isinstance(subject, ExpertVisit):
        return can_see_visit(user, subject)
    return None
