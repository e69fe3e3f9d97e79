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
from collections.abc import Callable, Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload
from werkzeug.datastructures import FileStorage

from ... import audit, clock, conferences, storage
from ...duties import ensure_not_beneficiary
from ...errors import Conflict, Invalid, UserError
from ...extensions import db
from ...mail import queue_mail
from ...models import (
    BUDGET_CATEGORIES,
    Application,
    ApplicationComment,
    ApplicationDocument,
    BudgetLine,
    Clinic,
    Conference,
    ConferenceReport,
    FundedItem,
    User,
)
from ...models.types import utcnow
from ...money import to_base_minor
from ...pagination import SeekPage, seek_page
from ...search import matches_any
from ...transactions import CONFLICT_MESSAGE, transaction
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
WITHDRAWABLE_STATES = TRANSITIONS["withdraw"][0]
REPORT_GRACE_DAYS = 14

Lines = dict[str, tuple[int, str]]  # category → (amount in minor units, currency)


class IllegalTransition(UserError):
    """The application is not in a state that allows this; nothing was changed."""

    def __init__(self, application: Application, action: str) -> None:
        super().__init__(_l("This application is “%(state)s”, so that is no longer possible.",
                            state=audit.state_label(application, application.status)))
        self.action = action


class OwnApplication(IllegalTransition):
    """The person deciding is the one the application is for; nothing was changed."""

    def __init__(self, message: Any) -> None:
        # A refusal of this kind, so every view that says why a transition failed says this too,
        # but it is about who decides, not about the state.
        UserError.__init__(self, message)


def _ensure_not_beneficiary(application: Application, by: User) -> None:
    ensure_not_beneficiary(application, by, OwnApplication,
                           _l("This is your own application: another member of staff must decide it."))


class DecisionConflict(Conflict):
    """Someone else changed the application first (optimistic locking)."""

    def __init__(self, application: Application) -> None:
        who = application.decided_by.name if application.decided_by else _l("someone else")
        super().__init__(_l("This application was already decided by %(name)s. Reload to see the decision.",
                            name=who))


class Incomplete(Invalid):
    """Something the application or its report still needs before it can go on."""


def _overtaken(application: Application | None, *args: Any, **kwargs: Any) -> UserError:
    """Another writer changed the application first (its version moved, found at a flush or
    at commit): say who decided, as the page will show after a reload."""
    return DecisionConflict(application) if application is not None else Conflict(CONFLICT_MESSAGE)


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


@transaction(conflict=_overtaken)
def save_draft(application: Application | None, values: dict[str, Any], lines: Lines, *, by: User,
               new_conference: dict[str, Any] | None = None,
               document: tuple[str, FileStorage] | None = None) -> Application:
    """Create or edit the doctor's application (while it is a draft or sent back for changes).
    With ``new_conference``, the doctor proposes that conference and applies for it; with
    ``document`` (kind, upload), it is attached: all in this one transaction, so a refused upload
    or draft leaves nothing behind."""
    if application is not None and application.status not in EDITABLE_STATES:
        raise IllegalTransition(application, "edit")
    if new_conference is not None:
        conference = conferences.save_conference(None, new_conference, by=by)  # joins this transaction
        db.session.flush()
        values = {**values, "conference_id": conference.id}
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
    if document is not None:
        add_document(application, *document, by=by)
    return application


@transaction(conflict=_overtaken)
def submit(application: Application, *, by: User) -> None:
    """Send the application to staff; it needs at least one amount asked for."""
    _check(application, "submit", None)
    if not any(line.requested_amount > 0 for line in application.budget_lines):
        raise Incomplete(_l("Ask for at least one amount before you submit."))
    application.submitted_at = utcnow()
    _move(application, "submit", by=by)


@transaction(conflict=_overtaken)
def withdraw(application: Application, *, by: User) -> None:
    """The doctor takes back an application not yet decided."""
    _move(application, "withdraw", by=by)


def _decide(application: Application, action: str, *, by: User, version: int | None, note: str | None = None,
            details: dict[str, Any] | None = None) -> None:
    _move(application, action, by=by, version=version, note=note, details=details)
    application.decided_at = utcnow()
    application.decided_by_id = by.id
    if note:
        application.comments.append(ApplicationComment(author_id=by.id, author_name=by.name, body=note))


