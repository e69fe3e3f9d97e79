"""Visits of leading international specialists to partner clinics: the programme of
activities, onboarding of new experts, the bilingual invitation letter and outcomes.

A built-in module: it reaches the core only through the hooks below and the shared model.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ... import clock
from ...extensions import db
from ...hookspecs import DashboardCard, ImpactFigure, InboxKind, LabelKey, NavEntry, hookimpl
from ...models import ExpertVisit
from ...permissions import has_role
from . import permissions


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_letter_kinds() -> list[Any]:
    from .letters import invitation_letter

    return [invitation_letter()]


@hookimpl
def portal_can_access(user: Any, subject: Any) -> bool | None:
    return permissions.can_access(user, subject)


@hookimpl
def portal_labels() -> dict[LabelKey, Any]:
    from .labels import audit_labels

    return audit_labels()


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if has_role(user, "staff"):
        return [NavEntry(_l("Expert visits"), "expert_visits.index", order=40)]
    if has_role(user, "expert"):
        return [NavEntry(_l("My visits"), "expert_visits.index", order=40)]
    return []


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
    from .inbox import TO_CONFIRM, act

    return act(user, item_id, version) if kind == TO_CONFIRM and has_role(user, "staff") else None


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    today = clock.today()
    cards = []
    if has_role(user, "staff"):
        upcoming = db.session.scalar(select(func.count()).select_from(ExpertVisit).where(
            ExpertVisit.departure_on >= today, ExpertVisit.status.in_(("planned", "confirmed"))))
        cards.append(DashboardCard(_l("Upcoming visits"), _l("Planned and confirmed expert visits."),
                                   "expert_visits.index", _l("Open expert visits"), count=upcoming, order=40))
    if has_role(user, "expert"):
        mine = db.session.scalar(select(func.count()).select_from(ExpertVisit).where(
            ExpertVisit.beneficiary_id == user.id, ExpertVisit.status.in_(("planned", "confirmed"))))
        cards.append(DashboardCard(_l("Your visit"), _l("Your programme, and the invitation letter once the visit "
                                                        "is confirmed and your passport details are complete."),
                                   "expert_visits.index", _l("Open my visits"), count=mine, order=40))
    return cards


@hookimpl
def portal_passport_in_use(cutoff: Any) -> Any:
    """A visit needs its expert's passport details until the retention period after departure."""
    return select(ExpertVisit.id, ExpertVisit.beneficiary_id).where(ExpertVisit.departure_on >= cutoff)


@hookimpl
def portal_personal_data(person: Any) -> Any:
    from ...hookspecs import PersonalData
    from ...models import AuditEvent, User
    from ...personal_data import as_row

    if not isinstance(person, User):
        return None
    visits = db.session.scalars(select(ExpertVisit).where(ExpertVisit.beneficiary_id == person.id)
                                .order_by(ExpertVisit.id)).all()
    ids = [visit.id for visit in visits]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == ExpertVisit.__tablename__,
                                                         AuditEvent.subject_id.in_(ids))
                                .order_by(AuditEvent.id)).all() if ids else []
    return PersonalData(records={
        "visits": [{**as_row(visit), "host_clinic": visit.host_clinic.name,
                    "activities": [as_row(activity) for activity in visit.activities]} for visit in visits],
        "visits_audit_events": [as_row(event) for event in events]})


@hookimpl
def portal_erasure_blockers(person: Any) -> list[Any]:
    from ...models import User

    if not isinstance(person, User):
        return []
    today = clock.today()
    in_progress = db.session.scalar(select(func.count()).select_from(ExpertVisit).where(
        ExpertVisit.beneficiary_id == person.id, ExpertVisit.status.in_(("planned", "confirmed")),
        ExpertVisit.departure_on >= today)) or 0
    return [_l("a visit is planned or in progress")] if in_progress else []
