"""The import itself: read the file again with the posted mapping and record its good rows,
all in one transaction, or refuse and write nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from .... import audit
from ....errors import UserError
from ....extensions import db
from ....models import Donation, DonationImport, Donor, User
from ....models.types import utcnow
from ....tabular import claim_upload
from ....transactions import transaction
from .mapping import Mapping
from .preview import Preview, build_preview
from .reading import read_table
from .rows import IMPORT, NewDonor, Row

RECENT_IMPORTS = 10


class ImportRefused(UserError):
    """The import did not happen; nothing was written. ``preview`` is what the file holds now."""

    def __init__(self, preview: Preview | None = None) -> None:
        super().__init__(*self.explain(preview))
        self.preview = preview

    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        """(message, field) for the person who pressed Import."""
        return _l("Nothing was imported."), None


class AlreadyImported(ImportRefused):
    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return _l("This file has been imported already: nothing was imported again."), None


class NeedsConfirmation(ImportRefused):
    """Some rows have errors and nobody confirmed they are to be left out."""

    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return ngettext(
            "%(num)d row has an error, so nothing was imported. Correct the file and upload it again, "
            "or tick this box to import the other rows without it.",
            "%(num)d rows have errors, so nothing was imported. Correct the file and upload it again, "
            "or tick this box to import the other rows without them.", preview.errors if preview else 0), \
            "skip_errors"


class ConfirmationOutdated(ImportRefused):
    """The box was ticked for a different number of rows with errors than there are now."""

    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return ngettext(
            "Nothing was imported: with these columns %(num)d row has an error. Check the preview below and "
            "tick the box again.",
            "Nothing was imported: with these columns %(num)d rows have errors. Check the preview below and "
            "tick the box again.", preview.errors if preview else 0), "skip_errors"


class FileRemoved(ImportRefused):
    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return _l("The file was removed after the retention period before anyone imported it: upload it again."), None


class NothingToImport(ImportRefused):
    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return _l("Nothing to import: every row is a duplicate or has an error."), None


class ImportFailed(ImportRefused):
    """The database refused the import (a reference recorded meanwhile): all rolled back."""

    def explain(self, preview: Preview | None) -> tuple[Any, str | None]:
        return _l("Nothing was imported: the database refused one of the gifts, most likely because "
                  "someone recorded a gift with the same reference meanwhile. The preview below is "
                  "up to date: check it and import again."), None


def _new_donor(new: NewDonor) -> Donor:
    donor = Donor(kind="individual", title=new.title, first_name=new.first_name, last_name=new.last_name,
                  email=new.email, contact_preference="email" if new.email else "post", language="en",
                  country="GB")
    donor.refresh_search_name()
    return donor


def _skipped(row: Row) -> dict[str, Any]:
    return {"row": row.number, "outcome": row.outcome, "message": " ".join(row.messages),
            "problems": [{"code": code, "params": params} for code, params in row.problems],
            "reference": row.reference, "name": row.donor_label}


def _check(preview: Preview, *, skip_errors: bool, confirmed_errors: int | None) -> None:
    """Refuse a preview whose rows with errors nobody agreed to leave out, or that imports nothing."""
    if preview.errors and not skip_errors:
        raise NeedsConfirmation(preview)
    if preview.errors and confirmed_errors != preview.errors:
        raise ConfirmationOutdated(preview)
    if not preview.to_import:
        raise NothingToImport(preview)


@transaction
def import_donations(upload: DonationImport, mapping: Mapping, *, skip_errors: bool, confirmed_errors: int | None,
                     by: User) -> dict[str, Any]:
    """Read the file again and import its good rows, all in one transaction."""
    try:
        if not claim_upload(upload):
            raise AlreadyImported()
        if upload.purged_at is not None:
            raise FileRemoved()
        table = read_table(upload.content)
        preview = build_preview(table, mapping)
        _check(preview, skip_errors=skip_errors, confirmed_errors=confirmed_errors)
        donors = {new.key: _new_donor(new) for new in preview.new_donors}
        db.session.add_all(donors.values())
        donations = []
        for row in preview.rows:
            if row.outcome != IMPORT:
                continue
            donor = row.donor if row.donor is not None else donors[row.new_donor.key]  # type: ignore[union-attr]
            donation = Donation(donor=donor, amount=row.amount, currency=row.currency, received_on=row.received_on,
                                method=row.method, reference=row.reference, restricted=mapping.restricted,
                                campaign=row.campaign, import_id=upload.id, created_by_id=by.id)
            donations.append((row, donation))
        db.session.add_all(donation for _row, donation in donations)
        db.session.flush()
        for donor in donors.values():
            audit.record("donor_added", donor, actor=by, details={"import": upload.id})
        for row, donation in donations:
            audit.record("donation_recorded", donation, actor=by, to_state="pending",
                         details={"amount": donation.amount, "currency": donation.currency,
                                  "donor": donation.donor_id, "import": upload.id, "row": row.number})
        counts = preview.counts()
        upload.imported_at = utcnow()
        upload.mapping = mapping.as_json(table)
        result = {
            **counts, "imported_by": by.name, "imported_by_id": by.id,
            "skipped": [_skipped(row) for row in preview.rows if row.outcome != IMPORT],
            "donors_created": [{"id": donors[new.key].id, "name": new.name, "email": new.email, "rows": new.rows}
                               for new in preview.new_donors],
        }
        upload.result = result
        audit.record("donations_imported", upload, actor=by, details=counts)
        db.session.flush()  # a refusal by the database shows here, before @transaction commits
        return result
    except IntegrityError as exc:
        current_app.logger.warning("a donation import was rolled back: %s", exc.orig)
        raise ImportFailed() from exc


# --- What the pages show -----------------------------------------------------------------

def recent_imports() -> list[DonationImport]:
    """The latest uploads, newest first, without their content."""
    return list(db.session.scalars(
        select(DonationImport).options(defer(DonationImport.content), selectinload(DonationImport.uploaded_by))
        .order_by(DonationImport.id.desc()).limit(RECENT_IMPORTS)))


def imported_donations(upload: DonationImport, limit: int) -> list[Donation]:
    """The first ``limit`` donations an upload recorded, in the order they were recorded."""
    return list(db.session.scalars(
        select(Donation).where(Donation.import_id == upload.id).order_by(Donation.id).limit(limit)))


def imported_count(upload: DonationImport) -> int:
    """How many donations an upload recorded."""
    return db.session.scalar(
        select(func.count()).select_from(Donation).where(Donation.import_id == upload.id)) or 0
