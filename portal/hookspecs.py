"""The hooks a portal module implements. Built-in modules use the same hooks as outside ones.

A module is any object or Python module with functions decorated by ``portal.hookimpl``.
Outside modules are found through the entry-point group ``portal.modules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Blueprint, Flask

    from .letters.kinds import LetterKind
    from .modules import DashboardCard, NavEntry

hookspec = pluggy.HookspecMarker("portal")
hookimpl = pluggy.HookimplMarker("portal")


@hookspec
def portal_blueprints() -> list[Blueprint]:
    """Return the Flask blueprints this module serves.

    Each blueprint's name is the module's name; its URL prefix is its own business.
    Every view must declare who may open it with ``portal.permissions.allow``.
    """


@hookspec
def portal_init_app(app: Flask) -> None:
    """Set the module up on the app once its blueprints are registered.

    For CLI commands (``app.cli.add_command``), template filters, signal handlers.
    """


@hookspec
def portal_navigation(user: Any) -> list[NavEntry]:
    """Return the navigation entries this module offers ``user`` (possibly anonymous).

    Called on every page render; answer from the user's roles, not the database.
    Entries are ``portal.modules.NavEntry`` and are sorted by their ``order``.
    """


@hookspec
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    """Return the cards this module puts on the signed-in ``user``'s dashboard.

    A card is ``portal.modules.DashboardCard``: a title, a line of text, a link and
    optionally a count; keep each to a cheap query.
    """


@hookspec
def portal_letter_kinds() -> list[LetterKind]:
    """Return the kinds of letter this module offers (``portal.letters.LetterKind``).

    Each kind names its template, how to load its subject, the facts it certifies (plain
    values), what is missing before it can be issued, and who may download and revoke it.
    The core numbers, renders, records and verifies every letter the same way.
    """
