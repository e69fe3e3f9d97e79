"""The hooks a portal module implements. Built-in modules use the same hooks as outside ones.

A module is any object or Python module with functions decorated by ``portal.hookimpl``.
Outside modules are found through the entry-point group ``portal.modules``.

The values hooks return (``NavEntry``, ``DashboardCard``, ``InboxKind``, ``ImpactFigure``,
``LetterKind``, label keys) are defined here too, so a module needs nothing but this file to
speak to the core, and this file needs nothing of the portal: it imports pluggy and the
standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Blueprint, Flask

hookspec = pluggy.HookspecMarker("portal")
hookimpl = pluggy.HookimplMarker("portal")


# Values the hooks return ------------------------------------------------------------------

@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation; entries are sorted by ``order``, then ``label``."""

    label: str
    endpoint: str
    order: int = 100


@dataclass(frozen=True)
class DashboardCard:
    """A card on the dashboard: a title, a line of text, a link and optionally a count."""

    title: str
    text: str
    endpoint: str
    link_label: str
    count: int | None = None
    order: int = 100


@dataclass(frozen=True)
class InboxItem:
    """One thing waiting for someone: what it is, since when (an aware datetime), where to see
    it, and, when one click settles it, the action's label (``InboxKind.action``) applies to it
    with ``version`` (the record's, so a changed record is refused rather than overwritten)."""

    item_id: int
    title: str
    since: Any
    url: str
    detail: str = ""
    version: int | None = None


@dataclass(frozen=True)
class InboxKind:
    """What waits for a person in one module, of one kind: how many (``count``, the same
    number as the module's dashboard card) and the oldest of them (``items``, at most the
    ``limit`` asked for), with a link to the module's own list of them all. ``action`` is the
    label of the one-click action the inbox offers on each item (``portal_inbox_act`` does it),
    or None where deciding needs the item's page."""

    key: str
    module: str
    area: Any  # the module as people name it ("Donors"), to filter by
    label: Any
    count: int
    items: Sequence[InboxItem]
    list_url: str
    action: Any = None
    order: int = 100


@dataclass(frozen=True)
class ImpactFigure:
    """One measure of what the programme has done (doctors supported, patients consulted …):
    ``total`` over all the years (people counted once however often they went), and the
    breakdown by the calendar year of the events and by partner clinic (its name). ``money``
    figures are minor units of the base currency."""

    key: str
    label: Any
    total: int
    by_year: Mapping[int, int]
    by_clinic: Mapping[str, int]
    money: bool = False
    order: int = 100


@dataclass(frozen=True)
class LetterKind:
    """One kind of letter. The callables receive the subject (an ORM object) and return
    plain values; the template receives only those.

    ``facts(subject)`` returns everything the letter certifies (JSON-ready: strings,
    numbers, lists, dicts); a change in it issues a new letter and supersedes the old.
    It must contain ``holder``, ``event`` and ``dates``: the verification page shows those.
    ``missing(subject)`` lists, in words for the reader, what must be done before the letter
    can be issued (empty when it can).
    """

    key: str
    title: Any
    template: str
    subject_type: str
    load: Callable[[int], Any]
    facts: Callable[[Any], dict[str, Any]]
    missing: Callable[[Any], list[Any]]
    can_download: Callable[[Any, Any], bool]
    can_revoke: Callable[[Any, Any], bool]
    language: str = "en"
    # A kind written in each reader's own language says whose: ``language_of(subject)``.
    language_of: Callable[[Any], str] | None = None
    funded_item_id: Callable[[Any], int | None] = field(default=lambda subject: None)
    holder: Callable[[Any], Any] = field(default=lambda subject: None)  # the User it is for, to e-mail
    # The facts that are personal data kept only for the retention period (passport details):
    # a letter holding them loses its PDF and these facts once its trip or visit is over, and
    # each download of it is logged as a read of passport details.
    personal_facts: tuple[str, ...] = ()
    # What the public verification page shows of the letter and how it names it: (public fact,
    # label) pairs; None for the usual "Issued to", "Event or visit", "Dates".
    public_fields: tuple[tuple[str, Any], ...] | None = None

    def __post_init__(self) -> None:
        # Whatever a module certifies is printed: no invisible or direction-changing characters.
        # (plaintext is a leaf of the import graph: standard library only.)
        from .plaintext import printable_facts

        facts_of = self.facts
        object.__setattr__(self, "facts", lambda subject: printable_facts(facts_of(subject)))

    def language_for(self, subject: Any) -> str:
        return self.language_of(subject) if self.language_of else self.language


# What a label names: (subject type, STATE or ACTION, the state or action as stored).
STATE = "state"
ACTION = "action"
LabelKey = tuple[str, str, str]


def timeline_labels(subject_type: str, *, states: Mapping[str, Any] | None = None,
                    actions: Mapping[str, Any] | None = None) -> dict[LabelKey, Any]:
    """Key one subject type's state and action labels for ``portal_labels``."""
    keyed: dict[LabelKey, Any] = {(subject_type, STATE, key): label for key, label in (states or {}).items()}
    keyed.update({(subject_type, ACTION, key): label for key, label in (actions or {}).items()})
    return keyed


