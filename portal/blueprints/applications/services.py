"""The application's rules: its state machine and every change, each one transaction with
its audit entry and its e-mail to the doctor.

    draft → submitted → approved | changes_requested | declined
    changes_requested → submitted           (the doctor edits and resubmits)
    draft | submitted | changes_requested → withdrawn   (by the doctor)
    approved → cancelled                     (by staff; the committed amounts are released)
    approved → completed                     (once the post-conference report is accepted)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from ... import audit, storage
from ...duties import ensure_not_beneficiary
from ...extensions import db
from ...mail import queue_mail
from ...models import (
    BUDGET_CATEGORIES,
    Application,
    ApplicationComment,
    ApplicationDocument,
    BudgetLine,
    Conference,
    ConferenceReport,
    User,
)
from ...models.types import utcnow
from ...money import to_base_minor
from ...urls import external_url

# action: (states it may start from, state it leads to)
TRANSITIONS = {
    "submit": ({"draft", "changes_requested"}, "submitted"),
    "withdraw": ({"draft", "submitted", "changes_requested"}, "withdrawn"),
    "approve": ({"submitted"}, "approved"),
    "request_changes": ({"submitted"}, "changes_requested"),
    "decline": ({"submitted"}, "declined"),
    "cancel": ({"approved"}, "cancelled"),
    "complete": ({"approved"}, "completed"),
}
EDITABLE_STATES = {"draft", "changes_requested"}
# States whose approved amounts the programme has promised to pay.
COMMITTED_STATES = ("approved", "completed")
REPORT_GRACE_DAYS = 14

Lines = dict[str, tuple[int, str]]  # category → (amount in minor units, currency)


class IllegalTransition(Exception):
    """The application is not in a state that allows this; nothing was changed."""

    def __init__(self, application: Application, action: str) -> None:
        self.message = _l("This application is “%(state)s”, so that is no longer possible.",
                          state=audit.state_label(application.status))
        super().__init__(f"{action} from {application.status}")


class OwnApplication(IllegalTransition):
    """The person deciding is the one the application is for; nothing was changed."""

    def __init__(self, message: Any) -> None:
        # A refusal of this kind, so every view that says why a transition failed says this too,
        # but it is about who decides, not about the state.
        self.message = message
        Exception.__init__(self, str(message))


def _ensure_not_beneficiary(application: Application, by: User) -> None:
    ensure_not_beneficiary(application, by, OwnApplication,
                           _l("This is your own application: another member of staff must decide it."))


class DecisionConflict(Exception):
    """Someone else changed the application first (optimistic locking)."""

    def __init__(self, application: Application) -> None:
        who = application.decided_by.name if application.decided_by else _l("someone else")
        self.message = _l("This application was already decided by %(name)s. Reload to see the decision.",
                          name=who)
        super().__init__(str(self.message))


class Incomplete(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _check(application: Application, action: str, version: int | None) -> str:
    allowed_from, to_state = TRANSITIONS[action]
    if version is not None and version != application.version:
        raise DecisionConflict(application)
    if application.status not in allowed_from:
        raise IllegalTransition(application, action)
    return to_state


def _move(application: Application, action: str, *, by: User, version: int | None = None,
          note: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Check, change the state, audit and e-mail the doctor; the caller commits."""
    to_state = _check(application, action, version)
    from_state = application.status
    application.status = to_state
    audit.record(f"application_{action}", application, actor=by, from_state=from_state, to_state=to_state,
                 note=note, details=details)
    queue_mail(application.doctor, "application_status", application=application, state=to_state, note=note,
               link=external_url("applications.detail", application_id=application.id))


F = TypeVar("F", bound=Callable[..., Any])


def guarded(change: F) -> F:
    """A change that another writer overtook (the version moved under us, found at any
    flush or at commit) is rolled back whole and becomes a DecisionConflict."""

    @wraps(change)
    def run(application: Application, *args: Any, **kwargs: Any) -> Any:
        try:
            return change(application, *args, **kwargs)
        except StaleDataError:
            db.session.rollback()
            db.session.refresh(application)
            raise DecisionConflict(application) from None

    return run  # type: ignore[return-value]


