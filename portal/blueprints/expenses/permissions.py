"""Who may use the expenses module, see a claim, and have a line's receipt."""

from __future__ import annotations

from typing import Any

from ...models import ExpenseLine
from ...permissions import has_role

ROLES = ("doctor", "expert", "staff", "finance")
CLAIMANTS = ("doctor", "expert")


def can_see_claim(user: Any, claim: Any) -> bool:
    """The claimant sees their own claims; staff and finance see every claim."""
    return claim.claimant_id == user.id or has_role(user, "staff", "finance")


def can_access(user: Any, subject: Any) -> bool | None:
    """A receipt goes with its line's claim; None for what is not this module's."""
    if isinstance(subject, ExpenseLine):
        return can_see_claim(user, subject.claim)
    return None
