"""The core's own navigation, dashboard cards, labels, letters' access and a person's data,
given through the same hooks as modules."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ... import audit
from ...conferences import confirm_conference
from ...extensions import db
from ...hookspecs import DashboardCard, InboxItem, InboxKind, LabelKey, NavEntry, PersonalData, hookimpl
from ...inbox import INBOX_ROLES
from ...letters import letter_kind
from ...models import AuditEvent, Conference, FundedItem, Letter, OutboxMessage, SensitiveRead, User
from ...permissions import has_role, is_staff
from ...personal_data import as_row
from .labels import audit_labels


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if not user.is_authenticated:
        return []
    entries = [NavEntry(_l("Dashboard"), "core.dashboard", order=0),
               NavEntry(_l("Conferences"), "catalogue.conferences", order=60)]
    if has_role(user, *INBOX_ROLES):
        entries.append(NavEntry(_l("Inbox"), "core.inbox", order=1))
    if is_staff(user):
        entries.append(NavEntry(_l("Clinics"), "catalogue.clinics", order=70))
        entries.append(NavEntry(_l("Impact"), "core.impact", order=75))
    if has_role(user, "admin"):
        entries.append(NavEntry(_l("Users"), "admin.users", order=80))
        entries.append(NavEntry(_l("Organisation"), "admin.organisation", order=81))
    return entries


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    cards = []
    if has_role(user, "doctor", "expert") and not user.passport_complete:
        cards.append(DashboardCard(
            _l("Complete your profile"),
            _l("Letters for the consulate are made from your passport details. Add them before you need a letter."),
            "auth.profile", _l("Edit profile"), order=1))
    if is_staff(user):
        waiting = proposals_waiting()
        cards.append(DashboardCard(
            _l("Proposed conferences"), _l("Conferences proposed by doctors wait for your confirmation."),
            "catalogue.conferences", _l("Review the catalogue"), count=waiting, order=60))
    if has_role(user, "admin"):
        cards.append(_backup_card())
    return cards


def _backup_card() -> DashboardCard:
    """How old the last backup is, for the administrators (the health check says the same)."""
    from ...health import last_backup
    from ...models.types import utcnow

    last = last_backup()
    if last is None or last.finished_at is None:
        text = _("No backup has been taken yet.")
    else:
        text = _("Last backup finished %(age)s ago.", age=format_timedelta(utcnow() - last.finished_at,
                                                                          threshold=1.1))
    return DashboardCard(_l("Backups"), text, "core.healthz", _l("Health check"), order=90)


PROPOSALS = "catalogue.proposals"


def proposals_waiting() -> int:
    """Conferences doctors proposed that staff have not confirmed yet."""
    return db.session.scalar(select(func.count()).select_from(Conference).where(Conference.confirmed.is_(False))) or 0


@hookimpl
def portal_inbox(user: Any, limit: int) -> list[InboxKind]:
    if not is_staff(user):
        return []
    oldest = db.session.scalars(select(Conference).where(Conference.confirmed.is_(False))
                                .order_by(Conference.created_at, Conference.id).limit(limit)).all()
    return [InboxKind(
        PROPOSALS, "catalogue", _l("Conferences"), _l("Proposed conferences to confirm"), proposals_waiting(),
        [InboxItem(c.id, c.name, c.created_at, url_for("catalogue.edit_conference", conference_id=c.id),
                   detail=f"{c.city}, {c.start_date.isoformat()}") for c in oldest],
        url_for("catalogue.conferences"), action=_l("Confirm"), order=60)]


@hookimpl
def portal_inbox_act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    if kind != PROPOSALS or not is_staff(user):
        return None
    conference = db.get_or_404(Conference, item_id)
    if not confirm_conference(conference, by=user):
        return _("Conference “%(name)s” was confirmed already.", name=conference.name)
    return _("Conference “%(name)s” confirmed.", name=conference.name)


@hookimpl
def portal_labels() -> dict[LabelKey, Any]:
    return audit_labels()


@hookimpl
def portal_can_access(user: Any, subject: Any) -> bool | None:
    """A letter goes to whoever its kind lets download it (the kind's module decides)."""
    if not isinstance(subject, Letter):
        return None
    kind = letter_kind(subject.kind)
    about = kind.load(subject.subject_id) if kind else None
    return kind is not None and about is not None and kind.can_download(user, about)


@hookimpl
def portal_personal_data(person: Any) -> PersonalData | None:
    """A user's profile, the letters issued to them, the audit trail about them and by them,
    the e-mails sent to them and who read their passport details."""
    if not isinstance(person, User):
        return None
    profile = as_row(person, skip=("password_hash", "session_token"))
    profile["roles"] = sorted(person.roles)
    letters = db.session.scalars(select(Letter).join(FundedItem, FundedItem.id == Letter.funded_item_id)
                                 .where(FundedItem.beneficiary_id == person.id).order_by(Letter.id)).all()
    events = db.session.scalars(select(AuditEvent).where(or_(
        (AuditEvent.subject_type == audit.subject_type_of(person)) & (AuditEvent.subject_id == person.id),
        AuditEvent.actor_id == person.id)).order_by(AuditEvent.id)).all()
    emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == person.email)
                                .order_by(OutboxMessage.id)).all()
    reads = db.session.scalars(select(SensitiveRead).where(SensitiveRead.subject_id == person.id)
                               .order_by(SensitiveRead.id)).all()
    return PersonalData(
        records={"profile": [profile],
                 "letters": [as_row(letter, skip=("token",)) for letter in letters],
                 "audit_events": [as_row(event) for event in events],
                 "emails": [as_row(message) for message in emails],
                 "passport_reads": [{**as_row(read), "reader": read.reader.name if read.reader else None}
                                    for read in reads]},
        files=[(f"letters/{letter.reference}.pdf", letter.pdf) for letter in letters if letter.pdf is not None])
