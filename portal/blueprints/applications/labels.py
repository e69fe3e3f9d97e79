"""How the application's states and choices read, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ...hookspecs import LabelKey, timeline_labels
from ...models import Application

SUBJECT = Application.__tablename__  # what the audit trail records an application under

STATE_LABELS = {
    "draft": lazy_pgettext("application state", "draft"),
    "submitted": lazy_pgettext("application state", "submitted"),
    "changes_requested": lazy_pgettext("application state", "changes requested"),
    "approved": lazy_pgettext("application state", "approved"),
    "declined": lazy_pgettext("application state", "declined"),
    "withdrawn": lazy_pgettext("application state", "withdrawn"),
    "cancelled": lazy_pgettext("application state", "cancelled"),
    "completed": lazy_pgettext("application state", "completed"),
}

# What the doctor does next, by state (staff read the same line).
NEXT_STEPS = {
    "draft": _l("Finish the form, add your documents and submit."),
    "submitted": _l("The programme team is reviewing it."),
    "changes_requested": _l("Edit the application as asked and submit it again."),
    "approved": _l("Book your trip; after the conference, send your report."),
    "declined": _l("Nothing more to do."),
    "withdrawn": _l("Nothing more to do."),
    "cancelled": _l("Nothing more to do."),
    "completed": _l("Completed: the report was accepted."),
}

PARTICIPATION_LABELS = {
    "attending": _l("Attending"),
    "poster": _l("Poster"),
    "oral": _l("Oral presentation"),
    "invited_talk": _l("Invited talk"),
}

DOCUMENT_KIND_LABELS = {
    "acceptance_letter": _l("Acceptance letter"),
    "programme": _l("Conference programme"),
    "cv": _l("CV"),
}

SHARING_LABELS = {
    "talk": _l("Talk to colleagues"),
    "seminar": _l("Hospital seminar"),
    "summary": _l("Written summary"),
}

VISA_OUTCOME_LABELS = {"granted": lazy_pgettext("visa outcome", "granted"),
                       "refused": lazy_pgettext("visa outcome", "refused")}

REPORT_STATE_LABELS = {
    "submitted": lazy_pgettext("conference report state", "waiting for review"),
    "accepted": lazy_pgettext("conference report state", "accepted"),
    "returned": lazy_pgettext("conference report state", "sent back"),
}

ACTION_LABELS = {
    "application_created": lazy_pgettext("application action", "Application created"),
    "application_edited": lazy_pgettext("application action", "Application edited"),
    "application_submit": lazy_pgettext("application action", "Submitted"),
    "application_withdraw": lazy_pgettext("application action", "Withdrawn"),
    "application_approve": lazy_pgettext("application action", "Approved"),
    "application_request_changes": lazy_pgettext("application action", "Changes requested"),
    "application_decline": lazy_pgettext("application action", "Declined"),
    "application_cancel": lazy_pgettext("application action", "Cancelled"),
    "application_complete": lazy_pgettext("application action", "Report accepted: completed"),
    "document_added": lazy_pgettext("application action", "Document added"),
    "document_removed": lazy_pgettext("application action", "Document removed"),
    "visa_recorded": lazy_pgettext("application action", "Visa details recorded"),
    "report_submitted": lazy_pgettext("application action", "Report submitted"),
    "report_returned": lazy_pgettext("application action", "Report sent back"),
    "report_reminder_sent": lazy_pgettext("application action", "Report reminder sent"),
}


def audit_labels() -> dict[LabelKey, Any]:
    """The application's states and actions, for ``portal_labels``."""
    return timeline_labels(SUBJECT, states=STATE_LABELS, actions=ACTION_LABELS)
