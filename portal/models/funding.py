"""The funded item: what the charity pays for (an application or an expert visit).

Modules subclass ``FundedItem`` with joined-table inheritance; expense claims, budget
figures, donor allocations and letters refer to the base row, so no module needs another.
Money is kept in integer minor units with its ISO 4217 code beside it. Each subclass names
the states in which the charity pays for it (``FUNDED_STATES``); ``is_funded()`` asks that of
one item, or of every kind at once in SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    false,
    or_,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import BaseModel
from .types import UTCDateTime, utcnow

BUDGET_CATEGORIES = ("registration", "travel", "accommodation", "visa", "other")


class FundedItem(BaseModel):
    __tablename__ = "funded_items"
    # The budget's commitments: funded items of each kind by the date they were created.
    __table_args__: tuple[Any, ...] = (Index("ix_funded_items_kind_status_created_at", "kind", "status", "created_at"),)

    # The states in which the programme pays for an item of this kind (claims, budget
    # commitments, restricted gifts, letters); each subclass names its own.
    FUNDED_STATES: ClassVar[tuple[str, ...]] = ()

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

    def _is_funded_here(self) -> bool:
        """Whether the programme pays for this item: its state is one of its kind's funded states."""
        return self.status in type(self).FUNDED_STATES

    @classmethod
    def _is_funded_in_sql(cls) -> ColumnElement[bool]:
        """The same in SQL, for ``.where(FundedItem.is_funded())``: each kind in its own states."""
        kinds = [and_(cls.kind == mapper.polymorphic_identity, cls.status.in_(mapper.class_.FUNDED_STATES))
                 for mapper in sa_inspect(cls).self_and_descendants if mapper.class_.FUNDED_STATES]
        return or_(false(), *kinds)

    # item.is_funded() on one item; FundedItem.is_funded() (or Application.is_funded()) in a query.
    is_funded = hybrid_method(_is_funded_here, _is_funded_in_sql)

    def budget_line(self, category: str) -> BudgetLine | None:
        return next((line for line in self.budget_lines if line.category == category), None)


class BudgetLine(BaseModel):
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
