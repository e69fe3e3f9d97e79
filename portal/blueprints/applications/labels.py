"""How the application's states and choices read, in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ... import audit

STATE_LABELS = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "changes_requested": _l("changes requested"),
    "approved": _l("approved"),
    "declined": _l("declined"),
    "withdrawn": _l("withdrawn"),
    "cancelled": _l("cancelled"),
    "completed": _l("completed"),
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

VISA_OUTCOME_LABELS = {"granted": _l("granted"), "refused": _l("refused")}

REPORT_STATE_LABELS = {
    "submitted": _l("waiting for review"),
    "accepted": _l("accepted"),
    "returned": _l("sent back"),
}

for action, label in {
    "application_created": _l("Application created"),
    "application_edited": _l("Application edited"),
    "application_submit": _l("Submitted"),
    "application_withdraw": _l("Withdrawn"),
    "application_approve": _l("Approved"),
    "application_request_changes": _l("Changes requested"),
    "application_decline": _l("Declined"),
    "application_cancel": _l("Cancelled"),
    "application_complete": _l("Report accepted: completed"),
    "document_added": _l("Document added"),
    "document_removed": _l("Document removed"),
    "visa_recorded": _l("Visa details recorded"),
    "report_submitted": _l("Report submitted"),
    "report_returned": _l("Report sent back"),
    "report_reminder_sent": _l("Report reminder sent"),
}.items():
    audit.describe(action, label, STATE_LABELS)