def _set_requested(application: Application, lines: Lines) -> None:
    for category in BUDGET_CATEGORIES:
        line = application.budget_line(category)
        if category in lines:
            amount, currency = lines[category]
            if line is None:
                line = BudgetLine(category=category)
                application.budget_lines.append(line)
            line.requested_amount, line.requested_currency = amount, currency
        elif line is not None:
            application.budget_lines.remove(line)


@guarded
def save_draft(application: Application | None, values: dict[str, Any], lines: Lines, *, by: User) -> Application:
    """Create or edit the doctor's application (while it is a draft or sent back for changes)."""
    if application is not None and application.status not in EDITABLE_STATES:
        raise IllegalTransition(application, "edit")
    created = application is None
    if application is None:
        application = Application(status="draft", beneficiary_id=by.id)
        db.session.add(application)
    for key, value in values.items():
        setattr(application, key, value)
    if not application.visa_needed:
        application.visa_country = application.visa_city = None
    _set_requested(application, lines)
    db.session.flush()
    audit.record("application_created" if created else "application_edited", application, actor=by,
                 to_state=application.status if created else None)
    db.session.commit()
    return application


@guarded
def submit(application: Application, *, by: User) -> None:
    _check(application, "submit", None)
    if not any(line.requested_amount > 0 for line in application.budget_lines):
        raise Incomplete(_l("Ask for at least one amount before you submit."))
    application.submitted_at = utcnow()
    _move(application, "submit", by=by)
    db.session.commit()


@guarded
def withdraw(application: Application, *, by: User) -> None:
    _move(application, "withdraw", by=by)
    db.session.commit()


def _decide(application: Application, action: str, *, by: User, version: int | None, note: str | None = None,
            details: dict[str, Any] | None = None) -> None:
    _move(application, action, by=by, version=version, note=note, details=details)
    application.decided_at = utcnow()
    application.decided_by_id = by.id
    if note:
        application.comments.append(ApplicationComment(author_id=by.id, author_name=by.name, body=note))
    db.session.commit()


@guarded
def approve(application: Application, amounts: Lines, *, by: User, version: int | None) -> None:
    """Approve with an amount per requested category (prefilled with the request)."""
    _ensure_not_beneficiary(application, by)
    _check(application, "approve", version)
    for line in application.budget_lines:
        amount, currency = amounts.get(line.category, (0, line.requested_currency))
        line.approved_amount, line.approved_currency = amount, currency
    _decide(application, "approve", by=by, version=version,
            details={"approved": {c: list(v) for c, v in sorted(amounts.items())}})


@guarded
def request_changes(application: Application, comment: str, *, by: User, version: int | None) -> None:
    _ensure_not_beneficiary(application, by)
    _decide(application, "request_changes", by=by, version=version, note=comment)


@guarded
def decline(application: Application, reason: str, *, by: User, version: int | None) -> None:
    _ensure_not_beneficiary(application, by)
    _decide(application, "decline", by=by, version=version, note=reason)


@guarded
def cancel(application: Application, reason: str, *, by: User, version: int | None) -> None:
    """Cancel an approved application; its approved amounts stop counting as committed."""
    _ensure_not_beneficiary(application, by)
    _decide(application, "cancel", by=by, version=version, note=reason)


def add_comment(application: Application, body: str, *, internal: bool, by: User) -> ApplicationComment:
    comment = ApplicationComment(author_id=by.id, author_name=by.name, body=body, internal=internal)
    application.comments.append(comment)
    if not internal and by.id != application.beneficiary_id:
        queue_mail(application.doctor, "application_comment", application=application, comment=body,
                   link=external_url("applications.detail", application_id=application.id))
    db.session.commit()
    return comment


def add_document(application: Application, kind: str, upload: FileStorage | None, *, by: User) -> ApplicationDocument:
    if application.status not in EDITABLE_STATES | {"submitted"}:
        raise IllegalTransition(application, "add_document")
    stored = storage.store_upload(upload, by=by)
    document = ApplicationDocument(kind=kind, file=stored)
    application.documents.append(document)
    db.session.flush()
    audit.record("document_added", application, actor=by, details={"kind": kind, "file": stored.original_name})
    db.session.commit()
    return document


def remove_document(application: Application, document: ApplicationDocument, *, by: User) -> None:
    if application.status not in EDITABLE_STATES:
        raise IllegalTransition(application, "remove_document")
    stored = document.file
    application.documents.remove(document)
    db.session.delete(stored)
    audit.record("document_removed", application, actor=by,
                 details={"kind": document.kind, "file": stored.original_name})
    db.session.commit()
    storage.discard(stored)


