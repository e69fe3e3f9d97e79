"""Letter kinds: the registry of what the running modules offer (``LetterKind`` is defined
beside the hookspecs), for the generic letter routes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..hookspecs import LetterKind
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
