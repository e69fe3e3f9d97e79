"""The one error type for a change the rules refuse.

Services raise a ``UserError`` (or a module's subclass of it) with a message written for the
person who asked and, when the message is about one field of their form, that field's name.
``transactions.transaction`` rolls the change back; the view shows the message beside the
field (``pages.show_error``) or, uncaught, the core answers an error page with ``status``.
"""

from __future__ import annotations

from typing import Any

# A refusal because of the record's state or someone else's change; 422: what was sent is unusable.
CONFLICT = 409
INVALID = 422


class UserError(Exception):
    """A refused change, said for the person; nothing was changed."""

    status = CONFLICT

    def __init__(self, message: Any, field: str | None = None, *, status: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message  # may be a lazy string: read in the language of whoever is shown it
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return str(self.message)


class Conflict(UserError):
    """Someone else changed the same thing at the same moment; reloading shows what they did."""

    status = CONFLICT


class Invalid(UserError):
    """What was sent cannot be used as it is (a missing amount, a file that is not a PDF …)."""

    status = INVALID