@transaction(conflict=_overtaken)
def approve(application: Application, amounts: Lines, *, by: User, version: int | None,
            confirm_conference: bool = False) -> None:
    """Approve with an amount per requested category (prefilled with the request). A conference
    still only proposed is confirmed in the same step when staff say so, else nothing happens."""
    _ensure_not_beneficiary(application, by)
    _check(application, "approve", version)
    if not application.conference.confirmed:
        if not confirm_conference:
            raise Incomplete(_l("The conference is only proposed: check its details and tick the box to confirm "
                                "it with this approval."), "confirm_conference")
        conferences.confirm_conference(application.conference, by=by)
    for line in application.budget_lines:
        amount, currency = amounts.get(line.category, (0, line.requested_currency))
        line.approved_amount, line.approved_currency = amount, currency
    _decide(application, "approve", by=by, version=version,
            details={"approved": {c: list(v) for c, v in sorted(amounts.items())}})


@transaction(conflict=_overtaken)
def request_changes(application: Application, comment: str, *, by: User, version: int | None) -> None:
    """Send the application back to the doctor with what to change."""
    _ensure_not_beneficiary(application, by)
    _decide(application, "request_changes", by=by, version=version, note=comment)


@transaction(conflict=_overtaken)
def decline(application: Application, reason: str, *, by: User, version: int | None) -> None:
    """Decline the application, giving the doctor the reason."""
    _ensure_not_beneficiary(application, by)
    _decide(application, "decline", by=by, version=version, note=reason)


@transaction(conflict=_overtaken)
def cancel(application: Application, reason: str, *, by: User, version: int | None) -> None:
    """Cancel an approved application; its approved amounts stop counting as committed."""
    _ensure_not_beneficiary(application, by)
    _decide(application, "cancel", by=by, version=version, note=reason)


@transaction
def add_comment(application: Application, body: str, *, internal: bool, by: User) -> ApplicationComment:
    """A comment on the application (e-mailed to the doctor), or a note only staff see."""
    comment = ApplicationComment(author_id=by.id, author_name=by.name, body=body, internal=internal)
    application.comments.append(comment)
    if not internal and by.id != application.beneficiary_id:
        queue_mail(application.doctor, "application_comment", application=application, comment=body,
                   link=external_url("applications.detail", application_id=application.id))
    return comment


@transaction
def add_document(application: Application, kind: str, upload: FileStorage | None, *, by: User) -> ApplicationDocument:
    """Attach a checked upload to an application the doctor may still change."""
    if application.status not in EDITABLE_STATES | {"submitted"}:
        raise IllegalTransition(application, "add_document")
    stored = storage.store_upload(upload, by=by, field="file")
    document = ApplicationDocument(kind=kind, file=stored)
    application.documents.append(document)
    db.session.flush()
    audit.record("document_added", application, actor=by, details={"kind": kind, "file": stored.original_name})
    return document


def remove_document(application: Application, document: ApplicationDocument, *, by: User) -> None:
    """Remove a document while the application is editable; its file goes once that is committed."""
    with transaction():
        if application.status not in EDITABLE_STATES:
            raise IllegalTransition(application, "remove_document")
        stored = document.file
        application.documents.remove(document)
        db.session.delete(stored)
        audit.record("document_removed", application, actor=by,
                     details={"kind": document.kind, "file": stored.original_name})
    storage.discard(stored)


@transaction
def record_visa(application: Application, appointment_on: dt.date | None, outcome: str | None, *, by: User) -> None:
    """Record the doctor's visa appointment and its outcome (the outcome is e-mailed to them)."""
    if not application.is_funded() or not application.visa_needed:
        raise IllegalTransition(application, "record_visa")
    application.visa_appointment_on = appointment_on
    application.visa_outcome = outcome
    audit.record("visa_recorded", application, actor=by,
                 details={"appointment_on": appointment_on.isoformat() if appointment_on else None,
                          "outcome": outcome})
    if outcome:
        queue_mail(application.doctor, "visa_recorded", application=application, outcome=outcome)


def report_due(application: Application, today: dt.date | None = None) -> bool:
    """The report can be written once the conference is over."""
    return application.status == "approved" and application.conference.end_date < (today or clock.today())


