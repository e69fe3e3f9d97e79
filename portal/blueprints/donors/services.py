"""Donors, Gift Aid, acknowledgements and allocations.

Every change is one transaction with its audit entry (and its e-mail, when one goes out).
A batch of acknowledgements runs in the background (a job on the task queue) and commits donor
by donor in chunks: if it stops half-way, what was committed is complete and the rest is still
pending, so running it again finishes the job and thanks nobody twice.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, cast

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from pypdf import PdfWriter
from sqlalchemy import CursorResult, Select, case, distinct, func, inspect, select, update
from sqlalchemy.orm import selectinload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from ... import audit, clock
from ...duties import ensure_not_beneficiary
from ...errors import UserError
from ...extensions import begin_writing, db, lock_for_update, lock_row
from ...impact import DOCTORS, impact_summary
from ...letters import LetterJob, PdfPool, issue_many
from ...mail import queue_mail
from ...models import (
    Acknowledgement,
    AcknowledgementBatch,
    Donation,
    DonationAllocation,
    Donor,
    FundedItem,
    GiftAidClaim,
    GiftAidClaimLine,
    GiftAidDeclaration,
    Job,
    Letter,
    User,
)
from ...models.types import utcnow
from ...money import format_minor, from_minor, rates_on, to_base_minor, total_in_base
from ...search import matches_any
from ...tasks import finish_job, job_running, job_task, start_job
from ...transactions import transaction
from .gift_aid import gift_aid_eligible  # noqa: F401 (the services answer it too)
from .letters import thanks_letter

THANKS_WITHIN_DAYS = 2


class DonorError(UserError):
    """A change that cannot be made, in words for the person who asked."""


class _Taken(Exception):
    """Another run thanked one of these donations first."""


# --- Donors and Gift Aid -----------------------------------------------------------------

@transaction
def save_donor(donor: Donor, *, by: User, created: bool) -> Donor:
    """Add a donor, or save the changes made to one."""
    donor.refresh_search_name()
    db.session.add(donor)
    audit.record("donor_added" if created else "donor_changed", donor, actor=by)
    return donor


@transaction
def declare_gift_aid(donor: Donor, *, made_on: dt.date, covers_past: bool, covers_future: bool,
                     by: User) -> GiftAidDeclaration:
    """Record an individual's Gift Aid declaration, covering past gifts, future ones or both."""
    if donor.kind != "individual":
        raise DonorError(_("Only individuals can make a Gift Aid declaration."), "made_on")
    if not (covers_past or covers_future):
        raise DonorError(_("A declaration covers past gifts, future gifts or both."), "made_on")
    declaration = GiftAidDeclaration(donor=donor, made_on=made_on, covers_past=covers_past,
                                     covers_future=covers_future, created_by_id=by.id)
    db.session.add(declaration)
    audit.record("gift_aid_declared", donor, actor=by, to_state="valid",
                 details={"made_on": made_on.isoformat(), "past": covers_past, "future": covers_future})
    return declaration


@transaction
def cancel_gift_aid(declaration: GiftAidDeclaration, *, on: dt.date, reason: str | None, by: User) -> None:
    """Cancel a declaration from a day on; gifts received before it stay covered."""
    if declaration.cancelled_on is not None:
        raise DonorError(_("This declaration was already cancelled on %(day)s.",
                           day=format_date(declaration.cancelled_on)))
    declaration.cancelled_on, declaration.cancelled_reason = on, reason
    audit.record("gift_aid_cancelled", declaration.donor, actor=by, from_state="valid", to_state="cancelled",
                 note=reason, details={"made_on": declaration.made_on.isoformat(), "from": on.isoformat()})


def _set_values(donation: Donation, values: dict[str, Any]) -> None:
    """Copy a form's values into the donation; a reference another gift has is refused."""
    reference = values.get("reference")
    if reference:  # asked before anything is set: the query flushes
        clash = db.session.scalar(select(Donation).where(Donation.reference == reference, Donation.id != donation.id))
        if clash is not None:
            raise DonorError(_("A gift with this reference is already recorded (from %(donor)s, %(day)s).",
                               donor=clash.donor.display_name, day=format_date(clash.received_on)), "reference")
    for name, value in values.items():
        setattr(donation, name, value)


