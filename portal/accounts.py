"""Accounts as several parts of the portal need them: signed one-time links (password reset,
invitation) and inviting someone who has no account yet. The sign-in pages (``blueprints.auth``)
and modules (an expert invited to a visit) both use these."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from . import audit
from .extensions import db
from .mail import queue_mail
from .models import User
from .urls import external_url

INVITATION_MAX_AGE = 7 * 24 * 3600


def link_serializer(salt: str = "password-reset") -> URLSafeTimedSerializer:
    """Signs and reads the portal's e-mailed links; each purpose has its own ``salt``."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    # Changes with the password, so a link works once.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def password_reset_token(user: User, salt: str = "password-reset") -> str:
    """A one-time link's token for ``user``: it stops working once the password changes."""
    return link_serializer(salt).dumps({"u": user.id, "f": _password_fingerprint(user)})


def user_for_reset_token(token: str, salt: str = "password-reset", max_age: int | None = None) -> User | None:
    """The account a one-time link is for; None once used (the password changed) or expired."""
    try:
        payload: dict[str, Any] = link_serializer(salt).loads(
            token, max_age=max_age or current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except BadSignature:
        return None
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.active or payload.get("f") != _password_fingerprint(user):
        return None
    return user


def invite(name: str, email: str, role: str, *, by: User) -> User:
    """Create an account with ``role`` for someone staff invite (an expert) and e-mail a
    one-time link, valid for seven days, to choose a password. An existing account comes back
    as it is, its roles untouched (only an administrator grants a role); it is sent the link
    again if it has no password yet."""
    user = User.by_email(email)
    if user is None:
        user = User(name=name, email=email.lower(), password_hash=None, preferred_language="en")
        user.set_roles({role})
        db.session.add(user)
        audit.record("account_invited", user, actor=by, to_state="active", details={"role": role})
    db.session.flush()
    if not user.password_hash:
        link = external_url("auth.accept_invitation", token=password_reset_token(user, "invitation"))
        queue_mail(user, "invitation", link=link, days=INVITATION_MAX_AGE // 86400, inviter=by.name)
    return user


def user_for_invitation(token: str) -> User | None:
    """The invited account an invitation link is for, within seven days."""
    return user_for_reset_token(token, "invitation", INVITATION_MAX_AGE)
