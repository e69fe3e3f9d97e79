"""Conference-support applications: a funded item with its documents, comments and report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import BaseModel
from .funding import FundedItem
from .types import UTCDateTime, utcnow

APPLICATION_STATES = (
    "draft", "submitted", "changes_requested", "approved", "declined", "withdrawn", "cancelled", "completed",
)
PARTICIPATION = ("attending", "poster", "oral", "invited_talk")
DOCUMENT_KINDS = ("acceptance_letter", "programme", "cv")
VISA_OUTCOMES = ("granted", "refused")
SHARING_METHODS = ("talk", "seminar", "summary")
REPORT_STATES = ("submitted", "accepted", "returned")


class Application(FundedItem):
    __tablename__ = "applications"
    FUNDED_STATES = ("approved", "completed")
    __table_args__ = (
        CheckConstraint("participation IN ('attending', 'poster', 'oral', 'invited_talk')", name="participation"),
        CheckConstraint("visa_outcome IS NULL OR visa_outcome IN ('granted', 'refused')", name="visa_outcome"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("funded_items.id", ondelete="CASCADE"), primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    expected_benefit: Mapped[str] = mapped_column(Text)  # what the doctor will bring back
    participation: Mapped[str] = mapped_column(String(16))
    visa_needed: Mapped[bool] = mapped_column(default=False)
    visa_country: Mapped[str | None] = mapped_column(String(100))
    visa_city: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    visa_appointment_on: Mapped[dt.date | None] = mapped_column()
    visa_outcome: Mapped[str | None] = mapped_column(String(16))
    # The day the overdue-report reminder last went out: never twice on one day.
    report_reminded_on: Mapped[dt.date | None] = mapped_column()

    conference = relationship("Conference", lazy="joined", innerjoin=True)
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationDocument.id")
    comments: Mapped[list[ApplicationComment]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationComment.id")
    report: Mapped[ConferenceReport | None] = relationship(
        back_populates="application", cascade="all, delete-orphan", uselist=False)

    # Loading funded items through another table (expense claims) fetches the subclass rows
    # of a whole page in one more statement, not one per item.
    __mapper_args__: Any = {"polymorphic_identity": "application", "polymorphic_load": "selectin"}

    @property
    def doctor(self) -> Any:
        return self.beneficiary

    @property
    def display_name(self) -> str:
        return self.name_for(self.conference.name, self.conference.start_date)

    @staticmethod
    def name_for(conference: str, start_date: dt.date) -> str:
        """An application's name from its columns: for lists read straight from a query."""
        return f"{conference} ({start_date.year})"


class ApplicationDocument(BaseModel):
    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="documents")
    file = relationship("StoredFile", lazy="joined", innerjoin=True)


class ApplicationComment(BaseModel):
    """A comment the doctor sees, or (``internal``) a staff note the doctor never sees."""

    __tablename__ = "application_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="comments")


class ConferenceReport(BaseModel):
    """What the doctor learned and how it was shared; staff accept it or send it back."""

    __tablename__ = "conference_reports"
    __table_args__ = (
        UniqueConstraint("application_id"),
        CheckConstraint("colleagues_reached >= 0", name="colleagues_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    learned: Mapped[str] = mapped_column(Text)
    shared_by: Mapped[list[str]] = mapped_column(JSON)
    shared_on: Mapped[dt.date] = mapped_column()
    colleagues_reached: Mapped[int] = mapped_column()
    certificate_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    staff_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="report")
    certificate = relationship("StoredFile")
