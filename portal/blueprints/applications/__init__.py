"""Conference-support applications: doctors apply, staff decide, doctors report back.

A built-in module: it reaches the core only through the hooks below and the shared model.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...hookspecs import hookimpl
from ...modules import DashboardCard, NavEntry
from ...permissions import has_role

ROLES = ("doctor", "staff")


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if not has_role(user, *ROLES):
        return []
    return [NavEntry(_l("Applications"), "applications.index", order=20)]


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    if not has_role(user, *ROLES):
        return []
    return [DashboardCard(
        _l("Conference support"),
        _l("Apply for conference support and follow the decision."),
        "applications.index", _l("Go to applications"), order=20,
    )]
