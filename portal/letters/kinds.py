"""Letter kinds: the registry of what the running modules offer (``LetterKind`` is defined
beside the hookspecs), for the generic letter routes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Integer, String, and_, exists, or_, select

from ..hookspecs import LetterKind
from ..models import Letter, User
from ..modules import plugin_manager

PUBLIC_FACTS = ("holder", "event", "dates")

# Profile fields letters are made from, as the person is asked to fill them in.
PROFILE_FIELDS = {
    "passport_full_name": _l("your full name as in the passport"),
    "nationality": _l("your nationality"),
    "passport_number": _l("your passport number"),
    "passport_expiry": _l("your passport's expiry date"),
    "position": _l("your position"),
    "clinic": _l("your clinic"),
}


def missing_from_profile(user: Any, fields: tuple[str, ...]) -> list[Any]:
    """What ``user`` still has to add to their profile, in words, for a kind's ``missing``."""
    return [_l("in your profile: %(field)s", field=PROFILE_FIELDS[name]) for name in fields
            if not getattr(user, name)]


# The same fields as staff read them, for the inbox's letters blocked by missing details.
PROFILE_FIELD_NAMES = {
    "passport_full_name": _l("full name as in the passport"),
    "nationality": _l("nationality"),
    "passport_number": _l("passport number"),
    "passport_expiry": _l("passport expiry date"),
    "position": _l("position"),
    "clinic": _l("clinic"),
}


def profile_incomplete(fields: tuple[str, ...]) -> ColumnElement[bool]:
    """``missing_from_profile`` as SQL over ``User``: true when any of ``fields`` is empty (an
    encrypted field is NULL when empty, so nothing has to be decrypted to ask)."""
    conditions = []
    for name in fields:
        column = User.clinic_id if name == "clinic" else getattr(User, name)
        empty = column.is_(None)
        if isinstance(column.type, String):
            empty = or_(empty, column == "")
        conditions.append(empty)
    return or_(*conditions)


def missing_for_staff(user: Any, fields: tuple[str, ...]) -> list[str]:
    """The fields of ``user``'s profile still empty, named for staff."""
    return [str(PROFILE_FIELD_NAMES[name]) for name in fields if not getattr(user, name)]


def valid_letter_exists(kind: str, subject_id: ColumnElement[Integer] | Any) -> ColumnElement[bool]:
    """Whether a valid letter of ``kind`` exists for the subject whose id is ``subject_id``."""
    return exists(select(Letter.id).where(and_(Letter.kind == kind, Letter.subject_id == subject_id,
                                               Letter.status == "valid")))


def letter_kinds() -> dict[str, LetterKind]:
    """Every kind the running modules offer, by key."""
    found: dict[str, LetterKind] = {}
    for batch in plugin_manager().hook.portal_letter_kinds():
        for kind in batch or []:
            if kind.key in found:
                raise RuntimeError(f"two modules offer the letter kind {kind.key!r}")
            found[kind.key] = kind
    return found


def letter_kind(key: str) -> LetterKind | None:
    kinds = current_app.extensions.get("portal_letter_kinds")
    if kinds is None:
        kinds = current_app.extensions["portal_letter_kinds"] = letter_kinds()
    return kinds.get(key)
