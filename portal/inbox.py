"""The staff inbox: what awaits a person in every module, in one list, oldest first.

Each module answers ``portal_inbox(user, limit)`` with its kinds of waiting work (a count and
the oldest ``limit`` items each: two statements a kind, whatever the data), and does a kind's
one-click action in ``portal_inbox_act``. The inbox merges the items of the kinds chosen (by
kind or by module), and shows the oldest ``PER_PAGE``; each kind links to its module's full list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import format_timedelta

from .hookspecs import InboxItem, InboxKind
from .models.types import utcnow
from .modules import plugin_manager

INBOX_ROLES = ("staff", "finance")
PER_PAGE = 50


@dataclass(frozen=True)
class Entry:
    kind: InboxKind
    item: InboxItem

    @property
    def since(self) -> dt.datetime:
        return as_moment(self.item.since)


def as_moment(value: Any) -> dt.datetime:
    """An aware datetime for a date or a datetime (a date is its midnight, UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


def waiting_for(since: dt.datetime) -> str:
    """How long something has waited, in words ("3 days")."""
    return format_timedelta(max(utcnow() - since, dt.timedelta(0)), granularity="minute", threshold=1.5)


def inbox_kinds(user: Any, limit: int = PER_PAGE) -> list[InboxKind]:
    """Every module's kinds of waiting work for ``user``, in their order."""
    kinds = [kind for batch in plugin_manager().hook.portal_inbox(user=user, limit=limit) for kind in batch or []]
    return sorted(kinds, key=lambda kind: (kind.order, kind.key))


def inbox_entries(kinds: list[InboxKind], limit: int = PER_PAGE) -> list[Entry]:
    """The oldest ``limit`` items of these kinds, oldest first."""
    entries = [Entry(k, item) for k in kinds for item in k.items]
    return sorted(entries, key=lambda entry: (entry.since, entry.kind.key, entry.item.item_id))[:limit]


def act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    """Do ``kind``'s one-click action on the item; the message to show, or None if no module
    owns the kind."""
    return plugin_manager().hook.portal_inbox_act(user=user, kind=kind, item_id=item_id, version=version)
