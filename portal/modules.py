"""The module system: a pluggy plugin manager per app.

Built-in modules (``DEFAULT_MODULES``) register exactly like outside ones, which come from
the entry-point group ``portal.modules``. The ``MODULES`` setting names the ones to run;
a module that is not running registers no route, menu entry or card.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app

from . import hookspecs
from .hookspecs import DashboardCard, NavEntry

ENTRY_POINT_GROUP = "portal.modules"
CORE = "core"

DEFAULT_MODULES = {
    "applications": "portal.blueprints.applications",
    "expenses": "portal.blueprints.expenses",
    "expert_visits": "portal.blueprints.expert_visits",
    "donors": "portal.blueprints.donors",
}


def available_modules() -> dict[str, Any]:
    """Every module that could run: built-ins (imported lazily) and installed plugins."""
    found: dict[str, Any] = dict(DEFAULT_MODULES)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def _load(target: Any) -> Any:
    if isinstance(target, str):
        return importlib.import_module(target)
    if hasattr(target, "load") and hasattr(target, "group"):  # an entry point
        return target.load()
    return target


def build_plugin_manager(app: Flask, core: Any) -> pluggy.PluginManager:
    """Register ``core`` (the core's own hook implementations, always on whatever
    ``MODULES`` says) and the configured modules; ``EXTRA_MODULES`` (name → object) is for
    tests. The core is handed in, so nothing here imports what is built on the modules."""
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    pm.register(core, name=CORE)
    available = available_modules()
    available.update(app.config.get("EXTRA_MODULES") or {})
    wanted = app.config.get("MODULES")
    names = list(available) if wanted is None else list(wanted)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise RuntimeError(f"MODULES names unknown modules: {', '.join(unknown)}")
    for name in names:
        pm.register(_load(available[name]), name=name)
    return pm


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions["portal_modules"]


def running_modules() -> list[str]:
    return [name for name, _ in plugin_manager().list_name_plugin() if name != CORE]


def navigation_for(user: Any) -> list[NavEntry]:
    entries = [e for batch in plugin_manager().hook.portal_navigation(user=user) for e in batch or []]
    return sorted(entries, key=lambda e: (e.order, e.label))


def dashboard_cards_for(user: Any) -> list[DashboardCard]:
    cards = [c for batch in plugin_manager().hook.portal_dashboard_cards(user=user) for c in batch or []]
    return sorted(cards, key=lambda c: (c.order, c.title))
