"""How expense states and actions read on pages and timelines."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_pgettext

from ...hookspecs import LabelKey, timeline_labels
from ...models import ExchangeRate, ExpenseClaim, ExpenseLine, Payment, ProgrammeBudget

LINE_STATE_LABELS = {
    "draft": lazy_pgettext("expense line state", "draft"),
    "submitted": lazy_pgettext("expense line state", "submitted"),
    "approved": lazy_pgettext("expense line state", "approved"),
    "rejected": lazy_pgettext("expense line state", "rejected"),
    "queried": lazy_pgettext("expense line state", "queried"),
    "paid": lazy_pgettext("expense line state", "paid"),
}

CLAIM_STATE_LABELS = {
    "draft": lazy_pgettext("expense claim state", "draft"),
    "submitted": lazy_pgettext("expense claim state", "submitted"),
}


def audit_labels() -> dict[LabelKey, Any]:
    """States and actions of claims, lines, payments, rates and budgets, for ``portal_labels``."""
    return {
        **timeline_labels(ExpenseClaim.__tablename__, states=CLAIM_STATE_LABELS, actions={
            "claim_opened": lazy_pgettext("expense claim action", "Claim opened"),
            "claim_submitted": lazy_pgettext("expense claim action", "Claim submitted"),
            "line_removed": lazy_pgettext("expense claim action", "Expense line removed"),
        }),
        **timeline_labels(ExpenseLine.__tablename__, states=LINE_STATE_LABELS, actions={
            "line_added": lazy_pgettext("expense line action", "Expense line added"),
            "receipt_purged": lazy_pgettext("expense line action",
                                            "Receipt deleted after the accounts' retention period"),
            "line_approve": lazy_pgettext("expense line action", "Expense line approved"),
            "line_reject": lazy_pgettext("expense line action", "Expense line rejected"),
            "line_query": lazy_pgettext("expense line action", "Question about an expense line"),
            "line_answer": lazy_pgettext("expense line action", "Claimant answered"),
            "line_pay": lazy_pgettext("expense line action", "Expense line paid"),
            "direct_cost_recorded": lazy_pgettext("expense line action", "Direct cost recorded"),
        }),
        **timeline_labels(Payment.__tablename__, actions={
            "payment_recorded": lazy_pgettext("payment action", "Payment recorded"),
        }),
        **timeline_labels(ExchangeRate.__tablename__, actions={
            "rate_set": lazy_pgettext("exchange rate action", "Exchange rate set"),
        }),
        **timeline_labels(ProgrammeBudget.__tablename__, actions={
            "budget_set": lazy_pgettext("budget action", "Programme budget set"),
        }),
    }
