"""Personal data over its life: how long it is kept (admins set it under *Organisation*; the
privacy page states it), the purge that removes it once that time has passed, and the log of
who read passport details.

The purge runs every night (``privacy.purge``) and from ``flask --app portal privacy purge
[--dry-run]``. It removes:

- the passport number, date of birth and passport expiry from a profile once no trip or visit
  needs them (every module answers ``portal_passport_in_use``: the trips and visits whose event
  ends within the retention period) and they were entered longer ago than that period;
- from each letter whose trip or visit is over, its PDF and its personal facts (the kind's
  ``personal_facts``), keeping the reference, SHA-256, public facts and status, so that the
  verification page still answers;
- the content of import files (donations, history) older than their retention period, keeping
  what became of each row.

Each removal is an audit entry naming what was removed, never the values. A second run removes
nothing more. On SQLite the database deletes securely (``PRAGMA secure_delete``), and the
write-ahead log is emptied after a purge, so the removed bytes are nowhere in the files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import or_, select, text, union

from . import audit, clock
from .extensions import db
from .letters import letter_kind, organisation
from .models import RETAINED_PASSPORT_FIELDS, DonationImport, HistoryImport, Letter, User
from .models.types import utcnow
from .modules import plugin_manager
from .tasks import periodic
from .transactions import transaction

CHUNK = 200
KIND_NAMES = {"passport_details": "profiles' passport details", "letters": "letters' PDFs and passport facts",
              "donation_files": "donation import files", "history_files": "history import files"}


def passport_cutoff(today: dt.date | None = None) -> dt.date:
    """Events that ended before this day no longer need passport details."""
    return (today or clock.today()) - dt.timedelta(days=organisation().passport_retention_days)


def _in_use(cutoff: dt.date) -> Any:
    """(funded item id, user id) of every trip or visit that still needs passport details."""
    selects = [query for query in plugin_manager().hook.portal_passport_in_use(cutoff=cutoff) if query is not None]
    return union(*selects).subquery() if selects else None


def _users_due(now: dt.datetime, cutoff: dt.date) -> Any:
    entered_before = now - dt.timedelta(days=organisation().passport_retention_days)
    query = select(User.id).where(
        or_(*(getattr(User, name).is_not(None) for name in RETAINED_PASSPORT_FIELDS)),
        or_(User.passport_updated_at.is_(None), User.passport_updated_at < entered_before))
    in_use = _in_use(cutoff)
    if in_use is not None:
        query = query.where(User.id.not_in(select(in_use.c[1])))
    return query.order_by(User.id)


def _letters_due(cutoff: dt.date) -> Any:
    query = select(Letter.id).where(Letter.purged_at.is_(None), Letter.kind.in_(_personal_kinds()),
                                    Letter.funded_item_id.is_not(None))
    in_use = _in_use(cutoff)
    if in_use is not None:
        query = query.where(Letter.funded_item_id.not_in(select(in_use.c[0])))
    return query.order_by(Letter.id)


def _personal_kinds() -> list[str]:
    from .letters.kinds import letter_kinds

    return [key for key, kind in letter_kinds().items() if kind.personal_facts]


def _files_due(model: Any, now: dt.datetime) -> Any:
    before = now - dt.timedelta(days=organisation().upload_retention_days)
    return select(model.id).where(model.purged_at.is_(None), model.uploaded_at < before).order_by(model.id)


def _ids(query: Any) -> list[int]:
    return list(db.session.scalars(query))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def due(today: dt.date | None = None) -> dict[str, list[int]]:
    """What a purge would remove now, by kind: the ids of the profiles, letters and files."""
    now, cutoff = utcnow(), passport_cutoff(today)
    return {"passport_details": _ids(_users_due(now, cutoff)), "letters": _ids(_letters_due(cutoff)),
            "donation_files": _ids(_files_due(DonationImport, now)),
            "history_files": _ids(_files_due(HistoryImport, now))}


def _purge_profiles(ids: list[int], now: dt.datetime) -> None:
    for user in db.session.scalars(select(User).where(User.id.in_(ids))):
        fields = [name for name in RETAINED_PASSPORT_FIELDS if getattr(user, name) is not None]
        for name in RETAINED_PASSPORT_FIELDS:
            setattr(user, name, None)
        user.passport_purged_at = now
        audit.record("passport_purged", user, actor=None, details={"fields": fields})


def _purge_letters(ids: list[int], now: dt.datetime) -> None:
    for letter in db.session.scalars(select(Letter).where(Letter.id.in_(ids))):
        kind = letter_kind(letter.kind)
        personal = kind.personal_facts if kind else ()
        letter.facts = {key: value for key, value in (letter.facts or {}).items() if key not in personal}
        letter.pdf = None
        letter.purged_at = now
        audit.record("letter_purged", letter, actor=None, details={"facts": list(personal), "pdf": True})


def _purge_files(model: Any, ids: list[int], now: dt.datetime) -> None:
    for upload in db.session.scalars(select(model).where(model.id.in_(ids))):
        upload.content = b"" if model is HistoryImport else ""
        upload.purged_at = now
        audit.record("import_file_purged", upload, actor=None, details={"filename": upload.filename})


def purge(today: dt.date | None = None) -> dict[str, int]:
    """Remove what has outlived its retention period, a chunk per transaction; how many of each kind."""
    found, now = due(today), utcnow()
    steps = {"passport_details": _purge_profiles, "letters": _purge_letters,
             "donation_files": lambda ids, at: _purge_files(DonationImport, ids, at),
             "history_files": lambda ids, at: _purge_files(HistoryImport, ids, at)}
    for kind, ids in found.items():
        for chunk in _chunks(ids):
            with transaction():
                steps[kind](chunk, now)
    if any(found.values()):
        _empty_the_write_ahead_log()
    return {kind: len(ids) for kind, ids in found.items()}


def _empty_the_write_ahead_log() -> None:
    """SQLite keeps old page images in the -wal file until a checkpoint: write them back (the
    deleted bytes already zeroed by secure_delete) and truncate the log."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


@periodic("privacy.purge", crontab(hour="3", minute="17"))
def nightly_purge() -> None:
    counts = purge()
    if any(counts.values()):
        current_app.logger.info("privacy purge: %s", counts)
