"""The letters engine: every PDF the portal issues is numbered, rendered, recorded and
verifiable the same way. Modules offer letter kinds through ``portal_letter_kinds``."""

from .kinds import LetterKind, letter_kind, missing_from_profile
from .service import NotReady, RevokedLetter, history, latest_letter, obtain, organisation, revoke
from .views import bp

__all__ = ["LetterKind", "NotReady", "RevokedLetter", "bp", "history", "latest_letter", "letter_kind",
           "missing_from_profile", "obtain", "organisation", "revoke"]