def record_visa(application: Application, appointment_on: dt.date | None, outcome: str | None, *, by: User) -> None:
    if application.status not in COMMITTED_STATES or not application.visa_needed:
        raise IllegalTransition(application, "record_visa")
    application.visa_appointment_on = appointment_on
    application.visa_outcome = outcome
    audit.record("visa_recorded", application, actor=by,
                 details={"appointment_on": appointment_on.isoformat() if appointment_on else None,
                          "outcome": outcome})
    if outcome:
        queue_mail(application.doctor, "visa_recorded", application=application, outcome=outcome)
    db.session.commit()


def report_due(application: Application, today: dt.date | None = None) -> bool:
    """The report can be written once the conference is over."""
    return application.status == "approved" and application.conference.end_date < (today or dt.date.today())


def submit_report(application: Application, values: dict[str, Any], certificate: FileStorage | None, *,
                  by: User) -> ConferenceReport:
    if not report_due(application) or (application.report and application.report.status == "accepted"):
        raise IllegalTransition(application, "report")
    report = application.report or ConferenceReport(application=application)
    for key, value in values.items():
        setattr(report, key, value)
    if certificate is not None and certificate.filename:
        report.certificate = storage.store_upload(certificate, by=by)
    if report.certificate is None:
        raise Incomplete(_l("Upload your certificate of attendance."))
    report.status = "submitted"
    report.submitted_at = utcnow()
    db.session.add(report)
    audit.record("report_submitted", application, actor=by)
    queue_mail(application.doctor, "report_received", application=application)
    db.session.commit()
    return report


@guarded
def accept_report(application: Application, *, by: User, version: int | None) -> None:
    _ensure_not_beneficiary(application, by)
    report = application.report
    if report is None or report.status != "submitted":
        raise IllegalTransition(application, "accept_report")
    report.status, report.decided_at = "accepted", utcnow()
    _decide(application, "complete", by=by, version=version)


def return_report(application: Application, comment: str, *, by: User) -> None:
    _ensure_not_beneficiary(application, by)
    report = application.report
    if application.status != "approved" or report is None or report.status != "submitted":
        raise IllegalTransition(application, "return_report")
    report.status, report.staff_comment, report.decided_at = "returned", comment, utcnow()
    application.comments.append(ApplicationComment(author_id=by.id, author_name=by.name, body=comment))
    audit.record("report_returned", application, actor=by, note=comment)
    queue_mail(application.doctor, "report_returned", application=application, comment=comment,
               link=external_url("applications.report", application_id=application.id))
    db.session.commit()


def overdue_reports(today: dt.date) -> list[Application]:
    """Approved applications whose conference ended over two weeks ago with no report in."""
    cutoff = today - dt.timedelta(days=REPORT_GRACE_DAYS)
    no_report_in = ~Application.report.has(ConferenceReport.status.in_(("submitted", "accepted")))
    return list(db.session.scalars(
        select(Application).join(Application.conference)
        .where(Application.status == "approved", Conference.end_date < cutoff, no_report_in)
        .order_by(Application.id)
    ))


def send_report_reminders(today: dt.date, link_for: Any) -> int:
    """E-mail each overdue report's doctor, at most once a day per application."""
    sent = 0
    for application in overdue_reports(today):
        if application.report_reminded_on == today:
            continue
        application.report_reminded_on = today
        audit.record("report_reminder_sent", application, actor=None)
        queue_mail(application.doctor, "report_reminder", application=application, link=link_for(application))
        sent += 1
    db.session.commit()
    return sent


def committed_in_base(rates: dict[str, Any]) -> int:
    """What approved (and completed) applications have committed, in base minor units."""
    rows = db.session.execute(
        select(BudgetLine.approved_amount, BudgetLine.approved_currency)
        .join(Application, Application.id == BudgetLine.funded_item_id)
        .where(Application.status.in_(COMMITTED_STATES), BudgetLine.approved_amount.is_not(None))
    ).all()
    return sum(to_base_minor(amount, currency, rates) or 0 for amount, currency in rows)


def count_waiting() -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(Application.status == "submitted"))
