"""What the expenses module puts in the inbox: lines to decide (approved in one click) for
staff, approved lines to pay for finance."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ...extensions import db
from ...hookspecs import InboxItem, InboxKind
from ...labels import budget_category_label
from ...models import ExpenseClaim, ExpenseLine
from ...money import format_minor
from ...permissions import has_role
from . import services

TO_DECIDE, TO_PAY = "expenses.to_decide", "expenses.to_pay"


def count_lines(status: str) -> int:
    """Lines in ``status``: what the dashboard cards and the inbox count."""
    return db.session.scalar(select(func.count()).select_from(ExpenseLine).where(ExpenseLine.status == status)) or 0


def _oldest(status: str, since: Any, limit: int) -> list[ExpenseLine]:
    return list(db.session.scalars(
        select(ExpenseLine).join(ExpenseLine.claim).where(ExpenseLine.status == status)
        .options(contains_eager(ExpenseLine.claim)).order_by(since, ExpenseLine.id).limit(limit)))


def _item(line: ExpenseLine, since: Any) -> InboxItem:
    return InboxItem(line.id, f"{line.claim.claimant.name}: {line.description}", since,
                     url_for("expenses.claim", claim_id=line.claim_id),
                     detail=f"{budget_category_label(line.category)} · {format_minor(line.amount, line.currency)}",
                     version=line.version)


def inbox_kinds(user: Any, limit: int) -> list[InboxKind]:
    kinds = []
    if has_role(user, "staff"):
        lines = _oldest("submitted", ExpenseClaim.submitted_at, limit)
        kinds.append(InboxKind(
            TO_DECIDE, "expenses", _l("Expenses"), _l("Expense lines to decide"), count_lines("submitted"),
            [_item(line, line.claim.submitted_at or line.created_at) for line in lines],
            url_for("expenses.queue"), action=_l("Approve"), order=31))
    if has_role(user, "finance"):
        lines = _oldest("approved", ExpenseLine.decided_at, limit)
        kinds.append(InboxKind(
            TO_PAY, "expenses", _l("Expenses"), _l("Approved lines to pay"), count_lines("approved"),
            [_item(line, line.decided_at or line.created_at) for line in lines],
            url_for("expenses.payments"), order=32))
    return kinds


def act(user: Any, item_id: int, version: int | None) -> str:
    line = db.get_or_404(ExpenseLine, item_id)
    services.approve_line(line, by=user, version=version)
    return _("Line approved: %(what)s.", what=f"{line.claim.claimant.name}: {line.description}")
