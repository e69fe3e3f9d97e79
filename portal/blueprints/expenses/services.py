"""The rules of money out. Each change is one transaction with its audit entry and its
e-mail to the claimant; lines carry a version, so two approvals or two payments of one
line cannot both win.

Line states: draft → submitted → approved | rejected | queried; queried → submitted;
approved → paid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from ... import audit, bank, errors, storage
from ...duties import ensure_not_beneficiary
from ...exports import SafeCsvWriter
from ...extensions import db, lock_for_update, lock_row
from ...labels import budget_category_label
from ...mail import queue_mail
from ...models import (
    Application,
    Clinic,
    Conference,
    ExchangeRate,
    ExpenseClaim,
    ExpenseLine,
    ExpertVisit,
    FundedItem,
    Payment,
    ProgrammeBudget,
    StoredFile,
    User,
)
from ...models.types import utcnow
from ...money import base_currency, from_minor, rate_for, rates_on, to_base_minor
from ...search import matches_any
from ...transactions import transaction
from ...urls import external_url
from .budget import in_budget_year

TRANSITIONS = {
    "approve": ({"submitted"}, "approved"),
    "reject": ({"submitted"}, "rejected"),
    "query": ({"submitted"}, "queried"),
    "answer": ({"queried"}, "submitted"),
    "pay": ({"approved"}, "paid"),
}


class ExpenseError(errors.UserError):
    """A change the rules refuse; ``message`` says why, for the person."""


class IllegalTransition(ExpenseError):
    """The line or claim is not in a state that allows this."""


class Conflict(ExpenseError, errors.Conflict):
    """Someone else decided or changed the line first."""


class NeedsOverride(ExpenseError):
    """Approving would take the category over its approved amount: a reason is needed."""

    status = errors.INVALID


class NoRate(ExpenseError):
    status = errors.INVALID


def _overtaken(*args: Any, **kwargs: Any) -> Conflict:
    """Someone else changed the line first (PostgreSQL: its version moved under us; SQLite:
    another writer committed after our snapshot)."""
    return Conflict(_l("Someone else changed this line at the same moment. Reload to see it."))


# Claims ---------------------------------------------------------------------------------

def can_claim(item: FundedItem, user: User) -> bool:
    """Money is claimed by an item's beneficiary, against a funded item (``FundedItem.is_funded``)."""
    return item.beneficiary_id == user.id and item.is_funded()


def claimable_categories(item: FundedItem) -> list[str]:
    """The item's categories with an approved amount."""
    return [line.category for line in item.budget_lines if line.approved_amount]


@transaction
def open_claim(item: FundedItem, *, by: User) -> ExpenseClaim:
    """Start a claim against one of the claimant's own funded items, or carry on with the one not
    yet submitted (pressing "Claim expenses" twice, or in two tabs at once, makes one claim)."""
    if not can_claim(item, by):
        raise IllegalTransition(_l("Expenses can be claimed only against your own approved items."))
    lock_row(FundedItem, item.id)
    draft = db.session.scalar(select(ExpenseClaim).where(
        ExpenseClaim.funded_item_id == item.id, ExpenseClaim.claimant_id == by.id, ExpenseClaim.direct.is_(False),
        ExpenseClaim.submitted_at.is_(None)).order_by(ExpenseClaim.id).limit(1))
    if draft is not None:
        return draft
    claim = ExpenseClaim(funded_item=item, claimant_id=by.id)
    db.session.add(claim)
    db.session.flush()
    audit.record("claim_opened", claim, actor=by, to_state="draft")
    return claim


def price_line(line: ExpenseLine) -> None:
    """Fix the rate (the latest on or before the line's date) and the GBP amount."""
    line.rate = rate_for(line.currency, line.spent_on)
    line.amount_gbp = None if line.rate is None else to_base_minor(line.amount, line.currency,
                                                                    {line.currency: line.rate})


