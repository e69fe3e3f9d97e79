"""Conference-support applications: doctors apply, staff decide, doctors report back.

A built-in module: it reaches the core only through the hooks below and the shared model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from huey import crontab
from sqlalchemy import func, select

from ... import clock
from ...extensions import db
from ...hookspecs import DashboardCard, ImpactFigure, InboxKind, LabelKey, NavEntry, hookimpl
from ...models import Application, Conference
from ...permissions import has_role
from ...tasks import periodic
from ...urls import external_url
from . import permissions

IN_PROGRESS = ("draft", "submitted", "changes_requested", "approved")


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_letter_kinds() -> list[Any]:
    from .letters import visa_support_letter

    return [visa_support_letter()]


@hookimpl
def portal_can_access(user: Any, subject: Any) -> bool | None:
    return permissions.can_access(user, subject)


@hookimpl
def portal_init_app(app: Flask) -> None:
    app.cli.add_command(remind_command)


@hookimpl
def portal_labels() -> dict[LabelKey, Any]:
    from .labels import audit_labels

    return audit_labels()


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    entries = []
    if has_role(user, "doctor"):
        entries.append(NavEntry(_l("My applications"), "applications.index", order=20))
    if has_role(user, "staff"):
        entries.append(NavEntry(_l("Review applications"), "applications.queue", order=21))
    return entries


@hookimpl
def portal_impact() -> list[ImpactFigure]:
    from .impact import impact_figures

    return impact_figures()


@hookimpl
def portal_inbox(user: Any, limit: int) -> list[InboxKind]:
    if not has_role(user, "staff"):
        return []
    from .inbox import inbox_kinds

    return inbox_kinds(limit)


@hookimpl
def portal_inbox_act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    from .inbox import REPORTS, act

    return act(user, item_id, version) if kind == REPORTS and has_role(user, "staff") else None


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    from . import services

    cards = []
    if has_role(user, "doctor"):
        mine = db.session.scalar(select(func.count()).select_from(Application).where(
            Application.beneficiary_id == user.id, Application.status.in_(IN_PROGRESS)))
        cards.append(DashboardCard(
            _l("Conference support"),
            _l("Apply for support to attend a conference, and follow your applications."),
            "applications.index", _l("My applications"), count=mine, order=20,
        ))
    if has_role(user, "staff"):
        cards.append(DashboardCard(
            _l("Applications to review"),
            _l("Submitted applications waiting for a decision."),
            "applications.queue", _l("Open the review queue"), count=services.count_waiting(), order=21,
        ))
    return cards


def _remind(day: dt.date) -> int:
    from . import services

    return services.send_report_reminders(
        day, lambda application: external_url("applications.report", application_id=application.id))


@click.command("remind")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend it is this day (for testing a schedule).")
@with_appcontext
def remind_command(today: dt.datetime | None) -> None:
    """E-mail doctors whose post-conference report is overdue (at most once a day each)."""
    sent = _remind(today.date() if today else clock.today())
    click.echo(f"report reminders sent: {sent}")


@periodic("applications.report_reminders", crontab(hour="8", minute="0"))
def send_report_reminders() -> None:
    """Every morning, in the background: what ``flask remind`` does."""
    _remind(clock.today())


@hookimpl
def portal_passport_in_use(cutoff: Any) -> Any:
    """A trip needs its doctor's passport details until the retention period after the conference."""
    return (select(Application.id, Application.beneficiary_id)
            .join(Conference, Conference.id == Application.conference_id).where(Conference.end_date >= cutoff))


@hookimpl
def portal_personal_data(person: Any) -> Any:
    from .privacy import personal_data

    return personal_data(person)


@hookimpl
def portal_erasure_blockers(person: Any) -> list[Any]:
    from ...models import User

    if not isinstance(person, User):
        return []
    waiting = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.beneficiary_id == person.id, Application.status.in_(("submitted", "changes_requested")))) or 0
    return [_l("an application is awaiting a decision")] if waiting else []


@hookimpl
def portal_erase(person: Any, pseudonym: str) -> list[Any]:
    from ...models import User
    from .privacy import erase

    return erase(person, pseudonym) if isinstance(person, User) else []


@hookimpl
def portal_conference_changed(conference: Any, fields: list[str], by: Any) -> None:
    """The visa letters of the conference's funded applications certify its name, place and dates."""
    from ...letters.service import refresh_after_commit

    ids = list(db.session.scalars(select(Application.id).where(Application.conference_id == conference.id,
                                                               Application.is_funded())))
    refresh_after_commit("visa_support", ids, by=by)