@transaction
def record_donation(donor: Donor, values: dict[str, Any], *, by: User) -> Donation:
    """Record a gift from ``donor`` (amount in minor units); it awaits thanks."""
    donation = Donation(donor_id=donor.id, created_by_id=by.id)
    _set_values(donation, values)
    db.session.add(donation)
    audit.record("donation_recorded", donation, actor=by, to_state="pending",
                 details={"amount": donation.amount, "currency": donation.currency, "donor": donation.donor_id})
    return donation


@transaction
def change_donation(donation: Donation, values: dict[str, Any], *, by: User) -> None:
    """Change a gift not yet thanked, keeping what is allocated of it possible."""
    if not donation.pending:
        raise DonorError(_("This gift has been acknowledged: its letter stands as sent."), "amount")
    _set_values(donation, values)
    state = inspect(donation)  # read what changed before anything loads (and flushes)
    claimed_facts = ("amount", "currency", "received_on", "benefit_value", "sponsored_event")
    if any(state.attrs[name].history.has_changes() for name in claimed_facts):
        with db.session.no_autoflush:
            claim = db.session.scalar(select(GiftAidClaim).join(GiftAidClaimLine).where(
                GiftAidClaimLine.donation_id == donation.id))
        if claim is not None:
            raise DonorError(_("This gift is in Gift Aid claim %(reference)s: record a refund to reduce it, or take "
                               "it out of the draft claim before changing it.", reference=claim.reference), "amount")
    currency_changed = state.attrs.currency.history.has_changes()
    made_unrestricted = state.attrs.restricted.history.has_changes() and not donation.restricted
    with db.session.no_autoflush:
        # An allocation being made at this moment locks the gift too: one waits for the other,
        # and the allocated total is counted as committed, not as loaded.
        lock_row(Donation, donation.id)
        allocated = db.session.scalar(select(func.coalesce(func.sum(DonationAllocation.amount), 0))
                                      .where(DonationAllocation.donation_id == donation.id)) or 0
    if allocated and (currency_changed or made_unrestricted):
        raise DonorError(_("Part of this gift is allocated: remove the allocations before changing its currency "
                           "or its restriction."), "amount")
    if allocated > donation.amount:
        raise DonorError(_("More than that is already allocated: remove allocations first."), "amount")
    audit.record("donation_changed", donation, actor=by,
                 details={"amount": donation.amount, "currency": donation.currency})


def donations_query(status: str, q: str) -> Select[Any]:
    """The donations list's gifts: ``status`` pending, acknowledged or anything else for all;
    ``q`` searches the donor's name, the reference and the campaign. Newest first."""
    query = select(Donation).join(Donor)
    if status == "pending":
        query = query.where(Donation.acknowledgement_id.is_(None))
    elif status == "acknowledged":
        query = query.where(Donation.acknowledgement_id.is_not(None))
    if q:
        query = query.where(matches_any([Donor.search_name, Donation.reference, Donation.campaign], q))
    return query.order_by(Donation.received_on.desc(), Donation.id.desc())


DONATION_COLUMNS = ["gift", "received_on", "donor", "donor_id", "amount", "currency", "method", "restricted",
                    "campaign", "reference", "thanked_by_letter"]


def donation_rows(status: str, q: str) -> Iterator[list[Any]]:
    """The list's gifts as export rows (plain values, streamed from a server-side cursor), then
    a total row per currency."""
    gifts = donations_query(status, q).subquery()
    letters = (select(gifts.c.id, gifts.c.received_on, Donor.kind, Donor.title, Donor.first_name, Donor.last_name,
                      Donor.organisation_name, gifts.c.donor_id, gifts.c.amount, gifts.c.currency, gifts.c.method,
                      gifts.c.restricted, gifts.c.campaign, gifts.c.reference, Letter.reference)
               .select_from(gifts).join(Donor, Donor.id == gifts.c.donor_id)
               .outerjoin(Acknowledgement, Acknowledgement.id == gifts.c.acknowledgement_id)
               .outerjoin(Letter, Letter.id == Acknowledgement.letter_id)
               .order_by(gifts.c.received_on.desc(), gifts.c.id.desc()))
    totals: dict[str, int] = {}
    rows = db.session.connection().execution_options(stream_results=True).execute(letters)
    for batch in rows.partitions(1000):
        for (gift_id, received_on, kind, title, first, last, org_name, donor_id, amount, currency, method,
             restricted, campaign, reference, letter) in batch:
            totals[currency] = totals.get(currency, 0) + amount
            yield [gift_id, received_on.isoformat(), Donor.name_for(kind, title, first, last, org_name), donor_id,
                   from_minor(amount, currency), currency, method, "yes" if restricted else "no", campaign or "",
                   reference or "", letter or ""]
    for currency, total in sorted(totals.items()):
        yield ["total", "", "", "", from_minor(total, currency), currency]