@transaction
def add_line(claim: ExpenseClaim, values: dict[str, Any], receipt: FileStorage | None, *, by: User) -> ExpenseLine:
    """Add a line with its receipt to a claim not yet submitted, priced at the day's rate."""
    if any(line.status != "draft" for line in claim.lines) or claim.submitted_at:
        raise IllegalTransition(_l("This claim has been submitted; start a new claim for more expenses."), "category")
    if values["category"] not in claimable_categories(claim.funded_item):
        raise ExpenseError(_l("Nothing was approved for this category."), "category")
    line = ExpenseLine(status="draft", **values)
    line.receipt = storage.store_upload(receipt, by=by, field="receipt")
    price_line(line)
    claim.lines.append(line)
    db.session.flush()
    audit.record("line_added", line, actor=by, to_state="draft")
    return line


def remove_line(line: ExpenseLine, *, by: User) -> None:
    """Remove a line not yet submitted; its receipt file goes once that is committed."""
    with transaction():
        if line.status != "draft":
            raise IllegalTransition(_l("Only lines not yet submitted can be removed."))
        receipt, claim = line.receipt, line.claim
        claim.lines.remove(line)
        if receipt is not None:
            db.session.delete(receipt)
        audit.record("line_removed", claim, actor=by, details={"line": line.id, "description": line.description})
    if receipt is not None:
        storage.discard(receipt)


@transaction
def submit_claim(claim: ExpenseClaim, *, by: User) -> None:
    """Send the claim's draft lines to staff."""
    drafts = [line for line in claim.lines if line.status == "draft"]
    if not drafts:
        raise ExpenseError(_l("Add at least one line before you submit."))
    for line in drafts:
        line.status = "submitted"
    claim.submitted_at = utcnow()
    audit.record("claim_submitted", claim, actor=by, from_state="draft", to_state="submitted",
                 details={"lines": len(drafts)})
    queue_mail(claim.claimant, "claim_submitted", claim=claim, link=_claim_link(claim))


def _claim_link(claim: ExpenseClaim) -> str:
    return external_url("expenses.claim", claim_id=claim.id)


# Decisions on lines -----------------------------------------------------------------------

def _check_version(line: ExpenseLine, version: int | None) -> None:
    """The form was drawn from this version of the line; anything newer means someone else acted."""
    if version is not None and version != line.version:
        who = line.decided_by.name if line.decided_by else _l("someone else")
        raise Conflict(_l("This line was already decided by %(name)s. Reload to see it.", name=who))


def _check_state(line: ExpenseLine, action: str) -> str:
    allowed_from, to_state = TRANSITIONS[action]
    if line.status not in allowed_from:
        raise IllegalTransition(_l("This line is “%(state)s”, so that is no longer possible.",
                                   state=audit.state_label(line, line.status)))
    return to_state


def _move(line: ExpenseLine, action: str, *, by: User, version: int | None, note: str | None = None,
          details: dict[str, Any] | None = None) -> None:
    _check_version(line, version)
    to_state = _check_state(line, action)
    from_state, line.status = line.status, to_state
    audit.record(f"line_{action}", line, actor=by, from_state=from_state, to_state=to_state, note=note,
                 details=details)


def category_usage(item: FundedItem, category: str, *, excluding: ExpenseLine | None = None) -> tuple[int | None, int]:
    """(approved amount in GBP today, GBP already approved or paid) for one category."""
    budget_line = item.budget_line(category)
    cap = None
    if (budget_line is not None and budget_line.approved_amount is not None
            and budget_line.approved_currency is not None):
        cap = to_base_minor(budget_line.approved_amount, budget_line.approved_currency, rates_on())
    used = db.session.scalar(
        select(func.coalesce(func.sum(ExpenseLine.amount_gbp), 0))
        .join(ExpenseClaim).where(ExpenseClaim.funded_item_id == item.id, ExpenseLine.category == category,
                                  ExpenseLine.status.in_(("approved", "paid")),
                                  ExpenseLine.id != (excluding.id if excluding else -1)))
    return cap, int(used or 0)


def _ensure_not_own(line: ExpenseLine, by: User, message: Any) -> None:
    """Nobody decides on a line they claimed, or one for an item they benefit from."""
    if line.claim.claimant_id == by.id:
        raise ExpenseError(message)
    ensure_not_beneficiary(line.claim.funded_item, by, ExpenseError, message)


def _lock_items(lines: list[ExpenseLine]) -> None:
    """Take the funded items of these lines (in id order, so two callers cannot deadlock)
    and re-read the lines: what they and the items' totals hold is now what others committed."""
    for item_id in sorted({line.claim.funded_item_id for line in lines}):
        lock_for_update(FundedItem, item_id)
    for line in lines:
        db.session.refresh(line)


