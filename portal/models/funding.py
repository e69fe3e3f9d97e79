"""The funded item: what the charity pays for (an application or an expert visit).

Modules subclass ``FundedItem`` with joined-table inheritance; expense claims, budget
figures, donor allocations and letters refer to the base row, so no module needs another.
Money is kept in integer minor units with its ISO 4217 code beside it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

BUDGET_CATEGORIES = ("registration", "travel", "accommodation", "visa", "other")


class FundedItem(db.Model):
    __tablename__ = "funded_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # The doctor or expert the money is for.
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Optimistic locking: two staff deciding at once cannot both win silently.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    beneficiary = relationship("User")
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="funded_item", cascade="all, delete-orphan", lazy="selectin",
        order_by="BudgetLine.id",
    )

    __mapper_args__ = {
        "polymorphic_on": "kind",
        "polymorphic_identity": "funded_item",
        "version_id_col": version,
    }

    @property
    def display_name(self) -> str:
        """What people call this item; subclasses say it better (the conference, the visit)."""
        return f"#{self.id}"

    def budget_line(self, category: str) -> BudgetLine | None:
        return next((line for line in self.budget_lines if line.category == category), None)


class BudgetLine(db.Model):
    __tablename__ = "budget_lines"
    __table_args__ = (
        UniqueConstraint("funded_item_id", "category"),
        CheckConstraint(
            "category IN ('registration', 'travel', 'accommodation', 'visa', 'other')",
            name="known_category",
        ),
        CheckConstraint("requested_amount >= 0", name="requested_not_negative"),
        CheckConstraint("approved_amount IS NULL OR approved_amount >= 0", name="approved_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funded_item_id: Mapped[int] = mapped_column(
        ForeignKey("funded_items.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))
    requested_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    requested_currency: Mapped[str] = mapped_column(String(3))
    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    approved_currency: Mapped[str | None] = mapped_column(String(3))

    funded_item: Mapped[FundedItem] = relationship(back_populates="budget_lines")
