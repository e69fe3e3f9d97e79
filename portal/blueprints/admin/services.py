"""Changes an administrator makes to accounts: one transaction, audit entry and e-mail each."""

from __future__ import annotations

from typing import Any

from ... import audit
from ...extensions import db
from ...mail import queue_mail
from ...models import OrganisationSettings, User


class RefusedChange(ValueError):
    """A change that would lock the administrator out of the portal."""


def set_roles(user: User, roles: set[str], *, by: User) -> bool:
    """Give the account exactly ``roles``: the one place a role is granted or taken away,
    recorded on the user's history with the roles before and after."""
    before = user.roles
    if before == roles:
        return False
    if user.id == by.id and "admin" in before and "admin" not in roles:
        raise RefusedChange("own-admin")
    user.set_roles(roles)
    audit.record("roles_changed", user, actor=by, details={
        "added": sorted(roles - before), "removed": sorted(before - roles),
        "before": sorted(before), "after": sorted(roles)})
    queue_mail(user, "roles_changed", roles=sorted(roles))
    db.session.commit()
    return True


def deactivate(user: User, *, by: User) -> None:
    """Switch off ``user``'s account, end their sessions and tell them by e-mail; nobody deactivates themselves."""
    if user.id == by.id:
        raise RefusedChange("self")
    if not user.active:
        return
    user.active = False
    user.revoke_sessions()
    audit.record("account_deactivated", user, actor=by, from_state="active", to_state="inactive")
    queue_mail(user, "account_deactivated")
    db.session.commit()


def reactivate(user: User, *, by: User) -> None:
    """Switch ``user``'s account back on and tell them by e-mail."""
    if user.active:
        return
    user.active = True
    audit.record("account_reactivated", user, actor=by, from_state="inactive", to_state="active")
    queue_mail(user, "account_reactivated")
    db.session.commit()


def update_organisation(settings: OrganisationSettings, values: dict[str, Any],
                        images: dict[str, tuple[bytes, str] | None], *, by: User) -> None:
    """Change the letterhead; ``images`` maps "logo"/"signature" to new (bytes, type) or None to remove."""
    changed = sorted(key for key, value in values.items() if getattr(settings, key) != value)
    for key in changed:
        setattr(settings, key, values[key])
    for name, image in images.items():
        content, content_type = image if image else (None, None)
        setattr(settings, name, content)
        setattr(settings, f"{name}_type", content_type)
        changed.append(name)
    if changed:
        audit.record("organisation_updated", settings, actor=by, details={"fields": changed})
    db.session.commit()
