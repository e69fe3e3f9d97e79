"""Partner clinics and the conferences catalogue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import BaseModel
from ..weblinks import checked_web_address
from .types import UTCDateTime, utcnow


class HasWebsite:
    """A ``website`` column that holds only http(s) addresses, whatever sets it."""

    @validates("website")
    def _web_address_only(self, key: str, value: str | None) -> str | None:
        return checked_web_address(value)


class Clinic(HasWebsite, BaseModel):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    # The Russian name and address, for letters written in both languages.
    name_ru: Mapped[str | None] = mapped_column(String(200))
    address_ru: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.name


class Conference(HasWebsite, BaseModel):
    __tablename__ = "conferences"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    organiser: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[dt.date] = mapped_column(index=True)
    end_date: Mapped[dt.date] = mapped_column()
    website: Mapped[str | None] = mapped_column(String(300))
    # Doctors may propose a conference; staff confirm it before it is offered to everyone.
    confirmed: Mapped[bool] = mapped_column(default=False)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposed_by = relationship("User")

    def __str__(self) -> str:
        return self.name
