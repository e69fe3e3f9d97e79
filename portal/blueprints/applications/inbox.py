"""What the applications module puts in the staff inbox: applications to decide, reports to
accept (in one click), reports overdue, and visa-support letters blocked by details missing
from the doctor's profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from ... import clock
from ...extensions import db
from ...hookspecs import InboxItem, InboxKind
from ...letters import missing_for_staff, profile_incomplete, valid_letter_exists
from ...models import Application, Conference, ConferenceReport, User
from . import services
from .letters import PROFILE_NEEDED

TO_DECIDE, REPORTS, OVERDUE = "applications.to_decide", "applications.reports", "applications.overdue_reports"
LETTERS_BLOCKED = "applications.letters_blocked"


def _item(application: Application, since: Any, detail: str = "") -> InboxItem:
    return InboxItem(application.id, f"{application.doctor.name}: {application.conference.name}", since,
                     url_for("applications.detail", application_id=application.id), detail=detail,
                     version=application.version)


def reports_waiting() -> int:
    """Post-conference reports sent in and waiting for staff to accept or return them."""
    return db.session.scalar(select(func.count()).select_from(ConferenceReport)
                             .where(ConferenceReport.status == "submitted")) or 0


def _letters_blocked(limit: int) -> InboxKind:
    """Funded applications for a conference still to come whose visa-support letter cannot be
    issued because the doctor's profile lacks what it certifies."""
    query = (select(Application).join(Conference, Conference.id == Application.conference_id)
             .join(User, User.id == Application.beneficiary_id)
             .where(Application.is_funded(), Application.visa_needed, Conference.start_date >= clock.today(),
                    profile_incomplete(PROFILE_NEEDED), ~valid_letter_exists("visa_support", Application.id)))
    blocked = db.session.scalars(query.options(contains_eager(Application.conference),
                                               contains_eager(Application.beneficiary))
                                 .order_by(Application.decided_at, Application.id).limit(limit)).all()
    count = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return InboxKind(
        LETTERS_BLOCKED, "applications", _l("Applications"), _l("Visa letters blocked by missing details"), count,
        [_item(a, a.decided_at or a.created_at, _("Missing from the profile: %(fields)s",
                                                 fields=", ".join(missing_for_staff(a.doctor, PROFILE_NEEDED))))
         for a in blocked],
        url_for("applications.queue", status="approved"), order=24)


def inbox_kinds(limit: int) -> list[InboxKind]:
    loads = (joinedload(Application.beneficiary), joinedload(Application.conference))
    waiting = db.session.scalars(select(Application).where(Application.status == "submitted").options(*loads)
                                 .order_by(Application.submitted_at, Application.id).limit(limit)).all()
    reports = db.session.scalars(
        select(Application).join(Application.report).where(ConferenceReport.status == "submitted")
        .options(contains_eager(Application.report), *loads)
        .order_by(ConferenceReport.submitted_at, Application.id).limit(limit)).all()
    overdue_query = services.overdue_reports_query(clock.today())
    overdue = db.session.scalars(overdue_query.options(contains_eager(Application.conference),
                                                       joinedload(Application.beneficiary))
                                 .order_by(Conference.end_date, Application.id).limit(limit)).all()
    overdue_count = db.session.scalar(select(func.count()).select_from(overdue_query.subquery())) or 0
    grace = dt.timedelta(days=services.REPORT_GRACE_DAYS)
    return [
        InboxKind(TO_DECIDE, "applications", _l("Applications"), _l("Applications to decide"),
                  services.count_waiting(), [_item(a, a.submitted_at or a.created_at) for a in waiting],
                  url_for("applications.queue"), order=21),
        InboxKind(REPORTS, "applications", _l("Applications"), _l("Reports to accept"), reports_waiting(),
                  [_item(a, a.report.submitted_at) for a in reports if a.report is not None],
                  url_for("applications.queue", status="approved"), action=_l("Accept"), order=22),
        InboxKind(OVERDUE, "applications", _l("Applications"), _l("Reports overdue"), overdue_count,
                  [_item(a, a.conference.end_date + grace, _("Conference ended on %(date)s",
                                                             date=a.conference.end_date.isoformat()))
                   for a in overdue],
                  url_for("applications.queue", status="approved"), order=23),
        _letters_blocked(limit),
    ]


def act(user: Any, item_id: int, version: int | None) -> str:
    application = db.get_or_404(Application, item_id)
    services.accept_report(application, by=user, version=version)
    return _("Report accepted: %(what)s.", what=f"{application.doctor.name}: {application.conference.name}")
