"""Who may open what: the one place every view and every download is checked.

Each view declares its rule with ``@allow(...)``; ``enforce`` runs before every request
and refuses any endpoint that declared nothing, so a forgotten rule fails closed.
Object-level questions (is this the doctor's own record?) belong here too, as ``can_*``
functions that views and file downloads both call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

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


def can_see_application(user: Any, application: Any) -> bool:
    """The doctor sees their own; staff see every application once it is submitted."""
    if application.beneficiary_id == user.id:
        return True
    return is_staff(user) and application.status != "draft"


def can_change_application(user: Any, application: Any) -> bool:
    """Only the doctor edits, documents and reports their own application."""
    return application.beneficiary_id == user.id


def can_see_claim(user: Any, claim: Any) -> bool:
    """The claimant sees their own claims; staff and finance see every claim."""
    return claim.claimant_id == user.id or has_role(user, "staff", "finance")


def can_see_visit(user: Any, visit: Any) -> bool:
    """The expert sees their own visits; staff see every visit."""
    return visit.beneficiary_id == user.id or is_staff(user)
