"""Visits of international specialists to partner clinics in Moscow.

A built-in module: it reaches the core only through the hooks below and the shared model.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...hookspecs import hookimpl
from ...modules import DashboardCard, NavEntry
from ...permissions import has_role

ROLES = ("expert", "staff")


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if not has_role(user, *ROLES):
        return []
    return [NavEntry(_l("Expert visits"), "expert_visits.index", order=40)]


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    if not has_role(user, *ROLES):
        return []
    return [DashboardCard(
        _l("Expert visits"),
        _l("Visits of international specialists to partner clinics."),
        "expert_visits.index", _l("Go to expert visits"), order=40,
    )]
