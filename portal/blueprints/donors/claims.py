"""Gift Aid claims: what has been claimed from HMRC, so that no gift is ever claimed twice.

A claim takes every eligible gift (``gift_aid.eligible_in_sql``) and aggregated entry not yet
in a claim, received up to a day, and freezes them as its lines: the donor's details as they
stood, the date and the amount. The database holds a gift (and an entry) in one line at most,
and claims are made one at a time (``serialise``), so two staff making claims at the same
moment cannot both take a gift. There is one draft at most; it can lose lines or be discarded
(its gifts are then unclaimed again). Submitted, it never changes: a refund of one of its gifts
becomes an adjustment that the next claim takes off what it asks for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, delete, exists, func, insert, literal, select, true, update
from sqlalchemy.orm import selectinload

from ... import audit, clock
from ...extensions import db, lock_for_update, serialise
from ...models import (
    Donation,
    DonationAllocation,
    DonationRefund,
    Donor,
    GiftAidAdjustment,
    GiftAidAggregate,
    GiftAidClaim,
    GiftAidClaimLine,
    User,
)
from ...money import format_minor, from_minor
from ...transactions import transaction
from .gift_aid import (
    AGGREGATE_GIFT_LIMIT,
    AGGREGATE_LINE_LIMIT,
    GIFT_AID_CURRENCY,
    claimable_from,
    eligible_in_sql,
    gift_aid_on,
)
from .services import DonorError

CLAIM_LOCK = "gift_aid_claims"  # claims are made, and claimed gifts refunded, one at a time
SCHEDULE_ROWS = 1000  # HMRC's limit of donations on one schedule file
SCHEDULE_COLUMNS = ("Item", "Title", "First name or initial", "Last name", "House name or number", "Postcode",
                    "Aggregated donations", "Sponsored event", "Donation date", "Amount")


def _unclaimed_gift() -> Any:
    return ~exists().where(GiftAidClaimLine.donation_id == Donation.id)


def _claimable(up_to: dt.date) -> Any:
    """Gifts received up to ``up_to`` and recent enough for HMRC (``claimable_from`` today)."""
    return and_(Donation.received_on <= up_to, Donation.received_on >= claimable_from(clock.today()))


def unclaimed_query(up_to: dt.date) -> Select[Any]:
    """Eligible gifts received up to ``up_to``, recent enough to claim, that no claim holds,
    oldest first."""
    return (select(Donation).join(Donor)
            .where(_claimable(up_to), eligible_in_sql(), _unclaimed_gift())
            .order_by(Donation.received_on, Donation.id))


def _too_old(up_to: dt.date) -> Select[int, int]:
    """How many eligible gifts no claim holds are too old to claim any more, and their total."""
    return (select(func.count().label("n"),
                   func.coalesce(func.sum(Donation.amount - Donation.refunded_amount), 0).label("total"))
            .select_from(Donation).join(Donor)
            .where(Donation.received_on < claimable_from(clock.today()), Donation.received_on <= up_to,
                   eligible_in_sql(), _unclaimed_gift()))


def unclaimed_aggregates(up_to: dt.date | None = None) -> Select[Any]:
    """Aggregated entries (of ``up_to`` or earlier) that no claim holds, oldest first."""
    query = select(GiftAidAggregate).where(~exists().where(GiftAidClaimLine.aggregate_id == GiftAidAggregate.id))
    if up_to is not None:
        query = query.where(GiftAidAggregate.received_on <= up_to)
    return query.order_by(GiftAidAggregate.received_on, GiftAidAggregate.id)


@dataclass
class Waiting:
    """What a claim made now would hold: eligible gifts and entries not yet claimed, and the
    adjustments not yet carried into a claim (pence)."""

    gifts: int
    gifts_total: int
    entries: int
    entries_total: int
    adjustments: int
    adjustments_total: int
    too_old: int  # eligible gifts never claimed and now past HMRC's four years
    too_old_total: int

    @property
    def total(self) -> int:
        return self.gifts_total + self.entries_total

    @property
    def gift_aid(self) -> int:
        return gift_aid_on(self.total) - gift_aid_on(self.adjustments_total)


def waiting(up_to: dt.date) -> Waiting:
    """The ``Waiting`` figures for a claim up to ``up_to``: one statement of four aggregates."""
    net = Donation.amount - Donation.refunded_amount
    gifts = select(func.count().label("n"), func.coalesce(func.sum(net), 0).label("total")).select_from(
        Donation).join(Donor).where(_claimable(up_to), eligible_in_sql(), _unclaimed_gift()).subquery()
    entries = unclaimed_aggregates(up_to).order_by(None).with_only_columns(
        func.count().label("n"), func.coalesce(func.sum(GiftAidAggregate.total), 0).label("total")).subquery()
    adjustments = select(func.count().label("n"), func.coalesce(func.sum(GiftAidAdjustment.amount), 0).label(
        "total")).where(GiftAidAdjustment.carried_into_id.is_(None)).subquery()
    old = _too_old(up_to).subquery()
    row = db.session.execute(
        select(gifts.c.n, gifts.c.total, entries.c.n, entries.c.total, adjustments.c.n, adjustments.c.total,
               old.c.n, old.c.total)
        .select_from(gifts.join(entries, true()).join(adjustments, true()).join(old, true()))).one()
    return Waiting(*(int(value) for value in row))  # PostgreSQL sums BIGINTs as NUMERIC


def draft_claim() -> GiftAidClaim | None:
    """The claim being prepared, if there is one."""
    return db.session.scalar(select(GiftAidClaim).where(GiftAidClaim.status == "draft"))


def _refresh_totals(claim: GiftAidClaim) -> None:
    """The claim's figures from its lines and the adjustments it carries."""
    db.session.flush()
    count, total, earliest = db.session.execute(
        select(func.count(), func.coalesce(func.sum(GiftAidClaimLine.amount), 0), func.min(
            GiftAidClaimLine.donation_date)).where(GiftAidClaimLine.claim_id == claim.id)).one()
    adjusted = db.session.scalar(select(func.coalesce(func.sum(GiftAidAdjustment.amount), 0)).where(
        GiftAidAdjustment.carried_into_id == claim.id)) or 0
    total, adjusted = int(total), int(adjusted)  # PostgreSQL sums BIGINTs as NUMERIC
    claim.lines_count, claim.total, claim.earliest_on = count, total, earliest
    claim.gift_aid, claim.adjustment = gift_aid_on(total), gift_aid_on(adjusted)


