"""Exchange rates into the base currency (GBP by default), kept by finance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import BaseModel
from .types import DecimalText, UTCDateTime, utcnow


class ExchangeRate(BaseModel):
    """``rate`` units of the base currency buy one unit of ``currency``, from ``valid_from`` on."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("currency", "base_currency", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    base_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(DecimalText)
    valid_from: Mapped[dt.date] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
