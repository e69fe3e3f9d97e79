"""Separation of duties: nobody decides, confirms or pays anything they benefit from.

A funded item (an application, an expert visit) is for its beneficiary; whoever that is may
apply, claim and report, but the decisions on it are someone else's. Each module's services
call ``ensure_not_beneficiary`` before such a decision, with the module's own error type,
and its pages ask ``is_beneficiary`` before offering the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_beneficiary(item: Any, user: Any) -> bool:
    """Whether ``item`` (a funded item) is for ``user``."""
    user_id = getattr(user, "id", None)
    return item is not None and user_id is not None and item.beneficiary_id == user_id


def ensure_not_beneficiary(item: Any, by: Any, error: Callable[[Any], Exception], message: Any) -> None:
    """Refuse, with ``error(message)``, a decision on ``item`` by the person it is for."""
    if is_beneficiary(item, by):
        raise error(message)