def _figures(claim: GiftAidClaim) -> dict[str, Any]:
    return {"lines": claim.lines_count, "total": claim.total, "gift_aid": claim.gift_aid,
            "adjustment": claim.adjustment, "up_to": claim.up_to.isoformat()}


@transaction
def create_claim(up_to: dt.date, *, by: User) -> GiftAidClaim:
    """A draft claim of every eligible gift and aggregated entry received up to ``up_to`` that
    no claim holds yet, carrying the adjustments waiting for a claim."""
    if up_to > clock.today():
        raise DonorError(_("A claim is for gifts already received: choose today or an earlier day."), "up_to")
    serialise(CLAIM_LOCK)  # a second claim made at this moment waits, then finds this one's draft
    draft = draft_claim()
    if draft is not None:
        raise DonorError(_("Claim %(reference)s is still a draft: submit or discard it before making another.",
                           reference=draft.reference), "up_to")
    claim = GiftAidClaim(up_to=up_to, created_by_id=by.id)
    db.session.add(claim)
    db.session.flush()
    gifts = (select(literal(claim.id), Donation.id,
                    func.coalesce(case((func.length(Donor.title) <= 4, Donor.title)), ""),  # HMRC: 4 at most
                    func.coalesce(Donor.first_name, ""),
                    func.replace(func.coalesce(Donor.last_name, ""), "-", " "),  # HMRC: no hyphens
                    func.coalesce(Donor.house, ""),
                    case((Donor.country == "GB", func.upper(func.coalesce(Donor.postcode, ""))), else_="X"),
                    literal(""), Donation.sponsored_event, Donation.received_on,
                    Donation.amount - Donation.refunded_amount)
             .select_from(Donation).join(Donor)
             .where(_claimable(up_to), eligible_in_sql(), _unclaimed_gift()))
    line = GiftAidClaimLine.__table__.c
    db.session.execute(insert(GiftAidClaimLine).from_select(
        [line.claim_id, line.donation_id, line.title, line.first_name, line.last_name, line.house, line.postcode,
         line.aggregated, line.sponsored, line.donation_date, line.amount], gifts))
    entries = unclaimed_aggregates(up_to).order_by(None).with_only_columns(
        literal(claim.id), GiftAidAggregate.id, literal(""), literal(""), literal(""), literal(""), literal(""),
        GiftAidAggregate.description, literal(False), GiftAidAggregate.received_on, GiftAidAggregate.total)
    db.session.execute(insert(GiftAidClaimLine).from_select(
        [line.claim_id, line.aggregate_id, line.title, line.first_name, line.last_name, line.house, line.postcode,
         line.aggregated, line.sponsored, line.donation_date, line.amount], entries))
    db.session.execute(update(GiftAidAdjustment).where(GiftAidAdjustment.carried_into_id.is_(None))
                       .values(carried_into_id=claim.id))
    _refresh_totals(claim)
    if claim.lines_count == 0 and claim.adjustment == 0:
        raise DonorError(_("No eligible gift received up to %(day)s is waiting to be claimed.",
                           day=format_date(up_to)), "up_to")
    audit.record("gift_aid_claim_created", claim, actor=by, to_state="draft", details=_figures(claim))
    return claim


