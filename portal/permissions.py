"""Who may open what: the one place every view and every download is checked.

Each view declares its rule with ``@allow(...)``; ``enforce`` runs before every request
and refuses any endpoint that declared nothing, so a forgotten rule fails closed.
Object-level questions (is this the doctor's own record?) are each module's own, in its
``permissions.py``; file downloads put them through ``can_access``, which asks the module
that owns the subject (the ``portal_can_access`` hook), so an outside module protects its
files the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from .modules import plugin_manager

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"          # anyone, signed in or not
SIGNED_IN = "signed_in"    # any active account
ANONYMOUS = "anonymous"    # only when signed out (register, login)

# Admin does everything staff and finance do.
IMPLIED_ROLES = {"admin": {"staff", "finance"}}


def allow(*rules: str) -> Callable[[F], F]:
    """Declare who may open a view: PUBLIC, SIGNED_IN, ANONYMOUS or role names (any of)."""

    def mark(view: F) -> F:
        view.access_rules = frozenset(rules)  # type: ignore[attr-defined]
        return view

    return mark


def effective_roles(user: Any) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    roles = set(user.roles)
    for role in list(roles):
        roles |= IMPLIED_ROLES.get(role, set())
    return roles


def has_role(user: Any, *roles: str) -> bool:
    return bool(effective_roles(user) & set(roles))


def is_staff(user: Any) -> bool:
    return has_role(user, "staff")


def passes(rules: frozenset[str], user: Any) -> bool:
    if PUBLIC in rules:
        return True
    if ANONYMOUS in rules and not user.is_authenticated:
        return True
    if not user.is_authenticated:
        return False
    if SIGNED_IN in rules:
        return True
    return has_role(user, *rules)


def enforce() -> Any:
    """``before_request``: apply the rule the endpoint declared."""
    if request.endpoint is None:  # 404 and 405 are answered by Flask itself
        return None
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return None
    view = current_app.view_functions.get(request.endpoint)
    rules = getattr(view, "access_rules", None)
    if rules is None:
        current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
        abort(403)
    if passes(rules, current_user):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if rules == {ANONYMOUS}:  # sign-in and registration pages, already signed in
        return redirect(url_for("core.dashboard"))
    abort(403)


def can_access(user: Any, subject: Any) -> bool:
    """May ``user`` have ``subject`` (what a downloaded file belongs to)? Every running module
    is asked (``portal_can_access``); yes only if one module says yes and none says no, so a
    subject that no module claims is refused."""
    if not user or not user.is_authenticated:
        return False
    answers = plugin_manager().hook.portal_can_access(user=user, subject=subject)
    return True in answers and False not in answers
