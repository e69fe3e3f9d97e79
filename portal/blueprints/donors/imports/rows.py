"""One row of the file read into a gift, each problem with it noted in the reader's language."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from ....models import Donor
from ....money import MAX_AMOUNT, AmountError, to_minor
from ....tabular import IMPORT  # what a row can become, as in every import
from .mapping import DATE_FORMAT_NAMES, Mapping
from .parsing import parse_amount, parse_currency, parse_date, parse_method, split_name

EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")

# What is wrong with a row, or why it is skipped: a code and its parameters are kept with the
# import's result, so the report reads in whoever's language opens it later.
MESSAGES = {
    "date_missing": _l("No date."),
    "date_invalid": _l("“%(value)s” is not a date written %(format)s."),
    "date_future": _l("The date %(value)s is in the future."),
    "amount_missing": _l("No amount."),
    "amount_invalid": _l("“%(value)s” is not an amount."),
    "amount_not_positive": _l("%(value)s is not a gift: the amount is zero or negative (a refund?)."),
    "amount_decimals": _l("%(value)s has more decimal places than %(currency)s has."),
    "amount_too_large": _l("%(value)s is far larger than any gift: check the amount."),
    "currency_unknown": _l("“%(value)s” is not a currency the portal takes."),
    "currency_conflict": _l("The amount is in %(amount_currency)s but the currency column says %(currency)s."),
    "method_unknown": _l("“%(value)s” is not a method the portal knows (card, cheque, cash, bank transfer, "
                         "online platform)."),
    "donor_missing": _l("No donor name or e-mail address."),
    "donor_no_name": _l("No donor has the e-mail address %(email)s, and there is no name to add them with."),
    "email_invalid": _l("“%(value)s” is not an e-mail address."),
    "name_too_long": _l("The donor's name is too long."),
    "reference_too_long": _l("The reference is longer than 100 characters."),
    "campaign_too_long": _l("The campaign is longer than 200 characters."),
    "duplicate_recorded": _l("reference already recorded (a gift from %(donor)s received %(day)s)"),
    "duplicate_in_file": _l("reference already on row %(row)d of this file"),
}


def describe(code: str, params: dict[str, Any] | None = None) -> str:
    """A row's problem in the reader's language."""
    params = dict(params or {})
    if "format" in params:
        params["format"] = str(DATE_FORMAT_NAMES.get(params["format"], params["format"]))
    if "day" in params:
        try:
            params["day"] = format_date(dt.date.fromisoformat(params["day"]), "medium")
        except (TypeError, ValueError):
            pass
    template = MESSAGES.get(code)
    return str(template) % params if template is not None else code


@dataclass
class NewDonor:
    """A donor the import will add, shared by every row of theirs in the file."""

    key: int
    title: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    rows: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class Row:
    number: int
    received_on: dt.date | None = None
    amount: int | None = None
    currency: str | None = None
    reference: str | None = None
    name: str | None = None
    email: str | None = None
    method: str | None = None
    campaign: str | None = None
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outcome: str = IMPORT
    donor: Donor | None = None  # the existing donor the gift is from
    matched_by: str | None = None  # "email" or "name"
    new_donor: NewDonor | None = None

    def problem(self, code: str, **params: Any) -> None:
        self.problems.append((code, params))

    @property
    def messages(self) -> list[str]:
        return [describe(code, params) for code, params in self.problems]

    @property
    def donor_label(self) -> str:
        return self.name or self.email or ""


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def parse_row(number: int, cells: list[str], mapping: Mapping, today: dt.date) -> Row:
    """One row's values, each problem noted on it."""
    columns = mapping.columns
    row = Row(number=number)
    _read_date(row, _cell(cells, columns["date"]), mapping.date_format, today)
    _read_amount(row, _cell(cells, columns["amount"]), _cell(cells, columns["currency"]), mapping.default_currency)
    _read_method(row, _cell(cells, columns["method"]), mapping.default_method)
    _read_texts(row, reference=_cell(cells, columns["reference"]), campaign=_cell(cells, columns["campaign"]))
    _read_donor(row, name=_cell(cells, columns["name"]), email=_cell(cells, columns["email"]))
    return row


def _read_date(row: Row, raw: str, date_format: str, today: dt.date) -> None:
    if not raw:
        row.problem("date_missing")
    elif (day := parse_date(raw, date_format)) is None:
        row.problem("date_invalid", value=raw, format=date_format)
    elif day > today:
        row.problem("date_future", value=raw)
    else:
        row.received_on = day


def _read_amount(row: Row, raw: str, raw_currency: str, default_currency: str) -> None:
    """The amount in minor units and its currency: the currency column's, else the one the amount
    names, else the default."""
    column_currency = parse_currency(raw_currency) if raw_currency else None
    if raw_currency and column_currency is None:
        row.problem("currency_unknown", value=raw_currency)
    row.currency = column_currency or default_currency
    if not raw:
        row.problem("amount_missing")
        return
    try:
        amount, negative, named = parse_amount(raw)
    except ValueError:
        row.problem("amount_invalid", value=raw)
        return
    if named and column_currency and named != column_currency:
        row.problem("currency_conflict", amount_currency=named, currency=column_currency)
    elif named and not raw_currency:
        row.currency = named
    if negative or amount <= 0:
        row.problem("amount_not_positive", value=raw)
    elif amount > MAX_AMOUNT:
        row.problem("amount_too_large", value=raw)
    else:
        try:
            row.amount = to_minor(amount, row.currency)
        except AmountError:
            row.problem("amount_decimals", value=raw, currency=row.currency)


def _read_method(row: Row, raw: str, default_method: str) -> None:
    if not raw:
        row.method = default_method
        return
    row.method = parse_method(raw)
    if row.method is None:
        row.problem("method_unknown", value=raw)


def _read_texts(row: Row, *, reference: str, campaign: str) -> None:
    row.reference = reference or None
    if row.reference and len(row.reference) > 100:
        row.problem("reference_too_long")
    row.campaign = campaign or None
    if row.campaign and len(row.campaign) > 200:
        row.problem("campaign_too_long")


def _read_donor(row: Row, *, name: str, email: str) -> None:
    row.name = " ".join(name.split()) or None
    row.email = email or None
    if row.email:
        row.email = row.email.removeprefix("mailto:")
        if not EMAIL.fullmatch(row.email) or len(row.email) > 254:
            row.problem("email_invalid", value=row.email)
    if not row.name and not row.email:
        row.problem("donor_missing")
    if row.name:
        _title, first, last = split_name(row.name)
        if len(row.name) > 200 or len(first or "") > 100 or len(last or "") > 100:
            row.problem("name_too_long")