DONOR_COLUMNS = ["donor", "kind", "name", "organisation", "email", "house", "address", "postcode", "country",
                 "language", "contact_preference", "gifts"]


def donor_rows(q: str) -> Iterator[list[Any]]:
    """Every donor the search finds (all without one) as export rows: contact details and how
    many gifts, never the notes; streamed."""
    gifts = (select(Donation.donor_id, func.count().label("gifts")).group_by(Donation.donor_id).subquery())
    query = (select(Donor.id, Donor.kind, Donor.title, Donor.first_name, Donor.last_name, Donor.organisation_name,
                    Donor.email, Donor.house, Donor.address, Donor.postcode, Donor.country, Donor.language,
                    Donor.contact_preference, func.coalesce(gifts.c.gifts, 0))
             .outerjoin(gifts, gifts.c.donor_id == Donor.id).order_by(Donor.search_name, Donor.id))
    if q:
        query = query.where(matches_any([Donor.search_name, Donor.email, Donor.postcode], q))
    rows = db.session.connection().execution_options(stream_results=True).execute(query)
    for batch in rows.partitions(1000):
        for (donor_id, kind, title, first, last, org_name, email, house, address, postcode, country, language,
             preference, count) in batch:
            person = Donor.name_for("individual", title, first, last, None) if kind != "organisation" else ""
            yield [donor_id, kind, person, org_name or "", email or "", house or "",
                   (address or "").replace("\n", ", "), postcode or "", country, language, preference, count]


def search_donors(text: str, limit: int = 50) -> list[Donor]:
    """Donors whose name, e-mail or postcode matches ``text``, by name, at most ``limit`` of them."""
    query = select(Donor).options(selectinload(Donor.declarations)).order_by(Donor.search_name, Donor.id).limit(limit)
    text = text.strip().lower()
    if text:
        query = query.where(matches_any([Donor.search_name, Donor.email, Donor.postcode], text))
    return list(db.session.scalars(query))


# --- What the programme has done ---------------------------------------------------------

def impact_figures() -> dict[str, int]:
    """The live figures a thank-you letter quotes: the impact page's totals (``portal.impact``)."""
    summary = impact_summary()
    totals = summary["totals"]
    return {"since": summary["since"], "doctors": totals.get(DOCTORS, summary["before_portal"]),
            "conferences": totals.get("applications.conferences", 0),
            "expert_visits": totals.get("expert_visits.visits", 0)}


# --- Acknowledgements --------------------------------------------------------------------

def channel_for(donor: Donor) -> str:
    """How ``donor`` is thanked: "email", "post" or "none", from their contact preference."""
    if donor.contact_preference == "none":
        return "none"
    if donor.contact_preference == "email" and donor.email:
        return "email"
    return "post"


def pending_query() -> Any:
    """The query for gifts not yet thanked."""
    return select(Donation).where(Donation.acknowledgement_id.is_(None))


def pending_count() -> int:
    """Gifts awaiting thanks."""
    return db.session.scalar(select(func.count()).select_from(Donation).where(
        Donation.acknowledgement_id.is_(None))) or 0


def waiting_counts(today: dt.date | None = None) -> tuple[int, int]:
    """Gifts awaiting thanks, and how many of them for more than THANKS_WITHIN_DAYS days: one
    statement."""
    cutoff = (today or clock.today()) - dt.timedelta(days=THANKS_WITHIN_DAYS)
    pending, overdue = db.session.execute(
        select(func.count(), func.count(case((Donation.received_on < cutoff, 1))))
        .where(Donation.acknowledgement_id.is_(None))).one()
    return pending or 0, overdue or 0


def overdue_count(today: dt.date | None = None) -> int:
    """Gifts awaiting thanks for more than THANKS_WITHIN_DAYS days."""
    cutoff = (today or clock.today()) - dt.timedelta(days=THANKS_WITHIN_DAYS)
    return db.session.scalar(select(func.count()).select_from(Donation).where(
        Donation.acknowledgement_id.is_(None), Donation.received_on < cutoff)) or 0


