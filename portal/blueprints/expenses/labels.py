"""How expense states and actions read on timelines."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ... import audit

LINE_STATE_LABELS = {
    "draft": _l("draft"),  # shared with applications: one word for "not sent yet"
    "submitted": _l("submitted"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "queried": _l("queried"),
    "paid": _l("paid"),
}

for action, label in {
    "claim_opened": _l("Claim opened"),
    "claim_submitted": _l("Claim submitted"),
    "line_added": _l("Expense line added"),
    "line_removed": _l("Expense line removed"),
    "line_approve": _l("Expense line approved"),
    "line_reject": _l("Expense line rejected"),
    "line_query": _l("Question about an expense line"),
    "line_answer": _l("Claimant answered"),
    "line_pay": _l("Expense line paid"),
    "payment_recorded": _l("Payment recorded"),
    "direct_cost_recorded": _l("Direct cost recorded"),
    "rate_set": _l("Exchange rate set"),
    "budget_set": _l("Programme budget set"),
}.items():
    audit.describe(action, label, LINE_STATE_LABELS)