@transaction(conflict=_overtaken)
def approve_line(line: ExpenseLine, *, by: User, version: int | None, override_reason: str | None = None) -> None:
    """Approve a submitted line; over the category's approved amount only with a reason."""
    _ensure_not_own(line, by, _l("You cannot approve your own claim."))
    # Approvals on one item take turns, so each counts what the one before it approved.
    _lock_items([line])
    _check_version(line, version)  # before pricing the line changes its version
    _check_state(line, "approve")
    if line.rate is None:
        price_line(line)  # a rate may have been added since
        if line.rate is None:
            raise NoRate(_l("There is no exchange rate for %(currency)s on or before %(date)s. "
                            "Add one under Exchange rates, then approve.",
                            currency=line.currency, date=line.spent_on.isoformat()))
    cap, used = category_usage(line.claim.funded_item, line.category, excluding=line)
    approved = line.claim.funded_item.budget_line(line.category)
    if cap is None and approved is not None and approved.approved_amount:
        raise NoRate(_l("There is no exchange rate for %(currency)s today, so the approved amount cannot be "
                        "compared. Add one under Exchange rates, then approve.", currency=approved.approved_currency))
    over = cap is not None and used + (line.amount_gbp or 0) > cap
    if over and not (override_reason or "").strip():
        raise NeedsOverride(_l("This would take %(category)s over its approved amount. Give a reason to approve "
                               "it anyway.", category=budget_category_label(line.category)), "override_reason")
    details = {"amount_gbp": line.amount_gbp, "rate": str(line.rate)}
    if over:
        line.override_reason = override_reason
        details |= {"over_cap": True, "cap_gbp": cap, "already_gbp": used}
    _decide(line, "approve", by=by, version=None, note=override_reason if over else None, details=details)


def _decide(line: ExpenseLine, action: str, *, by: User, version: int | None, note: str | None,
            details: dict[str, Any] | None = None) -> None:
    """A staff decision on a line: move it, note who decided, tell the claimant."""
    _move(line, action, by=by, version=version, note=note, details=details)
    line.decided_by_id, line.decided_at = by.id, utcnow()
    queue_mail(line.claim.claimant, "line_decided", line=line, state=line.status,
               note=None if action == "approve" else note, link=_claim_link(line.claim))


@transaction(conflict=_overtaken)
def reject_line(line: ExpenseLine, reason: str, *, by: User, version: int | None) -> None:
    """Reject a submitted line, with the reason the claimant is e-mailed."""
    _ensure_not_own(line, by, _l("You cannot decide on your own claim."))
    line.reject_reason = reason
    _decide(line, "reject", by=by, version=version, note=reason)


@transaction(conflict=_overtaken)
def query_line(line: ExpenseLine, question: str, *, by: User, version: int | None) -> None:
    """Ask the claimant a question about a submitted line."""
    _ensure_not_own(line, by, _l("You cannot decide on your own claim."))
    line.question = question
    _decide(line, "query", by=by, version=version, note=question)


@transaction(conflict=_overtaken)
def answer_query(line: ExpenseLine, answer: str, receipt: FileStorage | None, *, by: User) -> None:
    """The claimant answers a query (perhaps with a better receipt): the line is submitted again."""
    if line.claim.claimant_id != by.id:
        raise IllegalTransition(_l("Only the claimant answers a query."))
    _move(line, "answer", by=by, version=None, note=answer)
    line.answer = answer
    if receipt is not None and receipt.filename:
        line.receipt = storage.store_upload(receipt, by=by, field="receipt")
    queue_mail(line.claim.claimant, "claim_submitted", claim=line.claim, link=_claim_link(line.claim))


# Payments -----------------------------------------------------------------------------