def _claim(acknowledgement: Acknowledgement, donation_ids: list[int]) -> bool:
    """Mark these donations as thanked by ``acknowledgement``, if nobody else has yet."""
    # An UPDATE's result is a CursorResult (with rowcount); Session.execute is typed for any statement.
    result = cast(CursorResult[Any], db.session.execute(
        update(Donation).where(Donation.id.in_(donation_ids), Donation.acknowledgement_id.is_(None))
        .values(acknowledgement_id=acknowledgement.id).execution_options(synchronize_session="evaluate")))
    return result.rowcount == len(donation_ids)


def _thank(groups: list[tuple[Donor, list[Donation]]], *, by: User, batch: AcknowledgementBatch | None,
           impact: dict[str, int], render: Callable[[list[LetterJob]], list[bytes]] | None) -> list[Acknowledgement]:
    """One acknowledgement, letter, audit entries and (for e-mail) outbox message per donor,
    in the current transaction. Returns [] — and changes nothing — if another run thanked
    any of these donations first."""
    kind = thanks_letter()
    acknowledgements = []
    try:
        with db.session.begin_nested():
            for donor, donations in groups:
                acknowledgement = Acknowledgement(donor=donor, batch=batch, channel=channel_for(donor),
                                                  acknowledged_by_id=by.id, impact=impact)
                db.session.add(acknowledgement)
                db.session.flush()
                if not _claim(acknowledgement, [d.id for d in donations]):
                    raise _Taken
                set_committed_value(acknowledgement, "donations", donations)
                acknowledgements.append(acknowledgement)
    except _Taken:
        return []
    letters = issue_many(kind, [(a, kind.facts(a)) for a in acknowledgements], by=by, render=render)
    for acknowledgement, letter in zip(acknowledgements, letters, strict=True):
        acknowledgement.letter = letter
        for donation in acknowledgement.donations:
            audit.record("donation_acknowledged", donation, actor=by, from_state="pending", to_state="acknowledged",
                         details={"letter": letter.reference, "channel": acknowledgement.channel})
        if acknowledgement.channel == "email" and acknowledgement.donor.email:  # channel_for: "email" has one
            queue_mail(acknowledgement.donor.email, "donation_thanks", language=acknowledgement.donor.language,
                       attach=letter, donor=acknowledgement.donor, letter=letter)
    return acknowledgements


@transaction
def acknowledge(donations: list[Donation], *, by: User) -> Acknowledgement:
    """Thank one donor now for these of their gifts (one letter)."""
    donors = {donation.donor_id for donation in donations}
    if len(donors) != 1:
        raise DonorError(_("One letter thanks one donor."))
    if any(not donation.pending for donation in donations):
        raise DonorError(_("This gift has already been acknowledged."))
    begin_writing()
    done = _thank([(donations[0].donor, donations)], by=by, batch=None, impact=impact_figures(), render=None)
    if not done:
        raise DonorError(_("This gift has already been acknowledged."))
    return done[0]


@dataclass
class BatchReport:
    batch_id: int
    letters: int = 0
    donations: int = 0
    channels: dict[str, int] = field(default_factory=lambda: {"email": 0, "post": 0, "none": 0})
    skipped_donors: int = 0  # thanked by another run while this one was working


def _pending_groups(after_donor: int, limit: int) -> list[tuple[Donor, list[Donation]]]:
    donor_ids = list(db.session.scalars(
        select(Donation.donor_id).distinct().where(Donation.acknowledgement_id.is_(None),
                                                   Donation.donor_id > after_donor)
        .order_by(Donation.donor_id).limit(limit)))
    if not donor_ids:
        return []
    donations = db.session.scalars(
        pending_query().where(Donation.donor_id.in_(donor_ids))
        .options(selectinload(Donation.donor).selectinload(Donor.declarations))
        .order_by(Donation.donor_id, Donation.received_on, Donation.id)).all()
    return [(group[0].donor, group) for group in
            (list(items) for _donor, items in groupby(donations, key=lambda d: d.donor_id))]


