"""Expense claims with receipts against approved funded items, approval, payment, budget.

A built-in module: it reaches the core only through the hooks below and the shared model,
and never imports the applications or expert_visits modules.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...hookspecs import DashboardCard, ImpactFigure, InboxKind, LabelKey, NavEntry, hookimpl
from ...models import ExpenseClaim
from ...permissions import has_role
from . import permissions


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_can_access(user: Any, subject: Any) -> bool | None:
    return permissions.can_access(user, subject)


@hookimpl
def portal_labels() -> dict[LabelKey, Any]:
    from .labels import audit_labels

    return audit_labels()


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    entries = []
    if has_role(user, "doctor", "expert"):
        entries.append(NavEntry(_l("My expenses"), "expenses.index", order=30))
    if has_role(user, "staff", "finance"):
        entries.append(NavEntry(_l("Expense claims"), "expenses.queue", order=31))
        entries.append(NavEntry(_l("Budget"), "expenses.budget", order=33))
    if has_role(user, "finance"):
        entries.append(NavEntry(_l("Payments"), "expenses.payments", order=32))
    return entries


@hookimpl
def portal_impact() -> list[ImpactFigure]:
    from .impact import impact_figures

    return impact_figures()


@hookimpl
def portal_inbox(user: Any, limit: int) -> list[InboxKind]:
    from .inbox import inbox_kinds

    return inbox_kinds(user, limit)


@hookimpl
def portal_inbox_act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    from .inbox import TO_DECIDE, act

    return act(user, item_id, version) if kind == TO_DECIDE and has_role(user, "staff") else None


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    from ...money import format_minor
    from .budget import budget_left, current_budget_year
    from .inbox import count_lines

    cards = []
    if has_role(user, "doctor", "expert"):
        mine = db.session.scalar(select(func.count()).select_from(ExpenseClaim).where(
            ExpenseClaim.claimant_id == user.id, ExpenseClaim.direct.is_(False)))
        cards.append(DashboardCard(_l("Expenses"), _l("Claim what your approved trip or visit cost, with receipts."),
                                   "expenses.index", _l("My expenses"), count=mine, order=30))
    if has_role(user, "staff"):
        cards.append(DashboardCard(_l("Claims awaiting approval"), _l("Expense lines waiting for a decision."),
                                   "expenses.queue", _l("Open the claims queue"), count=count_lines("submitted"),
                                   order=31))
    if has_role(user, "finance"):
        cards.append(DashboardCard(_l("Ready to pay"), _l("Approved expense lines waiting for payment."),
                                   "expenses.payments", _l("Record payments"), count=count_lines("approved"),
                                   order=32))
    if has_role(user, "staff", "finance"):
        remaining = budget_left(current_budget_year())
        left = format_minor(remaining, "GBP") if remaining is not None else "—"
        cards.append(DashboardCard(_l("Budget left"), _l("This year's programme budget, after what is spent and "
                                                         "committed: %(left)s", left=left),
                                   "expenses.budget", _l("See the budget"), order=33))
    return cards


@hookimpl
def portal_personal_data(person: Any) -> Any:
    """A claimant's claims with their lines, the payments made to them and their receipts."""
    from ...hookspecs import PersonalData
    from ...models import Payment, User
    from ...personal_data import as_row

    if not isinstance(person, User):
        return None
    claims = db.session.scalars(select(ExpenseClaim).where(ExpenseClaim.claimant_id == person.id)
                                .order_by(ExpenseClaim.id)).all()
    payments = db.session.scalars(select(Payment).where(Payment.payee_id == person.id).order_by(Payment.id)).all()
    receipts = [(f"receipts/{line.id}-{line.receipt.original_name}", line.receipt)
                for claim in claims for line in claim.lines if line.receipt is not None]
    return PersonalData(records={
        "claims": [{**as_row(claim), "lines": [as_row(line) for line in claim.lines]} for claim in claims],
        "payments": [{**as_row(payment), "lines": [line.id for line in payment.lines]} for payment in payments]},
        files=receipts)


@hookimpl
def portal_erasure_blockers(person: Any) -> list[Any]:
    from ...models import ExpenseLine, User

    if not isinstance(person, User):
        return []
    unpaid = db.session.scalar(select(func.count()).select_from(ExpenseLine).join(ExpenseClaim).where(
        ExpenseClaim.claimant_id == person.id, ExpenseLine.status.in_(("submitted", "approved", "queried")))) or 0
    return [_l("an expense claim is not yet paid or decided")] if unpaid else []


@hookimpl
def portal_erase(person: Any, pseudonym: str) -> list[Any]:
    """Receipts stay for the accounts (the receipts' retention period), but lose the name they
    were uploaded under."""
    from ...models import ExpenseLine, User

    if isinstance(person, User):
        for line in db.session.scalars(select(ExpenseLine).join(ExpenseClaim).where(
                ExpenseClaim.claimant_id == person.id, ExpenseLine.receipt_id.is_not(None))):
            suffix = line.receipt.original_name.rsplit(".", 1)[-1][:10] if "." in line.receipt.original_name else ""
            line.receipt.original_name = f"receipt-{line.id}.{suffix}" if suffix else f"receipt-{line.id}"
    return []


@hookimpl
def portal_retention_due(settings: Any, now: Any) -> dict[str, Any]:
    """Receipts are kept the accounts' years after the line was paid (or refused), then deleted."""
    import datetime as dt

    from ...models import ExpenseLine, Payment

    cutoff = now.date() - dt.timedelta(days=365 * settings.receipt_retention_years + settings.receipt_retention_years
                                       // 4)
    paid = select(ExpenseLine.id).join(Payment, Payment.id == ExpenseLine.payment_id).where(
        ExpenseLine.receipt_id.is_not(None), Payment.paid_on < cutoff)
    refused = select(ExpenseLine.id).where(
        ExpenseLine.receipt_id.is_not(None), ExpenseLine.status == "rejected",
        ExpenseLine.decided_at < dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.UTC))
    ids = sorted(set(db.session.scalars(paid)) | set(db.session.scalars(refused)))
    return {"receipts": (ids, _remove_receipts)}


def _remove_receipts(line_ids: list[int]) -> list[Any]:
    from ... import audit, storage
    from ...models import ExpenseLine, StoredFile

    lines = list(db.session.scalars(select(ExpenseLine).where(ExpenseLine.id.in_(line_ids),
                                                             ExpenseLine.receipt_id.is_not(None))))
    stored_ids = {line.receipt_id for line in lines}
    for line in lines:
        audit.record("receipt_purged", line, actor=None, details={"stored_file": line.receipt_id})
        line.receipt_id = None
    db.session.flush()
    still_used = set(db.session.scalars(select(ExpenseLine.receipt_id).where(ExpenseLine.receipt_id.in_(stored_ids))))
    paths = []
    for stored in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(stored_ids - still_used))):
        paths.append(storage.path_of(stored))
        db.session.delete(stored)
    return paths
