"""Money in: donors, their gifts, Gift Aid declarations, acknowledgements and what the
restricted gifts paid for. Donations are not funded items; allocations point at them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    false,
    or_,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import BaseModel
from ..plaintext import printable
from .types import UTCDateTime, utcnow

DONOR_KINDS = ("individual", "organisation")
CONTACT_PREFERENCES = ("email", "post", "none")
DONATION_METHODS = ("bank_transfer", "card", "cheque", "cash", "online_platform")
ACKNOWLEDGEMENT_CHANNELS = ("email", "post", "none")


def _sql_in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Donor(BaseModel):
    """A person or organisation who gives. Donors never sign in; staff keep their record."""

    __tablename__ = "donors"
    __table_args__ = (
        CheckConstraint(_sql_in("kind", DONOR_KINDS), name="known_kind"),
        CheckConstraint(_sql_in("contact_preference", CONTACT_PREFERENCES), name="known_preference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="individual")
    title: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # HMRC asks for the house name or number and the postcode separately.
    house: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)  # street, town: one line per line
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="GB")  # ISO 3166
    language: Mapped[str] = mapped_column(String(5), default="en")
    contact_preference: Mapped[str] = mapped_column(String(8), default="email")
    notes: Mapped[str | None] = mapped_column(Text)
    # Lower-case name for search and for matching imported rows.
    search_name: Mapped[str] = mapped_column(String(400), index=True, default="")
    # Erasure: when the personal details were replaced by a pseudonym, or (a donor whose Gift Aid
    # HMRC may still audit) the day they will be.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    erasure_due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    declarations: Mapped[list[GiftAidDeclaration]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="GiftAidDeclaration.made_on.desc()")
    donations: Mapped[list[Donation]] = relationship(
        back_populates="donor", order_by="(Donation.received_on.desc(), Donation.id.desc())")

    @validates("title", "first_name", "last_name", "organisation_name", "house", "address", "postcode")
    def _printable(self, key: str, value: str | None) -> str | None:
        return printable(value)  # printed on letters and the HMRC schedule

    @property
    def display_name(self) -> str:
        return self.name_for(self.kind, self.title, self.first_name, self.last_name, self.organisation_name)

    @staticmethod
    def name_for(kind: str, title: str | None, first: str | None, last: str | None,
                 organisation: str | None) -> str:
        """A donor's name from its columns: for lists and exports read straight from a query."""
        if kind == "organisation":
            return organisation or ""
        return " ".join(part for part in (title, first, last) if part)

    @property
    def full_name(self) -> str:
        """The name without the title (what a letter's greeting and the list show)."""
        if self.kind == "organisation":
            return self.organisation_name or ""
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def refresh_search_name(self) -> None:
        self.search_name = " ".join(
            part for part in (self.first_name, self.last_name, self.organisation_name) if part).lower()

    def address_lines(self) -> list[str]:
        lines = [line.strip() for line in (self.address or "").splitlines() if line.strip()]
        if self.house and lines and not lines[0].startswith(self.house):
            lines[0] = f"{self.house} {lines[0]}"
        elif self.house and not lines:
            lines = [self.house]
        return lines + ([self.postcode] if self.postcode else [])


class FourYearsBefore(FunctionElement[dt.date]):
    """The same day four years earlier, in SQL (29 February to the 28th where that year has none)."""

    type = Date()
    inherit_cache = True


@compiles(FourYearsBefore, "sqlite")
def _four_years_before_sqlite(element: FourYearsBefore, compiler: Any, **kw: Any) -> str:
    # SQLite would roll 29 February of a year before a common year over to 1 March.
    day = compiler.process(element.clauses, **kw)
    return (f"CASE WHEN strftime('%m-%d', {day}) = '02-29' AND strftime('%m-%d', date({day}, '-4 years')) <> '02-29' "
            f"THEN date({day}, '-4 years', '-1 day') ELSE date({day}, '-4 years') END")


@compiles(FourYearsBefore, "postgresql")
def _four_years_before_postgresql(element: FourYearsBefore, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} - INTERVAL '4 years') AS DATE)"


class TaxYear(FunctionElement[int]):
    """The UK tax year a day falls in, by the year it starts (6 April), in SQL."""

    type = Integer()
    inherit_cache = True


