"""The audit trail, the e-mail outbox and stored uploads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import BaseModel
from .types import EncryptedBytes, UTCDateTime, utcnow


class AuditEvent(BaseModel):
    """Who did what to which record, from and to which state. Rows are never changed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept beside the id so the trail still reads after an account is erased.
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column()
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor = relationship("User")


OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxMessage(BaseModel):
    """An e-mail written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="en")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # An issued letter sent as the message's PDF attachment (a donor's thank-you letter).
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"))

    letter = relationship("Letter")


class StoredFile(BaseModel):
    """An upload kept outside ``static/`` under a random name; served only after a permission check."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the claims queue finds shared receipts
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User")


class DataGeneration(BaseModel):
    """One row whose number every committed change raises (``portal.page_cache``): a page
    cached under an older number is never served again."""

    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


JOB_STATES = ("queued", "running", "done", "failed")


class Job(BaseModel):
    """Long work somebody started, done in the background (``portal.tasks``): what it has done
    of its total, how it ended."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_updated_at", "state", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(64))  # the task that does it (again, when resumed)
    # The kind while the job is queued or running, else empty: one job of a kind at a time.
    running_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)  # the last sign of life
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the consumer that runs it last

    started_by = relationship("User")

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class SensitiveRead(BaseModel):
    """Someone read a person's passport details (a letter that holds them, downloaded): who,
    when, whose and what. Admins see the log; the person's export includes it."""

    __tablename__ = "sensitive_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(String(100))  # "letter EP-2026-0001", "profile"
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    reader = relationship("User", foreign_keys=[reader_id])
    subject = relationship("User", foreign_keys=[subject_id])


class DataExport(BaseModel):
    """Everything the portal holds about one person (a user or a donor), as a ZIP that a
    background job writes: downloadable by whoever asked, for a day, then removed."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # "users" or "donors"
    subject_id: Mapped[int] = mapped_column(index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    token: Mapped[str] = mapped_column(String(43), unique=True)
    content: Mapped[bytes | None] = deferred(mapped_column(EncryptedBytes))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    requested_by = relationship("User")
    job = relationship("Job")
