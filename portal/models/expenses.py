"""Money out: expense claims and their lines, payments, direct costs, the yearly budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import BaseModel
from .types import DecimalText, UTCDateTime, utcnow

LINE_STATES = ("draft", "submitted", "approved", "rejected", "queried", "paid")
PAYMENT_METHODS = ("bank_transfer", "card", "cash", "other")


class ExpenseClaim(BaseModel):
    """A claimant's claim against one funded item; ``direct`` marks costs the charity paid itself."""

    __tablename__ = "expense_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    funded_item_id: Mapped[int] = mapped_column(ForeignKey("funded_items.id", ondelete="CASCADE"), index=True)
    claimant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    direct: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    funded_item = relationship("FundedItem", lazy="joined", innerjoin=True)
    claimant = relationship("User", lazy="joined")
    lines: Mapped[list[ExpenseLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ExpenseLine.id")


class ExpenseLine(BaseModel):
    __tablename__ = "expense_lines"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected', 'queried', 'paid')",
                        name="known_status"),
        Index("ix_expense_lines_status_id", "status", "id"),
        # The budget: paid lines by the date they were spent.
        Index("ix_expense_lines_status_spent_on", "status", "spent_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    spent_on: Mapped[dt.date] = mapped_column()
    description: Mapped[str] = mapped_column(String(500))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    # The rate used (GBP per unit, the latest on or before `spent_on`) and the result, kept.
    rate: Mapped[Decimal | None] = mapped_column(DecimalText)
    amount_gbp: Mapped[int | None] = mapped_column(BigInteger)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str | None] = mapped_column(Text)  # a query to the claimant
    answer: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    # Optimistic locking: two approvals or payments of one line cannot both win.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[ExpenseClaim] = relationship(back_populates="lines")
    receipt = relationship("StoredFile", lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    payment = relationship("Payment", back_populates="lines")

    __mapper_args__: Any = {"version_id_col": version}


class Payment(BaseModel):
    """Money the charity sent a claimant, covering one or more approved lines."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_gbp > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    paid_on: Mapped[dt.date] = mapped_column()
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100))
    amount_gbp: Mapped[int] = mapped_column(BigInteger)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    payee = relationship("User", foreign_keys=[payee_id])
    lines: Mapped[list[ExpenseLine]] = relationship(back_populates="payment")


class ProgrammeBudget(BaseModel):
    """What the programme may spend in a year, in GBP minor units."""

    __tablename__ = "programme_budgets"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    amount_gbp: Mapped[int] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def id(self) -> int:  # the audit trail names records by id
        return self.year