def _draft(claim: GiftAidClaim) -> GiftAidClaim:
    """The claim, locked, if it is still a draft; refused otherwise."""
    claim = lock_for_update(GiftAidClaim, claim.id)
    if claim.status != "draft":
        raise DonorError(_("Claim %(reference)s has been submitted: it stays as HMRC received it.",
                           reference=claim.reference))
    return claim


@transaction
def remove_line(line: GiftAidClaimLine, *, by: User) -> None:
    """Take a gift or an entry out of a draft claim: it waits for the next claim again."""
    claim = _draft(line.claim)
    details = {"line": line.id, "donation": line.donation_id, "aggregate": line.aggregate_id, "amount": line.amount}
    db.session.delete(line)
    _refresh_totals(claim)
    audit.record("gift_aid_line_removed", claim, actor=by, from_state="draft", to_state="draft",
                 details={**details, **_figures(claim)})


@transaction
def discard_claim(claim: GiftAidClaim, *, by: User) -> None:
    """Discard a draft claim: its gifts, entries and adjustments wait for the next claim."""
    claim = _draft(claim)
    audit.record("gift_aid_claim_discarded", claim, actor=by, from_state="draft", details=_figures(claim))
    db.session.execute(update(GiftAidAdjustment).where(GiftAidAdjustment.carried_into_id == claim.id)
                       .values(carried_into_id=None))
    db.session.execute(delete(GiftAidClaimLine).where(GiftAidClaimLine.claim_id == claim.id))
    db.session.delete(claim)


@transaction
def submit_claim(claim: GiftAidClaim, *, hmrc_reference: str, submitted_on: dt.date, by: User) -> None:
    """Record that the draft went to HMRC (their reference, the day): from now on it is fixed."""
    claim = _draft(claim)
    made_on = claim.created_at.astimezone(clock.zone()).date()  # the day it was made where the charity is
    if submitted_on < made_on:
        raise DonorError(_("The claim was made on %(day)s: it cannot have been submitted before.",
                           day=format_date(made_on)), "submitted_on")
    if submitted_on > clock.today():
        raise DonorError(_("Enter the day the claim was submitted, not a day to come."), "submitted_on")
    claim.status, claim.hmrc_reference, claim.submitted_on = "submitted", hmrc_reference, submitted_on
    claim.submitted_by_id = by.id
    audit.record("gift_aid_claim_submitted", claim, actor=by, from_state="draft", to_state="submitted",
                 details={"hmrc_reference": hmrc_reference, "submitted_on": submitted_on.isoformat(),
                          **_figures(claim)})


@transaction
def mark_paid(claim: GiftAidClaim, *, amount_received: int, paid_on: dt.date, by: User) -> None:
    """Record what HMRC paid for a submitted claim, and when."""
    claim = lock_for_update(GiftAidClaim, claim.id)
    if claim.status != "submitted":
        raise DonorError(_("Only a submitted claim can be marked as paid."))
    if claim.submitted_on and paid_on < claim.submitted_on:
        raise DonorError(_("The claim was submitted on %(day)s: HMRC cannot have paid it before.",
                           day=format_date(claim.submitted_on)), "paid_on")
    if paid_on > clock.today():
        raise DonorError(_("Enter the day the payment arrived, not a day to come."), "paid_on")
    if amount_received <= 0:
        raise DonorError(_("Enter the amount HMRC paid."), "amount_received")
    claim.status, claim.amount_received, claim.paid_on, claim.paid_by_id = "paid", amount_received, paid_on, by.id
    audit.record("gift_aid_claim_paid", claim, actor=by, from_state="submitted", to_state="paid",
                 details={"amount_received": amount_received, "paid_on": paid_on.isoformat(),
                          "claimed": claim.claimed})


# --- Aggregated entries ------------------------------------------------------------------

