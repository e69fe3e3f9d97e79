"""The programme's history before the portal: trips and visits imported from the charity's old
spreadsheets. A historical record has no state, no letters and no expense claims; it counts in
the impact figures beside the portal's own records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import BaseModel
from .funding import BUDGET_CATEGORIES
from .types import UTCDateTime, utcnow

HISTORY_KINDS = ("trip", "visit")


class HistoryImport(BaseModel):
    """An uploaded spreadsheet of past trips or visits: kept until imported, with what became of each row."""

    __tablename__ = "history_imports"
    __table_args__ = (CheckConstraint("kind IN ('trip', 'visit')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)  # emptied after the retention period (purged_at)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    uploaded_by = relationship("User")


class HistoricalRecord(BaseModel):
    """One past trip (a doctor at a conference) or visit (an expert at a partner clinic).

    ``natural_key`` (kind, the person's name, the event and its first day, compared without
    case or spacing) is unique: the same row imported twice, from one file or two, is one
    record. ``event_key`` tells conferences apart (its name and first day)."""

    __tablename__ = "historical_records"
    __table_args__ = (
        CheckConstraint("kind IN ('trip', 'visit')", name="kind"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        Index("ix_historical_records_kind_starts_on", "kind", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("history_imports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    natural_key: Mapped[str] = mapped_column(String(64), unique=True)
    person_name: Mapped[str] = mapped_column(String(200))  # the doctor who went, or the expert who came
    person_key: Mapped[str] = mapped_column(String(200))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    event_name: Mapped[str | None] = mapped_column(String(300))  # the conference, or the visit's purpose
    event_key: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    colleagues_reached: Mapped[int | None] = mapped_column()
    patients_consulted: Mapped[int | None] = mapped_column()
    doctors_trained: Mapped[int | None] = mapped_column()
    operations_performed: Mapped[int | None] = mapped_column()
    # What it cost, in minor units of the base currency, by budget category.
    spent_registration: Mapped[int | None] = mapped_column(BigInteger)
    spent_travel: Mapped[int | None] = mapped_column(BigInteger)
    spent_accommodation: Mapped[int | None] = mapped_column(BigInteger)
    spent_visa: Mapped[int | None] = mapped_column(BigInteger)
    spent_other: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    clinic = relationship("Clinic")
    history_import = relationship("HistoryImport")

    historical = True  # never a funded item: no letters, no claims

    def spent(self, category: str) -> int | None:
        value: int | None = getattr(self, f"spent_{category}")
        return value


assert all(hasattr(HistoricalRecord, f"spent_{category}") for category in BUDGET_CATEGORIES), \
    "a budget category needs its spent_<category> column on historical_records"