@transaction(conflict=_overtaken)
def pay(lines: list[ExpenseLine], *, paid_on: dt.date, method: str, reference: str, amount_gbp: int,
        by: User) -> Payment:
    """Record one payment for approved lines of one claimant. Nobody pays a line they
    claimed or approved."""
    if not lines:
        raise ExpenseError(_l("Choose the lines this payment covers."))
    payees = {line.claim.claimant_id for line in lines}
    if len(payees) != 1:
        raise ExpenseError(_l("One payment goes to one claimant."))
    _lock_items(lines)  # the lines as they are now, not as the page saw them
    for line in lines:
        _check_state(line, "pay")  # every line before anything is written
        _ensure_not_own(line, by, _l("You cannot pay your own claim."))
        if line.decided_by_id == by.id:
            raise ExpenseError(_l("You approved one of these lines, so someone else must pay it."))
    total = sum(line.amount_gbp or 0 for line in lines)
    if amount_gbp != total:
        raise ExpenseError(_l("The chosen lines add up to %(total)s; the payment must match.",
                              total=f"{total / 100:.2f} {base_currency()}"))
    payment = Payment(payee_id=payees.pop(), paid_on=paid_on, method=method, reference=reference,
                      amount_gbp=amount_gbp, recorded_by_id=by.id)
    db.session.add(payment)
    db.session.flush()
    for line in lines:
        _move(line, "pay", by=by, version=line.version, details={"payment": payment.id})
        line.payment = payment
    audit.record("payment_recorded", payment, actor=by, details={"lines": [line.id for line in lines],
                                                                  "amount_gbp": amount_gbp})
    queue_mail(payment.payee, "payment_recorded", payment=payment, lines=lines)
    return payment


# Direct costs, rates, budget -----------------------------------------------------------------

@transaction(conflict=_overtaken)
def record_direct_cost(item: FundedItem, values: dict[str, Any], invoice: FileStorage | None, *,
                       by: User) -> ExpenseLine:
    """A cost the charity paid itself (say, a registration fee to the organiser): spent at once."""
    ensure_not_beneficiary(item, by, ExpenseError, _l("This is for you, so someone else must record its costs."))
    item = lock_for_update(FundedItem, item.id)  # it counts in the totals that approvals check
    claim = ExpenseClaim(funded_item=item, claimant_id=by.id, direct=True, submitted_at=utcnow())
    line = ExpenseLine(status="paid", decided_by_id=by.id, decided_at=utcnow(), **values)
    price_line(line)
    if line.rate is None:  # before the invoice is kept: a refusal leaves no file behind
        raise NoRate(_l("There is no exchange rate for %(currency)s on or before %(date)s. Add one first.",
                        currency=line.currency, date=line.spent_on.isoformat()), "currency")
    line.receipt = storage.store_upload(invoice, by=by, field="receipt")
    claim.lines.append(line)
    db.session.add(claim)
    db.session.flush()
    audit.record("direct_cost_recorded", line, actor=by, to_state="paid",
                 details={"amount_gbp": line.amount_gbp, "funded_item": item.id})
    return line


@transaction
def add_rate(currency: str, rate: Decimal, valid_from: dt.date, *, by: User) -> ExchangeRate:
    """Set the rate of a currency from a day on (replacing one set for that day)."""
    existing = db.session.scalar(select(ExchangeRate).where(
        ExchangeRate.currency == currency, ExchangeRate.base_currency == base_currency(),
        ExchangeRate.valid_from == valid_from))
    entry = existing or ExchangeRate(currency=currency, base_currency=base_currency(), valid_from=valid_from)
    entry.rate, entry.recorded_by_id = rate, by.id
    db.session.add(entry)
    db.session.flush()
    audit.record("rate_set", entry, actor=by, details={"currency": currency, "rate": str(rate),
                                                       "valid_from": valid_from.isoformat()})
    return entry


def parse_rates_csv(content: bytes, currencies: Iterable[str]) -> tuple[list[tuple[dt.date, str, Decimal]], list[str]]:
    """Rows of "date,currency,rate" (a header row is allowed); returns (rows, errors)."""
    known = set(currencies)
    rows, errors = [], []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [str(_l("The file is not UTF-8 text."))]
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if number == 1 and record[0].strip().lower() == "date":
            continue
        try:
            day = dt.date.fromisoformat(record[0].strip())
            currency = record[1].strip().upper()
            rate = Decimal(record[2].strip())
            if currency not in known or not rate.is_finite() or rate <= 0:
                raise ValueError
        except (IndexError, ValueError, InvalidOperation):
            errors.append(str(_l("Row %(number)d is not date,currency,rate: %(text)s", number=number,
                                 text=",".join(record)[:80])))
            continue
        rows.append((day, currency, rate))
    return rows, errors