@transaction
def submit_report(application: Application, values: dict[str, Any], certificate: FileStorage | None, *,
                  by: User) -> ConferenceReport:
    """The doctor's post-conference report, with the certificate of attendance."""
    if not report_due(application) or (application.report and application.report.status == "accepted"):
        raise IllegalTransition(application, "report")
    report = application.report or ConferenceReport(application=application)
    for key, value in values.items():
        setattr(report, key, value)
    if certificate is not None and certificate.filename:
        report.certificate = storage.store_upload(certificate, by=by, field="certificate")
    if report.certificate is None:
        raise Incomplete(_l("Upload your certificate of attendance."), "certificate")
    report.status = "submitted"
    report.submitted_at = utcnow()
    db.session.add(report)
    audit.record("report_submitted", application, actor=by)
    queue_mail(application.doctor, "report_received", application=application)
    return report


@transaction(conflict=_overtaken)
def accept_report(application: Application, *, by: User, version: int | None) -> None:
    """Accept the submitted report: the application is completed."""
    _ensure_not_beneficiary(application, by)
    report = application.report
    if report is None or report.status != "submitted":
        raise IllegalTransition(application, "accept_report")
    report.status, report.decided_at = "accepted", utcnow()
    _decide(application, "complete", by=by, version=version)


@transaction
def return_report(application: Application, comment: str, *, by: User) -> None:
    """Send the report back to the doctor with a comment."""
    _ensure_not_beneficiary(application, by)
    report = application.report
    if application.status != "approved" or report is None or report.status != "submitted":
        raise IllegalTransition(application, "return_report")
    report.status, report.staff_comment, report.decided_at = "returned", comment, utcnow()
    application.comments.append(ApplicationComment(author_id=by.id, author_name=by.name, body=comment))
    audit.record("report_returned", application, actor=by, note=comment)
    queue_mail(application.doctor, "report_returned", application=application, comment=comment,
               link=external_url("applications.report", application_id=application.id))


def overdue_reports_query(today: dt.date) -> Select[Any]:
    """Approved applications whose conference ended over two weeks ago with no report in (the
    conference joined)."""
    cutoff = today - dt.timedelta(days=REPORT_GRACE_DAYS)
    no_report_in = ~Application.report.has(ConferenceReport.status.in_(("submitted", "accepted")))
    return (select(Application).join(Application.conference)
            .where(Application.status == "approved", Conference.end_date < cutoff, no_report_in))


def overdue_reports(today: dt.date) -> list[Application]:
    """``overdue_reports_query``'s applications, in the order they were made."""
    return list(db.session.scalars(overdue_reports_query(today).order_by(Application.id)))


@transaction
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
    return sent


def committed_in_base(rates: dict[str, Any]) -> int:
    """What approved (and completed) applications have committed, in base minor units."""
    rows = db.session.execute(
        select(BudgetLine.approved_amount, BudgetLine.approved_currency)
        .join(Application, Application.id == BudgetLine.funded_item_id)
        .where(Application.is_funded(), BudgetLine.approved_amount.is_not(None))
    ).all()
    return sum(to_base_minor(amount, currency, rates) or 0 for amount, currency in rows
               if amount is not None and currency is not None)


def count_waiting() -> int:
    """Applications waiting for a staff decision."""
    return db.session.scalar(select(func.count()).select_from(Application)
                             .where(Application.status == "submitted")) or 0


# The review queue ---------------------------------------------------------------------------

# How the queue can be ordered: the sort keys (unique: each ends with the id, given the
# doctor's alias the query joins) and whether they run newest first.
QUEUE_SORTS: dict[str, tuple[Callable[[Any], tuple[Any, ...]], bool]] = {
    "oldest": (lambda doctor: (Application.submitted_at, Application.id), False),
    "newest": (lambda doctor: (Application.submitted_at, Application.id), True),
    "conference": (lambda doctor: (Conference.start_date, Application.id), False),
    "doctor": (lambda doctor: (func.lower(doctor.name), Application.id), False),
}


def _queue_from(query: Any, doctor: Any) -> Any:
    """``query`` over the queue's joins: each application's conference, doctor and clinic."""
    return (query.select_from(Application).join(Application.conference)
            .join(doctor, Application.beneficiary_id == doctor.id)
            .outerjoin(Clinic, doctor.clinic_id == Clinic.id))


