"""Account rules: each change is one transaction with its audit entry and its e-mail."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import InvalidToken
from flask import current_app
from itsdangerous import BadSignature
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...accounts import link_serializer, password_reset_token
from ...bank import BankDetails, masked
from ...extensions import db
from ...mail import queue_mail
from ...models import RETAINED_PASSPORT_FIELDS, User
from ...models.types import field_cipher, utcnow
from ...urls import external_url


@lru_cache(maxsize=4)
def _hasher_for(params: tuple[tuple[str, Any], ...]) -> PasswordHasher:
    settings: dict[str, Any] = dict(params)
    return PasswordHasher(**settings)


def _hasher() -> PasswordHasher:
    """argon2id; ``PASSWORD_HASH_PARAMS`` may tune it (the defaults are the library's advice)."""
    return _hasher_for(tuple(sorted((current_app.config.get("PASSWORD_HASH_PARAMS") or {}).items())))


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password``."""
    return _hasher().hash(password)


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's; rehashes it when the hash parameters have changed."""
    if not user.password_hash:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def _burn_time(password: str) -> None:
    """Spend as long on an unknown account as on a known one (no probing by timing)."""
    hasher = _hasher()
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except VerificationError:
        pass


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password")


REGISTRATION_MAX_AGE = 24 * 3600


def start_registration(name: str, email: str, password: str, language: str) -> None:
    """E-mail the address a link that creates the account, or — if it already has one — a
    note to its owner. The person registering is told the same either way, so the page
    never reveals who has an account; the password is hashed either way, so neither does
    the time it takes."""
    email = email.strip().lower()
    password_hash = hash_password(password)
    existing = User.by_email(email)
    if existing is not None:
        queue_mail(existing, "registration_existing", login_url=external_url("auth.login"),
                   reset_url=external_url("auth.forgot_password"))
        audit.record("registration_attempted", existing, actor=None)
    else:
        sealed_hash = field_cipher().encrypt(password_hash.encode()).decode()  # never readable from the link
        token = link_serializer("registration").dumps({"n": name, "e": email, "l": language, "p": sealed_hash})
        queue_mail(email, "registration_confirm", language=language, name=name,
                   link=external_url("auth.confirm_registration", token=token), hours=REGISTRATION_MAX_AGE // 3600)
    db.session.commit()


def finish_registration(token: str) -> User | None:
    """Create the doctor's account from an e-mailed link; None if the link is not valid,
    has expired or was used already (the address has an account)."""
    try:
        payload: dict[str, Any] = link_serializer("registration").loads(token, max_age=REGISTRATION_MAX_AGE)
        password_hash = field_cipher().decrypt(payload["p"].encode()).decode()
    except (BadSignature, InvalidToken, KeyError, TypeError, AttributeError):
        return None
    if User.by_email(payload["e"]) is not None:
        return None
    user = User(name=payload["n"], email=payload["e"], password_hash=password_hash,
                preferred_language=payload.get("l") or "en")
    user.set_roles({"doctor"})
    db.session.add(user)
    audit.record("account_registered", user, actor=user, to_state="active")
    queue_mail(user, "welcome", login_url=external_url("auth.login"))
    try:
        db.session.commit()
    except IntegrityError:  # the same link opened twice at once: the first one made it
        db.session.rollback()
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (as slowly for an unknown account)."""
    user = User.by_email(email)
    if user is None or not user.active:
        _burn_time(password)
        return None
    if not password_matches(user, password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Revoke every session of the user: an old cookie no longer finds anyone."""
    user.revoke_sessions()
    db.session.commit()


def request_password_reset(email: str) -> None:
    """E-mail a one-time link if the account exists; say nothing either way."""
    user = User.by_email(email)
    if user is None or not user.active:
        return
    link = external_url("auth.reset_password", token=password_reset_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_mail(user, "password_reset", reset_url=link, minutes=minutes)
    audit.record("password_reset_requested", user, actor=user)
    db.session.commit()


def set_password(user: User, password: str, *, action: str) -> None:
    """Set a new password, sign the user out everywhere, audit it as ``action`` and tell them by e-mail."""
    user.password_hash = hash_password(password)
    user.revoke_sessions()
    audit.record(action, user, actor=user)
    queue_mail(user, "password_changed")
    db.session.commit()


def update_profile(user: User, changes: dict[str, Any], *, by: User) -> list[str]:
    """Apply changed profile fields; the audit entry names the fields, never their values."""
    changes = {name: _blank_to_none(value) for name, value in changes.items()}
    changed = sorted(name for name, value in changes.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, changes[name])
    if set(changed) & set(RETAINED_PASSPORT_FIELDS):  # kept at least the retention period from now
        user.passport_updated_at = utcnow()
    if changed:
        audit.record("profile_updated", user, actor=by, details={"fields": changed})
        db.session.commit()
    return changed


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def update_bank_details(user: User, details: BankDetails, *, by: User) -> bool:
    """Replace the user's bank details (all empty removes them); the audit entry names the
    change, never the numbers, and the owner is told by e-mail in case it was not them."""
    fields = details.as_fields()
    if all(getattr(user, name) == value for name, value in fields.items()):
        return False
    for name, value in fields.items():
        setattr(user, name, value)
    user.bank_updated_at = utcnow()
    removed = details.iban is None and details.account_number is None
    audit.record("bank_details_changed", user, actor=by, details={"removed": removed, "masked": masked(details)})
    queue_mail(user, "bank_details_changed", removed=removed, masked=masked(details))
    db.session.commit()
    return True
