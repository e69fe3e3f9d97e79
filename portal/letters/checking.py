"""Checking a letter someone holds: the file itself (its SHA-256 against every letter issued,
then its signature), or the reference and check code printed on paper.

An uploaded file is never stored and never parsed unless its bytes are a letter the portal
issued: a hostile PDF meets nothing but a hash. A file that is a letter with something added
after it was issued (a viewer saving comments as an incremental update) still begins with the
letter's exact bytes, so each revision the file ends (``%%EOF``) is looked up too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Letter
from .service import normalise_check_code
from .signing import SignatureCheck, check_signature

MAX_BYTES = 5 * 1024 * 1024
# At most this many earlier revisions of one file are looked up.
MAX_REVISIONS = 50
_END_OF_REVISION = re.compile(rb"%%EOF(\r\n|\r|\n)?")


@dataclass(frozen=True)
class FileCheck:
    """What an uploaded file turned out to be."""

    letter: Letter | None  # the issued letter whose exact bytes it holds
    whole: bool  # the file is the letter and nothing else (else: the letter, then additions)
    signature: SignatureCheck | None  # None: the letter was issued before letters were signed


def revisions(content: bytes) -> list[bytes]:
    """The file and each earlier revision of it, longest first."""
    ends = [match.end() for match in _END_OF_REVISION.finditer(content)][-MAX_REVISIONS:]
    prefixes = {content} | {content[:end] for end in ends}
    return sorted(prefixes, key=len, reverse=True)


def check_file(content: bytes) -> FileCheck:
    """Whether ``content`` (at most ``MAX_BYTES``) is a letter the portal issued, and its signature."""
    candidates = {hashlib.sha256(revision).hexdigest(): revision for revision in revisions(content)}
    found = {letter.sha256: letter for letter in db.session.scalars(
        select(Letter).options(joinedload(Letter.certificate)).where(Letter.sha256.in_(candidates)))}
    for digest, revision in candidates.items():  # longest first: the whole file before any part of it
        letter = found.get(digest)
        if letter is not None:
            signature = (check_signature(revision, letter.certificate.der, letter.issued_at)
                         if letter.certificate else None)
            return FileCheck(letter, len(revision) == len(content), signature)
    return FileCheck(None, False, None)


def find_by_code(reference: str, code: str) -> Letter | None:
    """The letter with this reference, if ``code`` is its check code (any case, spaces and
    hyphens ignored); None otherwise, without saying which of the two was wrong."""
    typed = reference.strip()
    letter = db.session.scalar(select(Letter).where(Letter.reference.in_({typed, typed.upper()})).limit(1))
    expected = (letter.check_code if letter is not None else None) or "-" * 8
    matches = hmac.compare_digest(normalise_check_code(code).encode(), expected.encode())
    return letter if matches and letter is not None else None