def queue_page(filters: dict[str, Any], *, per_page: int, after: int | None = None, before: int | None = None,
               number: int = 1) -> SeekPage:
    """One page of the review queue's applications the filters choose: the applications doctors
    have sent (a draft withdrawn unsent never reaches staff), in one statement, budget lines in
    one more, a capped count in a third; a page after the first starts from its neighbour's row."""
    doctor = aliased(User)
    query = _filtered(
        _queue_from(select(Application), doctor)
        # the doctor and clinic from the joins the filters use, not joined a second time
        .options(selectinload(Application.budget_lines),
                 contains_eager(Application.beneficiary.of_type(doctor)).contains_eager(doctor.clinic)),
        filters, doctor)
    keys_of, descending = QUEUE_SORTS[filters["sort"]]
    keys = keys_of(doctor)

    def key_row(application_id: int) -> Any:
        other = aliased(User)  # its own names: the subquery must not correlate with the page's
        return (_queue_from(select(*keys_of(other)), other).where(Application.id == application_id)
                .correlate(None).scalar_subquery())

    return seek_page(query, keys, key_row, descending=descending, per_page=per_page, after=after, before=before,
                     number=number)


QUEUE_COLUMNS = ["application", "status", "doctor", "email", "clinic", "conference", "conference_start",
                 "submitted", "decided"]


def queue_rows(filters: dict[str, Any]) -> Iterator[list[Any]]:
    """The review queue's applications the filters choose, in its order, as export rows (plain
    values streamed from a server-side cursor), a row counting them closing the file."""
    doctor = aliased(User)
    keys_of, descending = QUEUE_SORTS[filters["sort"]]
    order = [key.desc() for key in keys_of(doctor)] if descending else list(keys_of(doctor))
    query = _filtered(_queue_from(select(Application.id, Application.status, doctor.name, doctor.email, Clinic.name,
                                         Conference.name, Conference.start_date, Application.submitted_at,
                                         Application.decided_at), doctor), filters, doctor).order_by(*order)
    count = 0
    rows = db.session.connection().execution_options(stream_results=True).execute(query)
    for batch in rows.partitions(1000):
        for application_id, status, name, email, clinic, conference, start, submitted, decided in batch:
            count += 1
            yield [application_id, status, name, email, clinic or "", conference, start.isoformat(),
                   submitted.isoformat() if submitted else "", decided.isoformat() if decided else ""]
    yield ["total", count]


def _filtered(query: Any, filters: dict[str, Any], doctor: Any) -> Any:
    """``query`` (over ``_queue_from``) narrowed to what the queue's filters choose, among the
    applications doctors have sent (a draft withdrawn unsent never reaches staff)."""
    query = query.where(Application.status != "draft", Application.submitted_at.is_not(None))
    if filters["status"] != "all":
        # The state's rows first, by their index: left to itself PostgreSQL walks the
        # submission-time index from 2011 looking for this week's submissions (94 ms at 100k).
        in_state = (select(FundedItem.id)
                    .where(FundedItem.kind == "application", FundedItem.status == filters["status"])
                    .cte("in_state").prefix_with("MATERIALIZED", dialect="postgresql"))
        query = query.where(Application.id.in_(select(in_state.c.id)))
    if filters["conference_id"]:
        query = query.where(Application.conference_id == filters["conference_id"])
    if filters["clinic_id"]:
        query = query.where(doctor.clinic_id == filters["clinic_id"])
    if filters["date_from"]:
        query = query.where(Conference.start_date >= filters["date_from"])
    if filters["date_to"]:
        query = query.where(Conference.start_date <= filters["date_to"])
    if filters["q"]:
        query = query.where(matches_any([doctor.name, doctor.email, Conference.name, Clinic.name], filters["q"]))
    return query


def queue_conferences(limit: int = 300) -> list[Conference]:
    """The conferences the queue can be filtered by, latest first."""
    return list(db.session.scalars(select(Conference).order_by(Conference.start_date.desc()).limit(limit)))


def clinics() -> list[Clinic]:
    """Every clinic, by name."""
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))