def acknowledge_pending(*, by: User, workers: int | None = None, chunk: int = 20,
                        progress: Callable[[BatchReport], None] | None = None,
                        batch: AcknowledgementBatch | None = None,
                        impact: dict[str, int] | None = None) -> BatchReport:
    """Thank every donor with pending gifts: one letter each, rendered on ``workers``
    processes, committed ``chunk`` donors at a time, into ``batch`` (a new one by default)."""
    if batch is None:
        with transaction():
            batch = AcknowledgementBatch(started_by_id=by.id)
            db.session.add(batch)
    report = BatchReport(batch_id=batch.id)
    impact = impact if impact is not None else impact_figures()
    workers = workers if workers is not None else current_app.config["LETTER_WORKERS"]
    after = 0
    with PdfPool(workers) as pool:
        while groups := _pending_groups(after, chunk):
            after = groups[-1][0].id
            done = _thank_chunk(groups, by=by, batch=batch, impact=impact, render=pool)
            report.skipped_donors += len(groups) - len(done)
            report.letters += len(done)
            for acknowledgement in done:
                report.donations += len(acknowledgement.donations)
                report.channels[acknowledgement.channel] += 1
            if progress:
                progress(report)
    with transaction():
        batch.finished_at = utcnow()
    return report


THANKS_JOB = "donors.thank_pending"


def _pending_donors(cutoff: int) -> int:
    """Donors with a gift up to ``cutoff`` (a donation id) still waiting for thanks."""
    return db.session.scalar(select(func.count(distinct(Donation.donor_id))).where(
        Donation.acknowledgement_id.is_(None), Donation.id <= cutoff)) or 0


@transaction
def start_thanking(*, by: User) -> Job | None:
    """Thank every donor with pending gifts, in the background (``thank_in_background``): the
    new job, or the one already queued or running (this joins it); None if nobody waits."""
    begin_writing()
    running = db.session.scalar(select(Job).where(Job.running_key == THANKS_JOB))
    if running is not None:
        return running
    cutoff = db.session.scalar(select(func.max(Donation.id)).where(Donation.acknowledgement_id.is_(None)))
    if cutoff is None:
        return None
    job, created = start_job(THANKS_JOB, THANKS_JOB, by=by, total=_pending_donors(cutoff),
                             params={"cutoff": cutoff, "impact": impact_figures()})
    if created:
        db.session.add(AcknowledgementBatch(started_by_id=by.id, job=job))
    return job


def batch_of(job: Job) -> AcknowledgementBatch:
    """The batch whose letters ``job`` writes."""
    return db.session.scalars(select(AcknowledgementBatch).where(AcknowledgementBatch.job_id == job.id)).one()


def batch_summary(batch: AcknowledgementBatch) -> dict[str, int]:
    """Letters and gifts of a batch so far, and its letters by channel."""
    channels: dict[str, int] = {channel: count for channel, count in db.session.execute(
        select(Acknowledgement.channel, func.count()).where(Acknowledgement.batch_id == batch.id)
        .group_by(Acknowledgement.channel))}
    donations = db.session.scalar(select(func.count()).select_from(Donation).join(Acknowledgement).where(
        Acknowledgement.batch_id == batch.id)) or 0
    return {"letters": sum(channels.values()), "donations": donations,
            **{channel: channels.get(channel, 0) for channel in ("email", "post", "none")}}


@job_task(THANKS_JOB)
def thank_in_background(job_id: int) -> None:
    """The job ``start_thanking`` queued: ``acknowledge_pending`` into its batch, its progress
    (donors of the job's gifts no longer waiting) after every chunk. Run again after a crash or
    a failure, it carries on where the committed chunks ended."""
    job = job_running(job_id)
    if job is None:
        return
    batch, by = batch_of(job), job.started_by
    if by is None or not by.active:  # the letters would go out in the name of someone gone
        raise DonorError(_("The person who started this batch no longer has an active account: "
                           "resume it to carry it on in your name."))
    cutoff, total, impact = job.params["cutoff"], job.total, job.params["impact"]

    def progress(_report: BatchReport) -> None:
        with transaction():
            db.session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(
                done=max(0, total - _pending_donors(cutoff)), updated_at=utcnow()))

    acknowledge_pending(by=by, batch=batch, impact=impact, progress=progress,
                        chunk=current_app.config["THANKS_CHUNK"])
    with transaction():
        job = lock_for_update(Job, job_id)
        if job.state == "running":
            batch = batch_of(job)
            batch.finished_at = utcnow()
            finish_job(job, batch_summary(batch))


@transaction  # each chunk commits on its own: a batch that stops half-way keeps what it finished
def _thank_chunk(groups: list[tuple[Donor, list[Donation]]], *, by: User, batch: AcknowledgementBatch,
                 impact: dict[str, int], render: Callable[[list[LetterJob]], list[bytes]]) -> list[Acknowledgement]:
    """Thank these donors. If another run thanked some of them first, thank the rest one by one."""
    begin_writing()
    done = _thank(groups, by=by, batch=batch, impact=impact, render=render)
    if not done:
        done = [a for group in groups for a in _thank([group], by=by, batch=batch, impact=impact, render=render)]
    return done


