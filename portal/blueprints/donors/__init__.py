"""Donors, donations, Gift Aid and acknowledgement letters.

A built-in module: it reaches the core only through the hooks below and the shared model.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...hookspecs import hookimpl
from ...modules import DashboardCard, NavEntry
from ...permissions import has_role

ROLES = ("staff",)


@hookimpl
def portal_blueprints() -> list[Blueprint]:
    from .views import bp

    return [bp]


@hookimpl
def portal_navigation(user: Any) -> list[NavEntry]:
    if not has_role(user, *ROLES):
        return []
    return [NavEntry(_l("Donors"), "donors.index", order=50)]


@hookimpl
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    if not has_role(user, *ROLES):
        return []
    return [DashboardCard(
        _l("Donors"),
        _l("Record donations and send acknowledgements."),
        "donors.index", _l("Go to donors"), order=50,
    )]