@transaction
def import_rates(rows: list[tuple[dt.date, str, Decimal]], *, by: User) -> int:
    """Set every rate read from a CSV file, in one transaction."""
    for day, currency, rate in rows:
        existing = db.session.scalar(select(ExchangeRate).where(
            ExchangeRate.currency == currency, ExchangeRate.base_currency == base_currency(),
            ExchangeRate.valid_from == day))
        entry = existing or ExchangeRate(currency=currency, base_currency=base_currency(), valid_from=day)
        entry.rate, entry.recorded_by_id = rate, by.id
        db.session.add(entry)
        db.session.flush()
        audit.record("rate_set", entry, actor=by, details={"currency": currency, "rate": str(rate),
                                                           "valid_from": day.isoformat(), "from": "CSV import"})
    return len(rows)


@transaction
def set_budget(year: int, amount_gbp: int, *, by: User) -> ProgrammeBudget:
    """Set the programme's budget for a year."""
    budget = db.session.get(ProgrammeBudget, year) or ProgrammeBudget(year=year)
    before = budget.amount_gbp
    budget.amount_gbp, budget.updated_by_id = amount_gbp, by.id
    db.session.add(budget)
    db.session.flush()
    audit.record("budget_set", budget, actor=by, details={"year": year, "from": before, "to": amount_gbp})
    return budget


def duplicate_receipts(lines: Iterable[ExpenseLine]) -> set[str]:
    """SHA-256 digests among these lines' receipts that another line's receipt shares."""
    digests = {line.receipt.sha256 for line in lines if line.receipt is not None}
    if not digests:
        return set()
    rows = db.session.execute(
        select(StoredFile.sha256).join(ExpenseLine, ExpenseLine.receipt_id == StoredFile.id)
        .where(StoredFile.sha256.in_(digests)).group_by(StoredFile.sha256).having(func.count() > 1))
    return {digest for (digest,) in rows}


# What the pages list -----------------------------------------------------------------------

LINES_CSV_COLUMNS = ("line", "claim", "claimant", "funded_item", "category", "date", "description", "amount",
                     "currency", "rate", "amount_gbp", "status", "decided_by", "payment_reference", "paid_on")


def _filtered(query: Any, filters: dict[str, Any]) -> Any:
    """``query`` (lines joined to their claims and claimants, as ``User``) narrowed to the
    lines the queue's filters choose, never drafts, by line number."""
    query = query.where(ExpenseLine.status != "draft").order_by(ExpenseLine.id)
    if filters["status"] != "all":
        query = query.where(ExpenseLine.status == filters["status"])
    if filters["q"]:
        query = query.where(matches_any([User.name, User.email, ExpenseLine.description], filters["q"]))
    if filters["funded_item_id"]:
        query = query.where(ExpenseClaim.funded_item_id == filters["funded_item_id"])
    if filters["category"]:
        query = query.where(ExpenseLine.category == filters["category"])
    if filters["older_than"]:
        query = query.where(ExpenseLine.created_at <= utcnow() - dt.timedelta(days=filters["older_than"]))
    if filters["year"]:  # the budget year the lines count in: their item's event's
        query = query.where(in_budget_year(filters["year"]))
    return query


def lines_query(filters: dict[str, Any]) -> Any:
    """Lines for the queue, with what each row shows loaded up front."""
    return _filtered(
        select(ExpenseLine).join(ExpenseLine.claim).outerjoin(User, ExpenseClaim.claimant_id == User.id)
        # The claim and claimant come from the joins above; the funded items of the page's rows
        # in one more query (a joined load wrapped claims and items in a subquery of every claim).
        .options(contains_eager(ExpenseLine.claim).selectinload(ExpenseClaim.funded_item),
                 contains_eager(ExpenseLine.claim).contains_eager(ExpenseClaim.claimant),
                 joinedload(ExpenseLine.decided_by), joinedload(ExpenseLine.payment)), filters)


CSV_BATCH = 2000


