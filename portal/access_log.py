"""Who read whose passport details, and when: a letter that holds them downloaded (by the
person, staff or anyone the letter's kind lets have it). Admins read the log; the person's
data export includes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .extensions import db
from .models import SensitiveRead, User


def record_read(reader: Any, subject: Any, what: str) -> None:
    """Log a read of ``subject``'s passport details, in the caller's transaction."""
    db.session.add(SensitiveRead(reader_id=getattr(reader, "id", None), subject_id=subject.id, what=what[:100]))


def reads_of(user: User, limit: int = 200) -> list[SensitiveRead]:
    """The latest reads of ``user``'s passport details, newest first."""
    return list(db.session.scalars(select(SensitiveRead).where(SensitiveRead.subject_id == user.id)
                                   .order_by(SensitiveRead.at.desc(), SensitiveRead.id.desc()).limit(limit)))


def recent_reads(limit: int = 200) -> list[SensitiveRead]:
    """The latest reads of anyone's passport details, newest first."""
    return list(db.session.scalars(select(SensitiveRead).order_by(SensitiveRead.at.desc(), SensitiveRead.id.desc())
                                   .limit(limit)))