@compiles(TaxYear, "sqlite")
def _tax_year_sqlite(element: TaxYear, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%Y', {day}) AS INTEGER) - (strftime('%m-%d', {day}) < '04-06'))"


@compiles(TaxYear, "postgresql")
def _tax_year_postgresql(element: TaxYear, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return (f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) "
            f"- CASE WHEN to_char({day}, 'MM-DD') < '04-06' THEN 1 ELSE 0 END)")


class GiftAidDeclaration(BaseModel):
    """A UK taxpayer's declaration that the charity may claim Gift Aid on their gifts."""

    __tablename__ = "gift_aid_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    made_on: Mapped[dt.date] = mapped_column()
    covers_past: Mapped[bool] = mapped_column(default=True)  # gifts in the four years before
    covers_future: Mapped[bool] = mapped_column(default=True)  # gifts from the day it was made
    cancelled_on: Mapped[dt.date | None] = mapped_column()
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    donor: Mapped[Donor] = relationship(back_populates="declarations")

    def window_start(self) -> dt.date:
        """The earliest gift covered: four years before it was made (29 February → 28th)."""
        try:
            return self.made_on.replace(year=self.made_on.year - 4)
        except ValueError:
            return self.made_on.replace(year=self.made_on.year - 4, day=28)

    def covers(self, day: dt.date) -> bool:
        if self.cancelled_on is not None and day >= self.cancelled_on:
            return False  # a cancellation stops claims on gifts received from that day
        if day >= self.made_on and self.covers_future:
            return True
        return self.covers_past and self.window_start() <= day <= self.made_on

    @classmethod
    def covers_in_sql(cls, day: Any) -> ColumnElement[bool]:
        """``covers`` as a condition on a declaration row, for a date column ``day``."""
        return and_(
            or_(cls.cancelled_on.is_(None), day < cls.cancelled_on),
            or_(and_(cls.covers_future.is_(True), day >= cls.made_on),
                and_(cls.covers_past.is_(True), day >= FourYearsBefore(cls.made_on), day <= cls.made_on)))


class Acknowledgement(BaseModel):
    """A thank-you: the letter that went to a donor for one or more gifts, and how."""

    __tablename__ = "acknowledgements"
    __table_args__ = (CheckConstraint(_sql_in("channel", ACKNOWLEDGEMENT_CHANNELS), name="known_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgement_batches.id", ondelete="SET NULL"),
                                                 index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The programme's figures as the letter quoted them, so the letter's facts stay fixed.
    impact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    donor: Mapped[Donor] = relationship()
    batch: Mapped[AcknowledgementBatch | None] = relationship()
    letter = relationship("Letter")
    acknowledged_by = relationship("User")
    donations: Mapped[list[Donation]] = relationship(
        back_populates="acknowledgement", order_by="(Donation.received_on, Donation.id)")


class AcknowledgementBatch(BaseModel):
    """One "acknowledge all pending" run: its post letters are printed together."""

    __tablename__ = "acknowledgement_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The background job that writes its letters (portal.tasks); empty for batches run before jobs.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))

    started_by = relationship("User")
    job = relationship("Job")


class Donation(BaseModel):
    """A gift received. Pending until an acknowledgement thanks the donor for it."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(_sql_in("method", DONATION_METHODS), name="known_method"),
        CheckConstraint("benefit_value >= 0", name="benefit_not_negative"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_gift"),
        Index("ix_donations_pending", "acknowledgement_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[dt.date] = mapped_column(index=True)
    method: Mapped[str] = mapped_column(String(16))
    # The bank's, platform's or cheque's reference; the same reference is never recorded twice.
    reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    restricted: Mapped[bool] = mapped_column(default=True)  # to the Educational Programme
    campaign: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(default=False)  # never named in public thanks
    notes: Mapped[str | None] = mapped_column(Text)
    # What the donor received in return (minor units of the gift's currency): over HMRC's limits
    # the gift cannot be claimed.
    benefit_value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    benefit_description: Mapped[str | None] = mapped_column(String(200))
    sponsored_event: Mapped[bool] = mapped_column(default=False, server_default=false())
    # What has been given back of it (``refunds``): the gift now counts for amount - refunded_amount.
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("donation_imports.id", ondelete="SET NULL"))
    acknowledgement_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgements.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    donor: Mapped[Donor] = relationship(back_populates="donations", lazy="joined", innerjoin=True)
    acknowledgement: Mapped[Acknowledgement | None] = relationship(back_populates="donations")
    allocations: Mapped[list[DonationAllocation]] = relationship(
        back_populates="donation", cascade="all, delete-orphan", order_by="DonationAllocation.id")
    refunds: Mapped[list[DonationRefund]] = relationship(back_populates="donation", order_by="DonationRefund.id")

    @property
    def pending(self) -> bool:
        return self.acknowledgement_id is None

    @property
    def net_amount(self) -> int:
        """What the gift comes to after its refunds."""
        return self.amount - (self.refunded_amount or 0)

    @property
    def allocated(self) -> int:
        return sum(allocation.amount for allocation in self.allocations)


class DonationAllocation(BaseModel):
    """Part (or all) of a restricted gift assigned to what it paid for."""

    __tablename__ = "donation_allocations"
    __table_args__ = (CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id", ondelete="CASCADE"), index=True)
    funded_item_id: Mapped[int] = mapped_column(ForeignKey("funded_items.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of the donation's currency
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    donation: Mapped[Donation] = relationship(back_populates="allocations")
    funded_item = relationship("FundedItem")


class DonationImport(BaseModel):
    """An uploaded bank or platform export: kept until imported, with what became of each row."""

    __tablename__ = "donation_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)  # emptied after the retention period (purged_at)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    uploaded_by = relationship("User")


class DonationRefund(BaseModel):
    """Part or all of a gift given back (or a gift found to be smaller than recorded)."""

    __tablename__ = "donation_refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of the gift's currency
    refunded_on: Mapped[dt.date] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    donation: Mapped[Donation] = relationship(back_populates="refunds")
    created_by = relationship("User")


CLAIM_STATES = ("draft", "submitted", "paid")


class GiftAidClaim(BaseModel):
    """A Gift Aid repayment claim to HMRC: its lines and totals frozen when it was made.

    draft (lines can be taken out, or the claim discarded) → submitted (HMRC's reference and
    date; nothing changes any more) → paid (what HMRC paid, and when)."""

    __tablename__ = "gift_aid_claims"
    __table_args__ = (
        CheckConstraint(_sql_in("status", CLAIM_STATES), name="known_status"),
        # One draft at a time: two staff making a claim at once cannot both make one.
        Index("uq_gift_aid_claims_one_draft", "status", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    up_to: Mapped[dt.date] = mapped_column()  # eligible gifts received up to this day
    lines_count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # pence: the lines' donations
    gift_aid: Mapped[int] = mapped_column(BigInteger, default=0)  # pence: 25 % of the total
    # Gift Aid over-claimed on gifts of earlier claims since refunded (HMRC's "adjustment to
    # previous claims"), taken off this claim.
    adjustment: Mapped[int] = mapped_column(BigInteger, default=0)
    earliest_on: Mapped[dt.date | None] = mapped_column()  # the earliest donation date in the claim
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hmrc_reference: Mapped[str | None] = mapped_column(String(40))
    submitted_on: Mapped[dt.date | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_on: Mapped[dt.date | None] = mapped_column()
    amount_received: Mapped[int | None] = mapped_column(BigInteger)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User", foreign_keys=[created_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    paid_by = relationship("User", foreign_keys=[paid_by_id])

    @validates("hmrc_reference")
    def _printable(self, key: str, value: str | None) -> str | None:
        return printable(value)  # quoted back to HMRC

    @property
    def reference(self) -> str:
        return f"GA-{self.id:05d}"

    @property
    def claimed(self) -> int:
        """What the claim asks HMRC for: its Gift Aid less the adjustment."""
        return self.gift_aid - self.adjustment


class GiftAidAggregate(BaseModel):
    """Small gifts (£20 or less each) from donors whose details are not on file, such as a
    collection, entered on the schedule as one line of at most £1,000 (HMRC's limits)."""

    __tablename__ = "gift_aid_aggregates"
    __table_args__ = (
        CheckConstraint("total > 0 AND total <= 100000", name="total_within_limit"),
        CheckConstraint("gifts > 0 AND total <= gifts * 2000", name="small_gifts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(String(35))  # HMRC's limit
    received_on: Mapped[dt.date] = mapped_column(index=True)  # the day of the last gift in it
    gifts: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)  # pence
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @validates("description")
    def _printable(self, key: str, value: str) -> str | None:
        return printable(value)


class GiftAidClaimLine(BaseModel):
    """One line of a claim's schedule as it was claimed: a gift (with its donor's details as
    they stood) or an aggregated entry. A gift or an entry is in one claim at most: the
    database's unique keys say so."""

    __tablename__ = "gift_aid_claim_lines"
    __table_args__ = (
        CheckConstraint("(donation_id IS NULL) <> (aggregate_id IS NULL)", name="gift_or_aggregate"),
        CheckConstraint("amount > 0", name="positive_amount"),
        Index("ix_gift_aid_claim_lines_claim", "claim_id", "donation_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claims.id", ondelete="CASCADE"))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    aggregate_id: Mapped[int | None] = mapped_column(ForeignKey("gift_aid_aggregates.id"), unique=True)
    title: Mapped[str] = mapped_column(String(4), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    house: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    aggregated: Mapped[str] = mapped_column(String(35), default="")
    sponsored: Mapped[bool] = mapped_column(default=False)
    donation_date: Mapped[dt.date] = mapped_column()
    amount: Mapped[int] = mapped_column(BigInteger)  # pence

    claim: Mapped[GiftAidClaim] = relationship()
    donation: Mapped[Donation | None] = relationship()
    aggregate: Mapped[GiftAidAggregate | None] = relationship()


class GiftAidAdjustment(BaseModel):
    """A gift of a submitted claim refunded or reduced afterwards: the Gift Aid over-claimed,
    taken off the next claim (``carried_into``)."""

    __tablename__ = "gift_aid_adjustments"
    __table_args__ = (CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("gift_aid_claim_lines.id"), index=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("donation_refunds.id"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # pence by which the claimed gift shrank
    gift_aid: Mapped[int] = mapped_column(BigInteger)  # pence over-claimed: 25 % of ``amount``
    carried_into_id: Mapped[int | None] = mapped_column(ForeignKey("gift_aid_claims.id", ondelete="SET NULL"),
                                                        index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    line: Mapped[GiftAidClaimLine] = relationship()
    refund: Mapped[DonationRefund] = relationship()
    carried_into: Mapped[GiftAidClaim | None] = relationship()
