"""What becomes of every row: imported (from which donor), skipped as a duplicate, or an error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from .... import clock
from ....extensions import db
from ....models import Donation, Donor
from ....tabular import DUPLICATE, ERROR, IMPORT, RowOutcomes
from .mapping import Mapping
from .parsing import name_key, split_name
from .reading import Table
from .rows import NewDonor, Row, parse_row

CHUNK = 500  # values per IN (...) query


@dataclass
class Preview(RowOutcomes):
    rows: list[Row]
    new_donors: list[NewDonor]

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.rows:
            if row.outcome == IMPORT and row.amount is not None and row.currency:
                totals[row.currency] = totals.get(row.currency, 0) + row.amount
        return totals

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "imported": self.to_import, "duplicates": self.duplicates,
                "errors": self.errors, "new_donors": len(self.new_donors)}


# --- Looking up what the database already holds ------------------------------------------

def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def recorded_references(references: Iterable[str]) -> dict[str, Donation]:
    """The recorded donations with these references, by reference."""
    found: dict[str, Donation] = {}
    for chunk in _chunks(sorted(set(references))):
        for donation in db.session.scalars(select(Donation).where(Donation.reference.in_(chunk))):
            found[donation.reference or ""] = donation
    return found


def donors_by_email(emails: Iterable[str]) -> dict[str, list[Donor]]:
    """The donors with these e-mail addresses (any case), by lower-cased address."""
    found: dict[str, list[Donor]] = {}
    for chunk in _chunks(sorted({email.lower() for email in emails})):
        for donor in db.session.scalars(select(Donor).where(func.lower(Donor.email).in_(chunk)).order_by(Donor.id)):
            found.setdefault((donor.email or "").lower(), []).append(donor)
    return found


def donors_by_name(keys: Iterable[str]) -> dict[str, list[Donor]]:
    """The donors whose search name is one of these keys, by key."""
    found: dict[str, list[Donor]] = {}
    for chunk in _chunks(sorted(set(keys))):
        for donor in db.session.scalars(select(Donor).where(Donor.search_name.in_(chunk)).order_by(Donor.id)):
            found.setdefault(donor.search_name, []).append(donor)
    return found


# --- Deciding each row -------------------------------------------------------------------

@dataclass
class _Donors:
    """Who each row's gift is from: one known donor by e-mail, else by name, else a donor the
    import adds (one per person, however many rows they have)."""

    by_email: dict[str, list[Donor]]
    by_name: dict[str, list[Donor]]
    new_by_email: dict[str, NewDonor] = field(default_factory=dict)
    new_by_name: dict[str, NewDonor] = field(default_factory=dict)
    new_donors: list[NewDonor] = field(default_factory=list)

    def match(self, row: Row) -> bool:
        """Set the row's donor or new donor; False when the row names nobody to add."""
        email = (row.email or "").lower()
        key = name_key(row.name) if row.name else ""
        if email and len(self.by_email.get(email, [])) == 1:
            row.donor, row.matched_by = self.by_email[email][0], "email"
        elif email and email in self.new_by_email:
            row.new_donor = self.new_by_email[email]
        elif key and len(self.by_name.get(key, [])) == 1:
            row.donor, row.matched_by = self.by_name[key][0], "name"
        elif key and key in self.new_by_name:
            row.new_donor = self.new_by_name[key]
            if email and not row.new_donor.email:
                row.new_donor.email = row.email
                self.new_by_email[email] = row.new_donor
        elif row.name:
            row.new_donor = self._add(row, key, email)
        else:
            return False
        return True

    def _add(self, row: Row, key: str, email: str) -> NewDonor:
        title, first, last = split_name(row.name or "")
        new = NewDonor(key=len(self.new_donors) + 1, title=title, first_name=first, last_name=last, email=row.email)
        self.new_donors.append(new)
        self.new_by_name[key] = new
        if email:
            self.new_by_email[email] = new
        return new


def _is_duplicate(row: Row, recorded: dict[str, Donation], seen: dict[str, int]) -> bool:
    """Mark the row a duplicate if its reference is recorded already or on an earlier row."""
    if not row.reference:
        return False
    if row.reference in recorded:
        earlier = recorded[row.reference]
        row.outcome = DUPLICATE
        row.problem("duplicate_recorded", donor=earlier.donor.display_name, day=earlier.received_on.isoformat())
        return True
    if row.reference in seen:
        row.outcome = DUPLICATE
        row.problem("duplicate_in_file", row=seen[row.reference])
        return True
    return False


def build_preview(table: Table, mapping: Mapping, today: dt.date | None = None) -> Preview:
    """What becomes of every row: imported (from which donor), skipped as a duplicate, or an error."""
    today = today or clock.today()
    rows = [parse_row(number, cells, mapping, today) for number, cells in table.rows]
    usable = [row for row in rows if not row.problems]
    recorded = recorded_references(row.reference for row in usable if row.reference)
    donors = _Donors(by_email=donors_by_email(row.email for row in usable if row.email),
                     by_name=donors_by_name(name_key(row.name) for row in usable if row.name))
    seen: dict[str, int] = {}
    for row in rows:
        if row.problems:
            row.outcome = ERROR
            continue
        if _is_duplicate(row, recorded, seen):
            continue
        if not donors.match(row):
            row.outcome = ERROR
            row.problem("donor_no_name", email=row.email)
            continue
        if row.new_donor is not None:
            row.new_donor.rows.append(row.number)
        if row.reference:
            seen[row.reference] = row.number
    return Preview(rows=rows, new_donors=donors.new_donors)
