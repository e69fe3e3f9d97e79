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
  what became of each row;
- data exports a day after they were written.

The same nightly task carries out donors' erasures that waited for HMRC's six years.

Each removal is an audit entry naming what was removed, never the values. A second run removes
nothing more. On SQLite the database deletes securely (``PRAGMA secure_delete``), and the
write-ahead log is emptied after a purge, so the removed bytes are nowhere in the files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import func, or_, select, text, union, update

from . import audit, clock
from .errors import UserError
from .extensions import db
from .letters import letter_kind, organisation
from .models import (
    RETAINED_PASSPORT_FIELDS,
    AuditEvent,
    DataExport,
    Donation,
    DonationImport,
    Donor,
    FundedItem,
    GiftAidDeclaration,
    HistoryImport,
    Letter,
    OutboxMessage,
    User,
)
from .models.types import utcnow
from .modules import plugin_manager
from .tasks import periodic
from .transactions import transaction

CHUNK = 200
GIFT_AID_YEARS = 6  # HMRC may ask about a claim for six years
# What an erased user keeps of their profile: nothing personal (the clinic stays, for the figures).
ERASED_USER_FIELDS = ("specialty", "position", "phone", "passport_full_name", "nationality", "date_of_birth",
                      "passport_number", "passport_expiry", "bank_holder", "bank_iban", "bank_bic", "bank_sort_code",
                      "bank_account_number")
KIND_NAMES = {"passport_details": "profiles' passport details", "letters": "letters' PDFs and passport facts",
              "donation_files": "donation import files", "history_files": "history import files",
              "data_exports": "data exports past their day", "receipts": "receipts past the accounts' years"}


def passport_cutoff(today: dt.date | None = None) -> dt.date:
    """Events that ended before this day no longer need passport details."""
    return (today or clock.today()) - dt.timedelta(days=organisation().passport_retention_days)


def _in_use(cutoff: dt.date) -> Any:
    """(funded item id, user id) of every trip or visit that still needs passport details."""
    selects = [query for query in plugin_manager().hook.portal_passport_in_use(cutoff=cutoff) if query is not None]
    return union(*selects).subquery() if selects else None


def _users_due(now: dt.datetime, in_use: Any) -> Any:
    entered_before = now - dt.timedelta(days=organisation().passport_retention_days)
    query = select(User.id).where(
        or_(*(getattr(User, name).is_not(None) for name in RETAINED_PASSPORT_FIELDS)),
        or_(User.passport_updated_at.is_(None), User.passport_updated_at < entered_before))
    if in_use is not None:
        query = query.where(User.id.not_in(select(in_use.c[1])))
    return query.order_by(User.id)


def _letters_due(in_use: Any) -> Any:
    query = select(Letter.id).where(Letter.purged_at.is_(None), Letter.kind.in_(_personal_kinds()),
                                    Letter.funded_item_id.is_not(None))
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


def _plan(today: dt.date | None) -> tuple[dt.datetime, dict[str, tuple[list[int], Any]]]:
    """Now, and by kind: the ids past their retention period and what removes them (``remove(ids,
    now)``, in the caller's transaction, returning paths to delete once it commits). The modules
    and the trips in use are asked once."""
    now, in_use = utcnow(), _in_use(passport_cutoff(today))
    plan: dict[str, tuple[list[int], Any]] = {
        kind: (list(ids), lambda chunk, at, remove=remove: remove(chunk))
        for batch in plugin_manager().hook.portal_retention_due(settings=organisation(), now=now)
        for kind, (ids, remove) in (batch or {}).items()}
    plan |= {
        "passport_details": (_ids(_users_due(now, in_use)), _purge_profiles),
        "letters": (_ids(_letters_due(in_use)), _purge_letters),
        "donation_files": (_ids(_files_due(DonationImport, now)),
                           lambda chunk, at: _purge_files(DonationImport, chunk, at)),
        "history_files": (_ids(_files_due(HistoryImport, now)),
                          lambda chunk, at: _purge_files(HistoryImport, chunk, at)),
        "data_exports": (_ids(select(DataExport.id).where(DataExport.content.is_not(None),
                                                          DataExport.expires_at < now)), _purge_exports),
    }
    return now, plan


def due(today: dt.date | None = None) -> dict[str, list[int]]:
    """What a purge would remove now, by kind: the ids of the profiles, letters and files."""
    return {kind: ids for kind, (ids, _remove) in _plan(today)[1].items()}


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


def _purge_exports(ids: list[int], now: dt.datetime) -> None:
    db.session.execute(update(DataExport).where(DataExport.id.in_(ids)).values(content=None)
                       .execution_options(synchronize_session=False))


def purge(today: dt.date | None = None) -> dict[str, int]:
    """Remove what has outlived its retention period, a chunk per transaction; how many of each kind."""
    now, plan = _plan(today)
    found = {kind: ids for kind, (ids, _remove) in plan.items()}
    for kind, ids in found.items():
        for chunk in _chunks(ids):
            with transaction():
                paths = plan[kind][1](chunk, now) or []
            for path in paths:  # files go once the rows that named them are gone for good
                path.unlink(missing_ok=True)
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
    counts["erased_donors"] = erase_due_donors()
    if any(counts.values()):
        current_app.logger.info("privacy purge: %s", counts)


# --- Erasure -----------------------------------------------------------------------------

ERASED_REASON = "erased"


class ErasureRefused(UserError):
    """Something of the person's is still open: nothing was erased."""

    status = 409


def pseudonym_for(person: User | Donor) -> str:
    """The stable name an erased person is known by from then on ("Former doctor #123")."""
    if isinstance(person, Donor):
        return f"Former donor #{person.id}"
    role = next((role for role in ("doctor", "expert", "finance", "staff", "admin") if role in person.roles), "user")
    return f"Former {role} #{person.id}"