def post_letters(batch: AcknowledgementBatch) -> list[Letter]:
    """The batch's thank-you letters that go by post, in the order they were made, with their PDFs."""
    return list(db.session.scalars(
        select(Letter).join(Acknowledgement, Acknowledgement.letter_id == Letter.id)
        .where(Acknowledgement.batch_id == batch.id, Acknowledgement.channel == "post")
        .order_by(Acknowledgement.id).options(undefer(Letter.pdf))))


def merged_pdf(letters: Iterable[Letter]) -> bytes:
    """One printable PDF of several letters, each starting on its own page."""
    writer = PdfWriter()
    for letter in letters:
        if letter.pdf is not None:  # (a thank-you letter holds no passport data: never purged)
            writer.append(io.BytesIO(letter.pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- Allocations -------------------------------------------------------------------------

def allocatable_items() -> list[FundedItem]:
    """Funded applications and expert visits a restricted gift can pay for."""
    return list(db.session.scalars(
        select(FundedItem).where(FundedItem.is_funded()).order_by(FundedItem.id.desc())))


def approved_in_base(item: FundedItem, rates: dict[str, Any]) -> int | None:
    """What ``item``'s budget lines approve, in base minor units; None if a rate is missing."""
    return total_in_base([(line.approved_amount, line.approved_currency) for line in item.budget_lines
                          if line.approved_amount and line.approved_currency], rates)


def allocated_in_base(item: FundedItem, rates: dict[str, Any]) -> int | None:
    """What the gifts allocated to ``item`` add up to, in base minor units; None if a rate is missing."""
    rows = db.session.execute(
        select(DonationAllocation.amount, Donation.currency).join(Donation)
        .where(DonationAllocation.funded_item_id == item.id)).all()
    return total_in_base([(amount, currency) for amount, currency in rows], rates)


@transaction
def allocate(donation: Donation, item: FundedItem, amount: int, *, by: User) -> DonationAllocation:
    """Assign part of a restricted gift to a funded item, within the gift and the item's budget."""
    ensure_not_beneficiary(item, by, DonorError, _("This is for you, so someone else must allocate gifts to it."))
    # Two staff allocating at once: the second waits here and then sees the first's allocation.
    donation = lock_for_update(Donation, donation.id)
    item = lock_for_update(FundedItem, item.id)
    db.session.refresh(donation, ["allocations"])
    refusal = _allocation_refusal(donation, item, amount)
    if refusal:  # @transaction rolls back at once: nobody waits on the locks for a change that will not happen
        raise DonorError(refusal, "amount")
    allocation = DonationAllocation(donation=donation, funded_item_id=item.id, amount=amount, created_by_id=by.id)
    db.session.add(allocation)
    audit.record("donation_allocated", donation, actor=by,
                 details={"item": item.id, "amount": amount, "currency": donation.currency})
    return allocation


def _allocation_refusal(donation: Donation, item: FundedItem, amount: int) -> str | None:
    """Why this allocation cannot be made, or None."""
    if not donation.restricted:
        return _("Only gifts restricted to the Educational Programme are allocated.")
    if not item.is_funded():
        return _("Only approved applications and confirmed expert visits can receive gifts.")
    if amount <= 0:
        return _("Allocate more than nothing.")
    left = donation.amount - donation.allocated
    if amount > left:
        return _("Only %(left)s of this gift is left to allocate.", left=format_minor(left, donation.currency))
    rates = rates_on()
    approved = approved_in_base(item, rates)
    already = allocated_in_base(item, rates)
    adding = to_base_minor(amount, donation.currency, rates)
    if approved is None or already is None or adding is None:
        return _("An exchange rate is missing: add it before allocating.")
    if already + adding > approved:
        return _("That is more than the approved budget: %(left)s of it is still unfunded.",
                 left=format_minor(max(approved - already, 0), current_app.config["BASE_CURRENCY"]))
    return None


@transaction
def remove_allocation(allocation: DonationAllocation, *, by: User) -> None:
    """Take back an allocation: that part of the gift is free to allocate again."""
    donation = allocation.donation
    audit.record("allocation_removed", donation, actor=by,
                 details={"item": allocation.funded_item_id, "amount": allocation.amount,
                          "currency": donation.currency})
    db.session.delete(allocation)