@transaction
def record_aggregate(*, description: str, received_on: dt.date, gifts: int, total: int, by: User) -> GiftAidAggregate:
    """Small gifts added together as one line of the schedule, within HMRC's limits."""
    if total <= 0:
        raise DonorError(_("Enter the total of the gifts."), "total")
    if total > AGGREGATE_LINE_LIMIT:
        raise DonorError(_("One aggregated line can be at most %(limit)s: record the rest as another entry.",
                           limit=format_minor(AGGREGATE_LINE_LIMIT, GIFT_AID_CURRENCY)), "total")
    if gifts <= 0:
        raise DonorError(_("Enter how many gifts the entry adds together."), "gifts")
    if total > gifts * AGGREGATE_GIFT_LIMIT:
        raise DonorError(_("Only gifts of %(limit)s or less can be added together: %(count)d gifts come to "
                           "%(most)s at most.", limit=format_minor(AGGREGATE_GIFT_LIMIT, GIFT_AID_CURRENCY),
                           count=gifts, most=format_minor(gifts * AGGREGATE_GIFT_LIMIT, GIFT_AID_CURRENCY)), "total")
    if received_on > clock.today():
        raise DonorError(_("Enter the day of the last gift, not a day to come."), "received_on")
    entry = GiftAidAggregate(description=description, received_on=received_on, gifts=gifts, total=total,
                             created_by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    audit.record("gift_aid_aggregate_recorded", entry, actor=by,
                 details={"description": description, "gifts": gifts, "total": total,
                          "received_on": received_on.isoformat()})
    return entry


@transaction
def remove_aggregate(entry: GiftAidAggregate, *, by: User) -> None:
    """Delete an aggregated entry no claim holds."""
    serialise(CLAIM_LOCK)
    if db.session.scalar(select(GiftAidClaimLine.id).where(GiftAidClaimLine.aggregate_id == entry.id)):
        raise DonorError(_("This entry is in a claim: take it out of the draft claim first."))
    audit.record("gift_aid_aggregate_removed", entry, actor=by,
                 details={"description": entry.description, "total": entry.total})
    db.session.delete(entry)


# --- Refunds -----------------------------------------------------------------------------

def claim_line_of(donation: Donation) -> GiftAidClaimLine | None:
    """The claim line holding this gift, if a claim holds it."""
    return db.session.scalar(select(GiftAidClaimLine).where(GiftAidClaimLine.donation_id == donation.id))


@transaction
def refund_donation(donation: Donation, *, amount: int, refunded_on: dt.date, reason: str, by: User) -> DonationRefund:
    """Give back ``amount`` of a gift (or record it was that much smaller). A gift in a draft
    claim shrinks there; in a submitted claim, the Gift Aid over-claimed becomes an adjustment
    carried into the next claim."""
    serialise(CLAIM_LOCK)  # taken before the gift's row, in the order claims take them
    donation = lock_for_update(Donation, donation.id)
    if amount <= 0:
        raise DonorError(_("Enter the amount given back."), "amount")
    if amount > donation.net_amount:
        raise DonorError(_("Only %(left)s of this gift is left to refund.",
                           left=format_minor(donation.net_amount, donation.currency)), "amount")
    if refunded_on < donation.received_on or refunded_on > clock.today():
        raise DonorError(_("Enter a day from the gift's (%(day)s) to today.", day=format_date(donation.received_on)),
                         "refunded_on")
    allocated = int(db.session.scalar(select(func.coalesce(func.sum(DonationAllocation.amount), 0))
                                      .where(DonationAllocation.donation_id == donation.id)) or 0)
    if allocated > donation.net_amount - amount:
        raise DonorError(_("%(allocated)s of this gift is allocated: remove allocations before refunding this much.",
                           allocated=format_minor(allocated, donation.currency)), "amount")
    refund = DonationRefund(donation=donation, amount=amount, refunded_on=refunded_on, reason=reason,
                            created_by_id=by.id)
    donation.refunded_amount += amount
    db.session.add(refund)
    db.session.flush()
    details: dict[str, Any] = {"amount": amount, "currency": donation.currency, "refunded_on": refunded_on.isoformat(),
                               "left": donation.net_amount}
    line = claim_line_of(donation)
    if line is not None:
        claim = lock_for_update(GiftAidClaim, line.claim_id)
        details["claim"] = claim.reference
        if claim.status == "draft":
            if line.amount <= amount:
                db.session.delete(line)
            else:
                line.amount -= amount
            _refresh_totals(claim)
        else:
            already = int(db.session.scalar(select(func.coalesce(func.sum(GiftAidAdjustment.amount), 0))
                                            .where(GiftAidAdjustment.line_id == line.id)) or 0)
            reduction = min(amount, line.amount - already)
            if reduction > 0:
                next_claim = draft_claim()
                adjustment = GiftAidAdjustment(line=line, refund=refund, amount=reduction,
                                               gift_aid=gift_aid_on(reduction), carried_into=next_claim)
                db.session.add(adjustment)
                details["adjustment"] = adjustment.gift_aid
                if next_claim is not None:
                    _refresh_totals(lock_for_update(GiftAidClaim, next_claim.id))
                    details["carried_into"] = next_claim.reference
    audit.record("donation_refunded", donation, actor=by, note=reason, details=details)
    return refund


# --- Reading claims ----------------------------------------------------------------------

def schedule_parts(claim: GiftAidClaim) -> int:
    """How many schedule files the claim needs (HMRC takes 1,000 donations a file)."""
    return max(1, -(-claim.lines_count // SCHEDULE_ROWS))


def schedule_rows(claim: GiftAidClaim, part: int) -> Iterator[list[Any]]:
    """The rows of schedule file ``part`` (from 1) in HMRC's columns (``SCHEDULE_COLUMNS``):
    the amount as a number of pounds, the date as DD/MM/YY."""
    lines = db.session.execute(
        select(GiftAidClaimLine.title, GiftAidClaimLine.first_name, GiftAidClaimLine.last_name,
               GiftAidClaimLine.house, GiftAidClaimLine.postcode, GiftAidClaimLine.aggregated,
               GiftAidClaimLine.sponsored, GiftAidClaimLine.donation_date, GiftAidClaimLine.amount)
        .where(GiftAidClaimLine.claim_id == claim.id)
        .order_by(GiftAidClaimLine.donation_date, GiftAidClaimLine.id)
        .offset((part - 1) * SCHEDULE_ROWS).limit(SCHEDULE_ROWS))
    for item, (title, first, last, house, postcode, aggregated, sponsored, day, amount) in enumerate(lines, start=1):
        yield [item, title, first, last, house, postcode, aggregated, "Yes" if sponsored else "",
               day.strftime("%d/%m/%y"), from_minor(amount, GIFT_AID_CURRENCY)]


def claim_lines(claim: GiftAidClaim, *, page: int, per_page: int) -> Any:
    """One page of the claim's lines, in the schedule's order."""
    return db.paginate(select(GiftAidClaimLine).where(GiftAidClaimLine.claim_id == claim.id)
                       .order_by(GiftAidClaimLine.donation_date, GiftAidClaimLine.id),
                       page=page, per_page=per_page, error_out=False)


def carried_adjustments(claim: GiftAidClaim) -> list[GiftAidAdjustment]:
    """The adjustments this claim takes off, with the gifts they are for."""
    return list(db.session.scalars(select(GiftAidAdjustment).where(GiftAidAdjustment.carried_into_id == claim.id)
                                   .options(selectinload(GiftAidAdjustment.line).selectinload(GiftAidClaimLine.claim))
                                   .order_by(GiftAidAdjustment.id)))


def donor_claims(donor: Donor) -> list[tuple[GiftAidClaimLine, GiftAidClaim, list[GiftAidAdjustment]]]:
    """What was claimed on this donor's gifts: each line, its claim and any adjustments to it."""
    rows = db.session.execute(
        select(GiftAidClaimLine, GiftAidClaim).join(GiftAidClaim, GiftAidClaim.id == GiftAidClaimLine.claim_id)
        .join(Donation, Donation.id == GiftAidClaimLine.donation_id).where(Donation.donor_id == donor.id)
        .order_by(GiftAidClaimLine.donation_date.desc(), GiftAidClaimLine.id.desc())).all()
    adjustments: dict[int, list[GiftAidAdjustment]] = {}
    if rows:
        for adjustment in db.session.scalars(select(GiftAidAdjustment).where(
                GiftAidAdjustment.line_id.in_([line.id for line, _claim in rows]))
                .options(selectinload(GiftAidAdjustment.carried_into)).order_by(GiftAidAdjustment.id)):
            adjustments.setdefault(adjustment.line_id, []).append(adjustment)
    return [(line, claim, adjustments.get(line.id, [])) for line, claim in rows]


def claims_page(*, page: int, per_page: int) -> Any:
    """The claims, newest first."""
    return db.paginate(select(GiftAidClaim).order_by(GiftAidClaim.id.desc()), page=page, per_page=per_page,
                       error_out=False)