# The hooks -------------------------------------------------------------------------------

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
    Entries are ``NavEntry`` (above) and are sorted by their ``order``.
    """


@hookspec
def portal_dashboard_cards(user: Any) -> list[DashboardCard]:
    """Return the cards this module puts on the signed-in ``user``'s dashboard.

    A card is a ``DashboardCard`` (above): a title, a line of text, a link and
    optionally a count; keep each to a cheap query.
    """


@hookspec
def portal_inbox(user: Any, limit: int) -> list[InboxKind]:
    """Return what awaits ``user`` in this module (``InboxKind``, above): one per kind of work
    the user's roles give them, with its count and its ``limit`` oldest items.

    The staff inbox lists every module's items in one list, oldest first. Keep each kind to a
    count and one query of its oldest items (whatever the data: the inbox page's statement
    count must not grow with it), and let the count be the one the dashboard card shows.
    """


@hookspec(firstresult=True)
def portal_inbox_act(user: Any, kind: str, item_id: int, version: int | None) -> Any:
    """Do the one-click action of this module's inbox ``kind`` on item ``item_id`` as ``user``
    (thank the gift, approve the line …) through the module's own service, and return the
    message to show; return None for a kind that is not this module's. A refusal raises the
    service's ``UserError``; an item that no longer exists raises ``werkzeug`` ``NotFound``.
    """


@hookspec
def portal_impact() -> list[ImpactFigure]:
    """Return what this module's records show the programme has done (``ImpactFigure``, above):
    the trustees' impact page lists every module's figures by year and by partner clinic, and
    the donors' letters quote their totals. A few aggregate queries, whatever the data.
    """


@dataclass
class PersonalData:
    """What one module holds about a person, for their data export: ``records`` by the name of
    the JSON file they go in (a list of plain dicts each), and ``files`` as (path in the ZIP,
    ``StoredFile`` or bytes)."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: list[tuple[str, Any]] = field(default_factory=list)


@hookspec
def portal_personal_data(person: Any) -> PersonalData | None:
    """Return what this module holds about ``person`` (a ``User``, or a ``Donor``): their own
    records and files only, never anyone else's. None if it holds nothing about that kind."""


@hookspec
def portal_conference_changed(conference: Any, fields: list[str], by: Any) -> None:
    """A conference's details changed (``fields``), in the caller's transaction: refresh what
    this module made from them (the letters that certify its dates, with ``letters.refresh_after_commit``)."""


@hookspec
def portal_erasure_blockers(person: Any) -> list[Any]:
    """Return why ``person`` (a ``User`` or ``Donor``) cannot be erased yet, in words for the
    admin (an unpaid claim, a visit in progress …); empty when nothing of this module's is open."""


@hookspec
def portal_erase(person: Any, pseudonym: str) -> list[Any]:
    """Remove ``person``'s personal details from this module's records, in the caller's
    transaction: free text about them replaced by ``pseudonym``, files they uploaded deleted
    (their rows now; return the paths, removed from disk once the erasure commits). Money,
    amounts and states stay as they are."""


@hookspec
def portal_retention_due(settings: Any, now: Any) -> dict[str, Any]:
    """Return this module's own data past its retention period (``settings`` are the
    organisation's, ``now`` a UTC datetime): by kind name, a pair (the ids due, a function that
    removes those ids in the caller's transaction). The nightly purge and ``privacy purge`` run
    them beside the core's."""


@hookspec
def portal_passport_in_use(cutoff: Any) -> Any:
    """Return a SELECT of ``(funded item id, person's user id)`` for this module's trips or
    visits whose passport details are still needed: their event ends on or after ``cutoff``
    (a date: today less the retention period). Passport details of everyone else, and the
    letters of every other funded item, are purged."""


@hookspec
def portal_letter_kinds() -> list[LetterKind]:
    """Return the kinds of letter this module offers (``LetterKind``, above).

    Each kind names its template, how to load its subject, the facts it certifies (plain
    values), what is missing before it can be issued, and who may download and revoke it.
    The core numbers, renders, records and verifies every letter the same way.
    """


@hookspec
def portal_can_access(user: Any, subject: Any) -> bool | None:
    """May ``user`` have ``subject`` — the record a downloaded file belongs to (a document,
    a receipt, a letter …)? Answer ``True`` or ``False`` for the subjects this module owns,
    and ``None`` (or nothing) for any other.

    ``portal.permissions.can_access`` asks every running module: a download is allowed only
    when some module says ``True`` and none says ``False``, so a subject nobody claims is
    refused. Views call it (through ``storage.send_stored``) after their own checks.
    """


@hookspec
def portal_labels() -> Mapping[LabelKey, Any]:
    """Return how this module's states and actions read on pages and timelines.

    Keys are ``(subject type, STATE | ACTION, key)``: the subject type is what the audit
    trail records the subject under (``portal.audit.subject_type_of``: its table name), the
    key is the stored state or action. Values are ``flask_babel.lazy_pgettext(context,
    text)`` with a context naming the subject ("expert visit state"), because one English
    word is often two Russian ones (визит подтверждён, заявка подтверждена).
    ``timeline_labels(subject_type, states=…, actions=…)`` builds the keys. Two modules
    naming the same key is an error.
    """
