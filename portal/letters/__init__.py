"""The letters engine: every PDF the portal issues is numbered, rendered, recorded and
verifiable the same way. Modules offer letter kinds through ``portal_letter_kinds``."""

from .engine import LetterJob, PdfPool
from .kinds import letter_kind, missing_for_staff, missing_from_profile, profile_incomplete, valid_letter_exists
from .service import (
    NotReady,
    RevokedLetter,
    history,
    issue_many,
    latest_letter,
    letter_html,
    obtain,
    organisation,
    revoke,
)
from .views import bp

__all__ = ["LetterJob", "NotReady", "PdfPool", "RevokedLetter", "bp", "history", "issue_many", "latest_letter",
           "letter_html", "letter_kind", "missing_for_staff", "missing_from_profile", "obtain", "organisation",
           "profile_incomplete", "revoke", "valid_letter_exists"]
