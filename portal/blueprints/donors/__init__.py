"""Donors, donations, Gift Aid, acknowledgement letters and what each gift made possible.

A built-in module: it reaches the core only through the hooks below and the shared model.
Donors never sign in; staff keep their records here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...hookspecs import DashboardCard, InboxKind, LabelKey, NavEntry, hookimpl
from ...permissions import has_role
from . import permissions
from .permissions import ROLES


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp  # views.py adds the import pages too (import_views.register)

    return [bp]


@hookimpl
def portal_letter_kinds() -> list[Any]:
    from .letters import impact_letter, thanks_letter

    return [thanks_letter(), impact_letter()]


@hookimpl
def portal_can_access(user: Any, subject: Any) -> bool | None:
    return permissions.can_access(user, subject)


@hookimpl
def portal_labels() -> dict[LabelKey, Any]:
    from .labels import audit_labels

    return audit_labels()


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if not has_role(user, *ROLES):
        return []
    return [NavEntry(_l("Donors"), "donors.index", order=50)]


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    if not has_role(user, *ROLES):
        return []
    from .services import THANKS_WITHIN_DAYS, waiting_counts

    pending, overdue = waiting_counts()
    return [DashboardCard(
        _l("Donations awaiting thanks"),
        _l("Gifts not yet acknowledged (%(overdue)d received more than %(days)d days ago).",
           overdue=overdue, days=THANKS_WITHIN_DAYS),
        "donors.donations", _l("Thank donors"), count=pending, order=50,
    )]


@hookimpl
def portal_inbox(user: Any, limit: int) -> list[InboxKind]:
    if not has_role(user, *ROLES):
        return []
    from .inbox import inbox_kinds

    return inbox_kinds(limit)


@hookimpl
def portal_inbox_act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    from .inbox import TO_THANK, act

    return act(user, item_id) if kind == TO_THANK and has_role(user, *ROLES) else None


@hookimpl
def portal_personal_data(person: Any) -> Any:
    from .privacy import personal_data

    return personal_data(person)


@hookimpl
def portal_erase(person: Any, pseudonym: str) -> list[Any]:
    from ...models import Donor
    from .privacy import erase

    if isinstance(person, Donor):
        erase(person, pseudonym)
    return []
