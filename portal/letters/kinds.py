"""Letter kinds: what a module tells the engine about each letter it offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..plaintext import printable_facts


@dataclass(frozen=True)
class LetterKind:
    """One kind of letter. The callables receive the subject (an ORM object) and return
    plain values; the template receives only those.

    ``facts(subject)`` returns everything the letter certifies (JSON-ready: strings,
    numbers, lists, dicts); a change in it issues a new letter and supersedes the old.
    It must contain ``holder``, ``event`` and ``dates``: the verification page shows those.
    ``missing(subject)`` lists, in words for the reader, what must be done before the letter
    can be issued (empty when it can).
    """

    key: str
    title: Any
    template: str
    subject_type: str
    load: Callable[[int], Any]
    facts: Callable[[Any], dict[str, Any]]
    missing: Callable[[Any], list[Any]]
    can_download: Callable[[Any, Any], bool]
    can_revoke: Callable[[Any, Any], bool]
    language: str = "en"
    # A kind written in each reader's own language says whose: ``language_of(subject)``.
    language_of: Callable[[Any], str] | None = None
    funded_item_id: Callable[[Any], int | None] = field(default=lambda subject: None)
    holder: Callable[[Any], Any] = field(default=lambda subject: None)  # the User it is for, to e-mail

    def __post_init__(self) -> None:
        # Whatever a module certifies is printed: no invisible or direction-changing characters.
        facts_of = self.facts
        object.__setattr__(self, "facts", lambda subject: printable_facts(facts_of(subject)))

    def language_for(self, subject: Any) -> str:
        return self.language_of(subject) if self.language_of else self.language


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
    from ..modules import plugin_manager

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