def _csv_query(filters: dict[str, Any]) -> Any:
    """The CSV's columns as plain rows, the funded item's name in the parts its kind is named
    from (an application: its conference; a visit: its expert, clinic and arrival)."""
    items, applications, visits = FundedItem.__table__, Application.__table__, ExpertVisit.__table__
    expert, decider = aliased(User), aliased(User)
    return _filtered(
        select(ExpenseLine.id, ExpenseLine.claim_id, User.name, items.c.kind, items.c.id,
               Conference.name, Conference.start_date, expert.name, Clinic.name, visits.c.arrival_on,
               ExpenseLine.category, ExpenseLine.spent_on, ExpenseLine.description, ExpenseLine.amount,
               ExpenseLine.currency, ExpenseLine.rate, ExpenseLine.amount_gbp, ExpenseLine.status, decider.name,
               Payment.reference, Payment.paid_on)
        .select_from(ExpenseLine).join(ExpenseClaim, ExpenseClaim.id == ExpenseLine.claim_id)
        .join(items, items.c.id == ExpenseClaim.funded_item_id)
        .outerjoin(User, ExpenseClaim.claimant_id == User.id)
        .outerjoin(applications, applications.c.id == items.c.id)
        .outerjoin(Conference, Conference.id == applications.c.conference_id)
        .outerjoin(visits, visits.c.id == items.c.id)
        .outerjoin(Clinic, Clinic.id == visits.c.host_clinic_id)
        .outerjoin(expert, and_(expert.id == items.c.beneficiary_id, items.c.kind == "expert_visit"))
        .outerjoin(decider, decider.id == ExpenseLine.decided_by_id)
        .outerjoin(Payment, Payment.id == ExpenseLine.payment_id), filters)