def erasure_blockers(person: User | Donor, *, by: User | None = None) -> list[str]:
    """Why ``person`` cannot be erased now, in words (empty when they can)."""
    reasons = [str(reason) for batch in plugin_manager().hook.portal_erasure_blockers(person=person)
               for reason in batch or []]
    if isinstance(person, User) and by is not None and person.id == by.id:
        reasons.insert(0, _("you cannot erase your own account"))
    if person.erased_at is not None:
        reasons.insert(0, _("already erased"))
    return reasons


def gift_aid_hold(donor: Donor) -> dt.date | None:
    """The day HMRC can no longer ask about this donor's Gift Aid (6 years after the last gift a
    declaration covers), if that is still to come; None when nothing holds the erasure back."""
    if not db.session.scalar(select(func.count()).select_from(GiftAidDeclaration)
                             .where(GiftAidDeclaration.donor_id == donor.id)):
        return None
    last_gift = db.session.scalar(select(func.max(Donation.received_on)).where(Donation.donor_id == donor.id))
    if last_gift is None:
        return None
    until = last_gift.replace(year=last_gift.year + GIFT_AID_YEARS) if not (
        last_gift.month == 2 and last_gift.day == 29) else dt.date(last_gift.year + GIFT_AID_YEARS, 3, 1)
    return until if until > clock.today() else None


def erase_letter(letter: Letter, pseudonym: str, now: dt.datetime) -> None:
    """Revoke a letter of an erased person ("erased"), and keep nothing of them in it: no PDF,
    no facts, no name on the verification page."""
    if letter.status == "valid":
        letter.status, letter.revoked_reason, letter.revoked_at = "revoked", ERASED_REASON, now
    letter.pdf, letter.facts, letter.purged_at = None, {}, letter.purged_at or now
    letter.public_facts = {**(letter.public_facts or {}), "holder": pseudonym}


def erase_person(person: User | Donor, *, by: User) -> str:
    """Erase ``person`` ("erased"), or, for a donor whose Gift Aid HMRC may still audit, set the
    day it will happen ("scheduled"). Refused with the reasons while something is open."""
    with transaction():
        reasons = erasure_blockers(person, by=by)
        if reasons:
            raise ErasureRefused(_("Cannot erase yet: %(reasons)s.", reasons="; ".join(reasons)))
        if isinstance(person, Donor):
            hold = gift_aid_hold(person)
            if hold is not None:
                person.erasure_due_on = hold
                audit.record("erasure_scheduled", person, actor=by, details={"on": hold.isoformat()})
                return "scheduled"
        paths = _erase(person, by)
    for path in paths:
        path.unlink(missing_ok=True)
    return "erased"


def _erase(person: User | Donor, by: User | None) -> list[Any]:
    now, pseudonym, email = utcnow(), pseudonym_for(person), person.email
    paths = [path for batch in plugin_manager().hook.portal_erase(person=person, pseudonym=pseudonym)
             for path in batch or []]
    if email:
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)):
            message.recipient, message.subject, message.body_text = f"erased-{message.id}@erased.invalid", \
                pseudonym, ""
            if message.status == "pending":
                message.status, message.last_error = "failed", ERASED_REASON
    for export in db.session.scalars(select(DataExport).where(
            DataExport.subject_type == audit.subject_type_of(person), DataExport.subject_id == person.id)):
        export.content = None
    if isinstance(person, User):
        for letter in db.session.scalars(select(Letter).join(FundedItem, FundedItem.id == Letter.funded_item_id)
                                         .where(FundedItem.beneficiary_id == person.id)):
            erase_letter(letter, pseudonym, now)
        for name in ERASED_USER_FIELDS:
            setattr(person, name, None)
        person.name, person.email = pseudonym, f"erased-{person.id}@erased.invalid"
        person.password_hash, person.active = None, False
        person.revoke_sessions()
        db.session.execute(update(AuditEvent).where(AuditEvent.actor_id == person.id)
                           .values(actor_name=pseudonym).execution_options(synchronize_session=False))
    person.erased_at = now
    audit.record("person_erased", person, actor=by, details={"pseudonym": pseudonym})
    return paths


def erase_due_donors(today: dt.date | None = None) -> int:
    """Carry out the erasures that waited for HMRC's six years; how many."""
    due_ids = list(db.session.scalars(select(Donor.id).where(
        Donor.erasure_due_on.is_not(None), Donor.erasure_due_on <= (today or clock.today()),
        Donor.erased_at.is_(None))))
    for donor_id in due_ids:
        with transaction():
            donor = db.session.get(Donor, donor_id)
            if donor is not None and donor.erased_at is None:
                _erase(donor, None)
    return len(due_ids)


def erase_and_report(subject: User | Donor, back: str) -> Any:
    """A view's answer to "erase": erase (or schedule) once the box is ticked, say what
    happened or why not, and go back to ``back``."""
    from flask import flash, redirect, request

    from .responses import current_actor

    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the erasure: it cannot be undone."), "error")
        return redirect(back, code=303)
    try:
        outcome = erase_person(subject, by=current_actor())
    except UserError as refused:
        flash(str(refused.message), "error")
        return redirect(back, code=303)
    if outcome == "scheduled" and isinstance(subject, Donor) and subject.erasure_due_on:
        flash(_("HMRC may still ask about this donor's Gift Aid: their details will be erased on %(day)s.",
                day=format_date(subject.erasure_due_on, "long")), "info")
    else:
        flash(_("Erased: from now on the records name them %(pseudonym)s.", pseudonym=pseudonym_for(subject)),
              "success")
    return redirect(back, code=303)