def lines_csv(filters: dict[str, Any]) -> Iterator[str]:
    """The lines the filters choose as CSV for the accounts, a total row closing the file:
    streamed in pieces from a server-side cursor, so that memory stays flat however many."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(LINES_CSV_COLUMNS)
    base = base_currency()
    other_names: dict[int, str] = {}  # kinds named by a module's own code, asked once each
    total = 0
    # Plain rows from the connection (no ORM bookkeeping per row), a batch at a time.
    rows = db.session.connection().execution_options(stream_results=True).execute(_csv_query(filters))
    for batch in rows.partitions(CSV_BATCH):
        for (line_id, claim_id, claimant, kind, item_id, conference, start_date, expert, clinic, arrival_on,
             category, spent_on, description, amount, currency, rate, amount_gbp, status, decider, reference,
             paid_on) in batch:
            if kind == "application":
                item = Application.name_for(conference, start_date)
            elif kind == "expert_visit":
                item = ExpertVisit.name_for(expert, clinic, arrival_on)
            else:
                if item_id not in other_names:
                    other_names[item_id] = db.session.get_one(FundedItem, item_id).display_name
                item = other_names[item_id]
            total += amount_gbp or 0
            writer.writerow([
                line_id, claim_id, claimant or "", item, category, spent_on.isoformat(), description,
                from_minor(amount, currency), currency, rate if rate is not None else "",
                from_minor(amount_gbp, base) if amount_gbp is not None else "", status, decider or "",
                reference or "", paid_on.isoformat() if paid_on else ""])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    writer.writerow(["total", "", "", "", "", "", "", "", "", "", from_minor(total, base)])
    yield out.getvalue()


PAYEES_PER_PAGE = 20


def ready_to_pay(page: int = 1) -> tuple[Any, list[dict[str, Any]]]:
    """One page of the payees with approved lines, whoever waits longest first, and their
    lines grouped by claimant: (the page, its groups: key, claimant, lines, total in minor
    units). A group's key is its claimant's id (0 for lines without one)."""
    key = func.coalesce(ExpenseClaim.claimant_id, 0)
    payees = db.paginate(
        select(key).select_from(ExpenseLine).join(ExpenseLine.claim).where(ExpenseLine.status == "approved")
        .group_by(key).order_by(func.min(ExpenseLine.id)), page=page, per_page=PAYEES_PER_PAGE, error_out=False)
    groups: dict[int, dict[str, Any]] = {payee: {"key": payee, "claimant": None, "lines": [], "total": 0}
                                         for payee in payees.items}
    if groups:
        lines = db.session.scalars(
            select(ExpenseLine).join(ExpenseLine.claim)
            .where(ExpenseLine.status == "approved", key.in_(list(groups)))
            .options(contains_eager(ExpenseLine.claim).joinedload(ExpenseClaim.claimant).lazyload(User.role_rows),
                     contains_eager(ExpenseLine.claim).lazyload(ExpenseClaim.funded_item))
            .order_by(ExpenseLine.id)).all()
        # What names each item (a visit is named after its expert), and nothing more: one query per
        # kind, both always, so the page costs the same whichever kinds it shows (a relationship
        # load would ask once per kind present).
        item_ids = {line.claim.funded_item_id for line in lines}
        items: dict[int, FundedItem] = {}
        for kind in (Application, ExpertVisit):
            query = select(kind).where(kind.id.in_(item_ids)).options(
                joinedload(kind.beneficiary).lazyload(User.role_rows), lazyload(kind.budget_lines))
            items.update((item.id, item) for item in db.session.scalars(query))
        for line in lines:
            set_committed_value(line.claim, "funded_item", items[line.claim.funded_item_id])
            group = groups[line.claim.claimant_id or 0]
            group["claimant"] = line.claim.claimant
            group["lines"].append(line)
            group["total"] += line.amount_gbp or 0
    return payees, list(groups.values())


PAYMENT_COLUMNS = ["payment", "paid_on", "payee", "method", "reference", "amount_gbp", "lines"]


def payment_rows() -> Iterator[list[Any]]:
    """Every payment, newest first, as export rows (streamed), then their total."""
    lines = (select(ExpenseLine.payment_id, func.count().label("lines")).where(ExpenseLine.payment_id.is_not(None))
             .group_by(ExpenseLine.payment_id).subquery())
    query = (select(Payment.id, Payment.paid_on, User.name, Payment.method, Payment.reference, Payment.amount_gbp,
                    func.coalesce(lines.c.lines, 0))
             .select_from(Payment).outerjoin(User, User.id == Payment.payee_id)
             .outerjoin(lines, lines.c.payment_id == Payment.id).order_by(Payment.paid_on.desc(), Payment.id.desc()))
    base, total = base_currency(), 0
    rows = db.session.connection().execution_options(stream_results=True).execute(query)
    for batch in rows.partitions(CSV_BATCH):
        for payment_id, paid_on, payee, method, reference, amount, count in batch:
            total += amount
            yield [payment_id, paid_on.isoformat(), payee or "", method, reference, from_minor(amount, base), count]
    yield ["total", "", "", "", "", from_minor(total, base)]


BANK_FILE_COLUMNS = ["payee", "account_holder", "iban", "bic", "sort_code", "account_number", "amount_gbp",
                     "reference", "lines"]


def bank_file_rows() -> Iterator[list[Any]]:
    """What the bank needs to pay everyone whose lines are approved: one row per payee with
    their account and the amount, then the total; payees without bank details say so."""
    key = func.coalesce(ExpenseClaim.claimant_id, 0)
    query = (select(key, func.sum(ExpenseLine.amount_gbp), func.count(), func.min(ExpenseLine.id))
             .select_from(ExpenseLine).join(ExpenseLine.claim).where(ExpenseLine.status == "approved")
             .group_by(key).order_by(func.min(ExpenseLine.id)))
    base, total, payees = base_currency(), 0, db.session.execute(query).all()
    people = {user.id: user for user in db.session.scalars(  # one statement for every payee's account
        select(User).where(User.id.in_([row[0] for row in payees if row[0]])).options(lazyload(User.role_rows)))}
    for payee_id, amount, count, _first in payees:
        payee = people.get(payee_id)
        details = bank.details_of(payee) if payee is not None else None
        total += amount or 0
        account = ([details.holder or "", details.iban or "", details.bic or "", details.sort_code or "",
                    details.account_number or ""] if details else ["NO BANK DETAILS", "", "", "", ""])
        yield [payee.name if payee else "", *account, from_minor(amount or 0, base),
               f"EP expenses {payee_id}" if payee_id else "", count]
    yield ["total", "", "", "", "", "", from_minor(total, base), "", ""]


def recent_payments(limit: int = 20) -> list[Payment]:
    """The latest payments, newest first."""
    return list(db.session.scalars(select(Payment).options(joinedload(Payment.payee).lazyload(User.role_rows))
                                   .order_by(Payment.id.desc()).limit(limit)))
