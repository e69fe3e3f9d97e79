"""Importing donations from a bank's or an online platform's CSV export.

Upload the file, say which column holds what (guessed from the header row), preview what
becomes of every row, then import. The import reads the file again with the mapping that
was posted (never trusting the preview): duplicates by reference, against the database and
against earlier rows, are skipped and reported; rows with errors are imported only once
someone confirms they are to be left out; and everything is one transaction, so nothing is
ever half-imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, FileField, SelectChoice, SelectField
from wtforms.validators import DataRequired, ValidationError

from ... import audit
from ...extensions import db, htmx
from ...models import Donation, DonationImport, Donor, User
from ...models.donors import DONATION_METHODS
from ...models.types import utcnow
from ...money import CURRENCIES, MAX_AMOUNT, AmountError, to_minor
from ...permissions import allow
from ..pages import INVALID, form_page
from . import ROLES
from .labels import METHOD_LABELS
from .views import _me, bp

MAX_MB = 2
MAX_BYTES = MAX_MB * 1024 * 1024
DELIMITERS = ",;\t"
PREVIEW_TARGET = "import-preview"
PREVIEW_ROWS = 500  # rows that will be imported shown in the preview; problem rows are always shown
RESULT_DONATIONS = 200
CHUNK = 500  # values per IN (...) query

# What a row can become.
IMPORT, DUPLICATE, ERROR = "import", "duplicate", "error"

# The columns a file can have, in the order the mapping form asks for them.
TARGETS = ("date", "amount", "reference", "name", "email", "currency", "method", "campaign")
REQUIRED_TARGETS = ("date", "amount")
DATE_FORMATS = {
    "dmy": _l("day/month/year (31/12/2026, 31.12.2026, 31-12-2026, 31/12/26)"),
    "ymd": _l("year-month-day (2026-12-31)"),
    "mdy": _l("month/day/year (12/31/2026)"),
}
DATE_FORMAT_NAMES = {"dmy": _l("day/month/year"), "ymd": _l("year-month-day"), "mdy": _l("month/day/year")}

# Header words that suggest a column, most telling first (compared word by word, any case).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "date": ("date", "date received", "received", "transaction date", "payment date", "donation date"),
    "amount": ("amount", "value", "credit", "gross", "paid in", "money in", "donation", "gift"),
    "reference": ("reference", "ref", "transaction id", "donation id", "payment id", "receipt", "transaction"),
    "email": ("email", "email address"),
    "currency": ("currency", "ccy"),
    "method": ("method", "type", "payment method", "payment type"),
    "campaign": ("campaign", "fund", "appeal", "fundraiser"),
    "name": ("name", "donor", "payer", "donor name", "full name", "from"),
}
GUESS_ORDER = ("date", "amount", "reference", "email", "currency", "method", "campaign", "name")

# How a method reads in exports, most specific first (compared word by word, any case).
METHOD_WORDS: tuple[tuple[str, str], ...] = (
    ("online platform", "online_platform"), ("online", "online_platform"), ("justgiving", "online_platform"),
    ("just giving", "online_platform"), ("paypal", "online_platform"), ("gofundme", "online_platform"),
    ("stripe", "online_platform"), ("cafonline", "online_platform"), ("caf online", "online_platform"),
    ("caf", "online_platform"), ("givey", "online_platform"), ("enthuse", "online_platform"),
    ("virgin money giving", "online_platform"), ("donorbox", "online_platform"), ("benevity", "online_platform"),
    ("facebook", "online_platform"), ("localgiving", "online_platform"), ("total giving", "online_platform"),
    ("give as you live", "online_platform"), ("charity checkout", "online_platform"),
    ("charitycheckout", "online_platform"), ("web", "online_platform"), ("website", "online_platform"),
    ("cheque", "cheque"), ("check", "cheque"), ("chq", "cheque"),
    ("cash", "cash"),
    ("card", "card"), ("credit card", "card"), ("debit card", "card"), ("visa", "card"), ("mastercard", "card"),
    ("maestro", "card"), ("amex", "card"), ("american express", "card"), ("contactless", "card"),
    ("bank transfer", "bank_transfer"), ("transfer", "bank_transfer"), ("bacs", "bank_transfer"),
    ("faster payment", "bank_transfer"), ("faster payments", "bank_transfer"), ("fps", "bank_transfer"),
    ("standing order", "bank_transfer"), ("sto", "bank_transfer"), ("so", "bank_transfer"),
    ("direct debit", "bank_transfer"), ("dd", "bank_transfer"), ("chaps", "bank_transfer"),
    ("bgc", "bank_transfer"), ("bank giro credit", "bank_transfer"), ("giro", "bank_transfer"),
    ("tfr", "bank_transfer"), ("sepa", "bank_transfer"), ("wire", "bank_transfer"), ("bank", "bank_transfer"),
)
CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR"}  # "$" names several currencies: it is stripped, never read
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lord", "lady"}
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})")
NAMED_MONTH_DATE = re.compile(r"(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})\.?[\s\-/.,]*(\d{4}|\d{2})")
TIME_OF_DAY = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$")
MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LOOKS_LIKE_DATA = re.compile(r"[-+−(]?[£$€]?\s*\d[\d\s.,/'\-:]*\)?")

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


# --- Reading the file --------------------------------------------------------------------

class CsvProblem(ValueError):
    """A file that cannot be imported at all, in words for the person who uploaded it."""


class ImportRefused(Exception):
    """The import did not happen; nothing was written."""

    def __init__(self, preview: Preview | None = None) -> None:
        super().__init__()
        self.preview = preview


class AlreadyImported(ImportRefused):
    pass


class NeedsConfirmation(ImportRefused):
    """Some rows have errors and nobody confirmed they are to be left out."""


class ConfirmationOutdated(ImportRefused):
    """The box was ticked for a different number of rows with errors than there are now."""


class NothingToImport(ImportRefused):
    pass


class ImportFailed(ImportRefused):
    """The database refused the import (a reference recorded meanwhile): all rolled back."""


def _not_text() -> CsvProblem:
    return CsvProblem(_("This is not a CSV file: it holds binary data. If it is a spreadsheet, save it as CSV "
                        "(comma- or semicolon-separated) and upload that."))


def decode_upload(raw: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark), UTF-16 with its mark, or
    Windows-1252, which older bank software still writes."""
    if not raw.strip():
        raise CsvProblem(_("The file is empty."))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_text() from None
    else:
        if b"\x00" in raw:
            raise _not_text()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise _not_text() from None
    text = text.lstrip("\ufeff").rstrip("\x1a")  # a DOS end-of-file mark is not data
    if CONTROL.search(text):
        raise _not_text()
    if not text.strip():
        raise CsvProblem(_("The file is empty."))
    return text


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rfind("\n") + 1]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter in DELIMITERS and delimiter:
        return delimiter
    first_line = sample.splitlines()[0] if sample.strip() else ""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Table:
    delimiter: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, header = 1; cells)

    @property
    def width(self) -> int:
        return len(self.header)

    def column_label(self, index: int) -> str:
        name = self.header[index] if index < len(self.header) else ""
        if not name or self.header.count(name) > 1:
            return _("Column %(number)d", number=index + 1) + (f": {name}" if name else "")
        return name


def read_table(text: str) -> Table:
    delimiter = sniff_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CsvProblem(_("The file cannot be read as CSV: %(reason)s", reason=str(exc))) from None
    numbered = [(number, [cell.strip() for cell in record]) for number, record in enumerate(records, start=1)
                if any(cell.strip() for cell in record)]
    if not numbered:
        raise CsvProblem(_("The file is empty."))
    header = numbered[0][1]
    while header and not header[-1]:
        header.pop()  # a trailing delimiter names no column
    return Table(delimiter=delimiter, header=header, rows=numbered[1:])


def check_table(table: Table) -> None:
    """Refuse a file the mapping screen could make nothing of."""
    named = [cell for cell in table.header if cell]
    if len(named) < 2:
        raise CsvProblem(_("Only one column was found. The columns must be separated by commas, semicolons or "
                           "tabs, and the first row must name them."))
    if any(LOOKS_LIKE_DATA.fullmatch(cell) or parse_date(cell, "dmy") for cell in named):
        raise CsvProblem(_("The first row must name the columns (for example Date, Amount, Reference, Name), "
                           "but it holds data. Add a header row and upload the file again."))
    if not table.rows:
        raise CsvProblem(_("The file has a header row but no rows of donations."))


# --- Guessing the mapping ----------------------------------------------------------------

def _words(text: str) -> list[str]:
    text = text.lower().replace("e-mail", "email").replace("_", " ")
    return re.findall(r"\w+", text)


def _contains(words: list[str], wanted: list[str]) -> bool:
    size = len(wanted)
    return any(words[i:i + size] == wanted for i in range(len(words) - size + 1))


def guess_columns(header: list[str]) -> dict[str, int | None]:
    """Each target's column from the header's names: exact names first, then names containing
    a keyword; a column serves one target, and a column about a date only the date."""
    words = [_words(name) for name in header]
    chosen: dict[str, int | None] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for target in GUESS_ORDER:
            if target in chosen:
                continue
            for keyword in KEYWORDS[target]:
                wanted = _words(keyword)
                for index, have in enumerate(words):
                    if index in taken or not have or (target != "date" and "date" in have):
                        continue
                    if have == wanted if exact else _contains(have, wanted):
                        chosen[target] = index
                        taken.add(index)
                        break
                if target in chosen:
                    break
    return {target: chosen.get(target) for target in TARGETS}


def guess_mapping(table: Table) -> Mapping:
    columns = guess_columns(table.header)
    default_currency = "GBP"
    if columns["amount"] is not None:
        amount_words = _words(table.header[columns["amount"]])
        named = [word.upper() for word in amount_words if word.upper() in CURRENCIES]
        symbols = [code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in table.header[columns["amount"]]]
        default_currency = (named or symbols or [default_currency])[0]
    date_format = "dmy"
    if columns["date"] is not None:
        date_format = guess_date_format(cells[columns["date"]] for _number, cells in table.rows
                                        if columns["date"] < len(cells))
    return Mapping(columns=columns, date_format=date_format, default_currency=default_currency)


def guess_date_format(values: Iterable[str]) -> str:
    """Day first unless a date only makes sense month first (12/31/2026)."""
    for value in values:
        match = NUMERIC_DATE.fullmatch(TIME_OF_DAY.sub("", value.strip()))
        if not match or len(match[1]) == 4:
            continue
        first, second = int(match[1]), int(match[2])
        if first > 12 >= second:
            return "dmy"
        if second > 12 >= first:
            return "mdy"
    return "dmy"


# --- Reading values ----------------------------------------------------------------------

def parse_date(text: str, date_format: str) -> dt.date | None:
    """A date as the chosen format writes it; ISO dates (2026-12-31) and named months
    (31 Dec 2026) are read whatever the format; a time of day after the date is ignored."""
    value = TIME_OF_DAY.sub("", text.strip()).strip()
    try:
        if match := NUMERIC_DATE.fullmatch(value):
            first, second, third = match.groups()
            if len(first) == 4:
                year, month, day = first, second, third
            elif date_format == "dmy":
                day, month, year = first, second, third
            elif date_format == "mdy":
                month, day, year = first, second, third
            else:
                return None
            if len(year) == 2:
                year = f"20{year}"
            elif len(year) != 4:
                return None
            return dt.date(int(year), int(month), int(day))
        if (match := NAMED_MONTH_DATE.fullmatch(value)) and match[2][:3].lower() in MONTHS:
            year = match[3] if len(match[3]) == 4 else f"20{match[3]}"
            return dt.date(int(year), MONTHS[match[2][:3].lower()], int(match[1]))
    except ValueError:
        return None
    return None


PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
COMMA_DECIMAL = re.compile(r"\d+,\d{2}")
DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")


def parse_amount(text: str) -> tuple[Decimal, bool, str | None]:
    """(amount, negative, currency the cell names) from "£1,234.56", "25,00 EUR", "(10.00)", "-5"…;
    ValueError when it is not an amount."""
    value = text.strip().replace("\u2212", "-")
    negative = False
    if match := re.search(r"\s*\b(CR|DR)$", value, flags=re.IGNORECASE):  # statements mark money in and out
        negative, value = match[1].upper() == "DR", value[:match.start()].strip()
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    code = None
    if match := re.match(r"([A-Za-z]{3})(?![A-Za-z])\s*", value):
        code, value = match[1].upper(), value[match.end():]
    elif match := re.search(r"\s*(?<![A-Za-z])([A-Za-z]{3})$", value):
        code, value = match[1].upper(), value[:match.start()]
    if code is not None and code not in CURRENCIES:
        raise ValueError(text)
    for symbol, symbol_code in (*CURRENCY_SYMBOLS.items(), ("$", None)):
        if symbol in value:
            if symbol_code and code and symbol_code != code:
                raise ValueError(text)
            code = code or symbol_code
            value = value.replace(symbol, "")
    value = re.sub(r"[\s\u00a0\u202f']", "", value)
    if value.startswith("-"):
        negative, value = not negative, value[1:]
    elif value.startswith("+"):
        value = value[1:]
    elif value.endswith("-"):
        negative, value = not negative, value[:-1]
    if PLAIN_NUMBER.fullmatch(value):
        number = value
    elif COMMA_THOUSANDS.fullmatch(value):
        number = value.replace(",", "")
    elif COMMA_DECIMAL.fullmatch(value):
        number = value.replace(",", ".")
    elif DOT_THOUSANDS_COMMA_DECIMAL.fullmatch(value):
        number = value.replace(".", "").replace(",", ".")
    else:
        raise ValueError(text)
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError(text) from None
    return amount, negative, code


def _method_key(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower().replace("_", " "))


def parse_method(text: str) -> str | None:
    """A method from how exports write it; None when it is none the portal knows."""
    words = _method_key(text)
    if not words:
        return None
    labels = [(str(label), key) for key, label in METHOD_LABELS.items()]
    known = [*METHOD_WORDS, *((key.replace("_", " "), key) for key in DONATION_METHODS), *labels]
    for exact in (True, False):
        for phrase, method in known:
            wanted = _method_key(phrase)
            if wanted and (words == wanted if exact else _contains(words, wanted)):
                return method
    return None


def parse_currency(text: str) -> str | None:
    value = text.strip()
    code = CURRENCY_SYMBOLS.get(value, value.upper())
    return code if code in CURRENCIES else None


def split_name(text: str) -> tuple[str | None, str | None, str | None]:
    """(title, first name, last name): "Smith, Jane" and "Mrs Jane Smith" read as Jane Smith;
    a name in capitals only (as banks write them) is given ordinary capitals."""
    name = " ".join(text.split())
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if last and first and " " not in last and len(first.split()) <= 2:
            name = f"{first} {last}"
    if name.isupper():
        name = name.title()
    parts = name.split(" ")
    title = None
    if len(parts) > 2 and parts[0].rstrip(".").lower() in TITLES:
        title, parts = parts[0].rstrip("."), parts[1:]
    if len(parts) == 1:
        return title, None, parts[0] or None
    return title, " ".join(parts[:-1]), parts[-1]


def name_key(text: str) -> str:
    """How a name from the file compares with ``Donor.search_name``."""
    _title, first, last = split_name(text)
    return " ".join(part for part in (first, last) if part).lower()


# --- The preview -------------------------------------------------------------------------

@dataclass
class Mapping:
    columns: dict[str, int | None]
    date_format: str = "dmy"
    default_currency: str = "GBP"
    default_method: str = "bank_transfer"
    restricted: bool = True

    @property
    def complete(self) -> bool:
        """Enough columns chosen to read a gift from each row."""
        columns = self.columns
        return (all(columns.get(target) is not None for target in REQUIRED_TARGETS)
                and (columns.get("name") is not None or columns.get("email") is not None))

    def as_json(self, table: Table) -> dict[str, Any]:
        return {"columns": {target: index for target, index in self.columns.items()},
                "headers": {target: table.header[index] for target, index in self.columns.items()
                            if index is not None and index < table.width},
                "date_format": self.date_format, "default_currency": self.default_currency,
                "default_method": self.default_method, "restricted": self.restricted,
                "delimiter": table.delimiter}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, table: Table) -> Mapping | None:
        """A saved mapping, if it still fits the file."""
        if not data or not isinstance(data.get("columns"), dict):
            return None
        columns: dict[str, int | None] = {}
        for target in TARGETS:
            index = data["columns"].get(target)
            if index is not None and (not isinstance(index, int) or not 0 <= index < table.width):
                return None
            columns[target] = index
        return cls(columns=columns, date_format=data.get("date_format", "dmy"),
                   default_currency=data.get("default_currency", "GBP"),
                   default_method=data.get("default_method", "bank_transfer"),
                   restricted=bool(data.get("restricted", True)))


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


@dataclass
class Preview:
    rows: list[Row]
    new_donors: list[NewDonor]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def to_import(self) -> int:
        return self.count(IMPORT)

    @property
    def duplicates(self) -> int:
        return self.count(DUPLICATE)

    @property
    def errors(self) -> int:
        return self.count(ERROR)

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.rows:
            if row.outcome == IMPORT and row.amount is not None and row.currency:
                totals[row.currency] = totals.get(row.currency, 0) + row.amount
        return totals

    @property
    def shown(self) -> list[Row]:
        """Every row with a problem, and the first rows that will be imported."""
        shown, good = [], 0
        for row in self.rows:
            if row.outcome == IMPORT:
                good += 1
                if good > PREVIEW_ROWS:
                    continue
            shown.append(row)
        return shown

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.shown)

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "imported": self.to_import, "duplicates": self.duplicates,
                "errors": self.errors, "new_donors": len(self.new_donors)}


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def parse_row(number: int, cells: list[str], mapping: Mapping, today: dt.date) -> Row:
    """One row's values, each problem noted on it."""
    columns = mapping.columns
    row = Row(number=number)
    raw_date = _cell(cells, columns["date"])
    if not raw_date:
        row.problem("date_missing")
    elif (day := parse_date(raw_date, mapping.date_format)) is None:
        row.problem("date_invalid", value=raw_date, format=mapping.date_format)
    elif day > today:
        row.problem("date_future", value=raw_date)
    else:
        row.received_on = day

    currency = mapping.default_currency
    raw_currency = _cell(cells, columns["currency"])
    column_currency = None
    if raw_currency:
        column_currency = parse_currency(raw_currency)
        if column_currency is None:
            row.problem("currency_unknown", value=raw_currency)
        else:
            currency = column_currency
    raw_amount = _cell(cells, columns["amount"])
    if not raw_amount:
        row.problem("amount_missing")
    else:
        try:
            amount, negative, named = parse_amount(raw_amount)
        except ValueError:
            row.problem("amount_invalid", value=raw_amount)
        else:
            if named and column_currency and named != column_currency:
                row.problem("currency_conflict", amount_currency=named, currency=column_currency)
            elif named and not raw_currency:
                currency = named
            if negative or amount <= 0:
                row.problem("amount_not_positive", value=raw_amount)
            elif amount > MAX_AMOUNT:
                row.problem("amount_too_large", value=raw_amount)
            else:
                try:
                    row.amount = to_minor(amount, currency)
                except AmountError:
                    row.problem("amount_decimals", value=raw_amount, currency=currency)
    row.currency = currency

    raw_method = _cell(cells, columns["method"])
    if raw_method:
        row.method = parse_method(raw_method)
        if row.method is None:
            row.problem("method_unknown", value=raw_method)
    else:
        row.method = mapping.default_method

    row.reference = _cell(cells, columns["reference"]) or None
    if row.reference and len(row.reference) > 100:
        row.problem("reference_too_long")
    row.campaign = _cell(cells, columns["campaign"]) or None
    if row.campaign and len(row.campaign) > 200:
        row.problem("campaign_too_long")
    row.name = " ".join(_cell(cells, columns["name"]).split()) or None
    row.email = _cell(cells, columns["email"]) or None
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
    return row


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def recorded_references(references: Iterable[str]) -> dict[str, Donation]:
    found: dict[str, Donation] = {}
    for chunk in _chunks(sorted(set(references))):
        for donation in db.session.scalars(select(Donation).where(Donation.reference.in_(chunk))):
            found[donation.reference or ""] = donation
    return found


def donors_by_email(emails: Iterable[str]) -> dict[str, list[Donor]]:
    found: dict[str, list[Donor]] = {}
    for chunk in _chunks(sorted({email.lower() for email in emails})):
        for donor in db.session.scalars(select(Donor).where(func.lower(Donor.email).in_(chunk)).order_by(Donor.id)):
            found.setdefault((donor.email or "").lower(), []).append(donor)
    return found


def donors_by_name(keys: Iterable[str]) -> dict[str, list[Donor]]:
    found: dict[str, list[Donor]] = {}
    for chunk in _chunks(sorted(set(keys))):
        for donor in db.session.scalars(select(Donor).where(Donor.search_name.in_(chunk)).order_by(Donor.id)):
            found.setdefault(donor.search_name, []).append(donor)
    return found


def build_preview(table: Table, mapping: Mapping, today: dt.date | None = None) -> Preview:
    """What becomes of every row: imported (from which donor), skipped as a duplicate, or an error."""
    today = today or dt.date.today()
    rows = [parse_row(number, cells, mapping, today) for number, cells in table.rows]
    usable = [row for row in rows if not row.problems]
    recorded = recorded_references(row.reference for row in usable if row.reference)
    by_email = donors_by_email(row.email for row in usable if row.email)
    by_name = donors_by_name(name_key(row.name) for row in usable if row.name)
    new_by_email: dict[str, NewDonor] = {}
    new_by_name: dict[str, NewDonor] = {}
    new_donors: list[NewDonor] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.problems:
            row.outcome = ERROR
            continue
        if row.reference and row.reference in recorded:
            earlier = recorded[row.reference]
            row.outcome = DUPLICATE
            row.problem("duplicate_recorded", donor=earlier.donor.display_name,
                        day=earlier.received_on.isoformat())
            continue
        if row.reference and row.reference in seen:
            row.outcome = DUPLICATE
            row.problem("duplicate_in_file", row=seen[row.reference])
            continue
        email = (row.email or "").lower()
        key = name_key(row.name) if row.name else ""
        if email and len(by_email.get(email, [])) == 1:
            row.donor, row.matched_by = by_email[email][0], "email"
        elif email and email in new_by_email:
            row.new_donor = new_by_email[email]
        elif key and len(by_name.get(key, [])) == 1:
            row.donor, row.matched_by = by_name[key][0], "name"
        elif key and key in new_by_name:
            row.new_donor = new_by_name[key]
            if email and not row.new_donor.email:
                row.new_donor.email = row.email
                new_by_email[email] = row.new_donor
        elif row.name:
            title, first, last = split_name(row.name)
            row.new_donor = NewDonor(key=len(new_donors) + 1, title=title, first_name=first, last_name=last,
                                     email=row.email)
            new_donors.append(row.new_donor)
            new_by_name[key] = row.new_donor
            if email:
                new_by_email[email] = row.new_donor
        else:
            row.outcome = ERROR
            row.problem("donor_no_name", email=row.email)
            continue
        if row.new_donor is not None:
            row.new_donor.rows.append(row.number)
        if row.reference:
            seen[row.reference] = row.number
    return Preview(rows=rows, new_donors=new_donors)


# --- The import --------------------------------------------------------------------------

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


def import_donations(upload: DonationImport, mapping: Mapping, *, skip_errors: bool, confirmed_errors: int | None,
                     by: User) -> dict[str, Any]:
    """Read the file again and import its good rows, all in one transaction."""
    try:
        # Claim the upload first: a second click (or a colleague) waits here, then finds it imported.
        claimed = db.session.execute(
            update(DonationImport).where(DonationImport.id == upload.id, DonationImport.imported_at.is_(None))
            .values(imported_at=utcnow()).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise AlreadyImported()
        table = read_table(upload.content)
        preview = build_preview(table, mapping)
        if preview.errors and not skip_errors:
            raise NeedsConfirmation(preview)
        if preview.errors and confirmed_errors != preview.errors:
            raise ConfirmationOutdated(preview)
        if not preview.to_import:
            raise NothingToImport(preview)
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
        db.session.commit()
        return result
    except IntegrityError as exc:
        db.session.rollback()
        current_app.logger.warning("a donation import was rolled back: %s", exc.orig)
        raise ImportFailed() from exc
    except BaseException:
        db.session.rollback()
        raise


# --- Forms -------------------------------------------------------------------------------

NOT_IN_FILE = ""


class UploadForm(FlaskForm):
    text = ""  # the file's text, once it passed
    filename = ""
    file = FileField(_l("CSV file"), description=_l(
        "A bank statement or an online platform's export saved as CSV, at most %(size)d MB. "
        "The first row must name the columns.", size=MAX_MB))

    def validate_file(self, field: Any) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            raise ValidationError(_("Choose the CSV file to import."))
        raw = upload.stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValidationError(_("The file is larger than %(size)d MB: split it into smaller files.",
                                    size=MAX_MB))
        try:
            self.text = decode_upload(raw)
            check_table(read_table(self.text))
        except CsvProblem as exc:
            raise ValidationError(str(exc)) from None
        self.filename = re.split(r"[\\/]", upload.filename)[-1][:255] or "upload.csv"


class MappingForm(FlaskForm):
    col_date = SelectField(_l("Date received"), validators=[
        DataRequired(_l("Choose the column that holds the date each gift was received."))])
    date_format = SelectField(_l("Dates are written"), default="dmy",
                              choices=[SelectChoice(key, label) for key, label in DATE_FORMATS.items()],
                              description=_l("Dates like 2026-12-31 or 31 Dec 2026 are read whatever you choose."))
    col_amount = SelectField(_l("Amount"), validators=[DataRequired(_l("Choose the column that holds the amount."))])
    col_currency = SelectField(_l("Currency"), description=_l("Optional: a column with codes such as GBP or EUR."))
    default_currency = SelectField(_l("Currency when the file does not say"), default="GBP",
                                   choices=[SelectChoice(code, code) for code in CURRENCIES])
    col_reference = SelectField(_l("Reference"), description=_l(
        "Recommended: gifts whose reference is already recorded are skipped, so the same file never counts twice."))
    col_name = SelectField(_l("Donor name"), description=_l("Required unless the file has the donor's e-mail "
                                                            "address."))
    col_email = SelectField(_l("Donor e-mail address"), description=_l(
        "Optional: a gift is matched to the donor with this address first, then by name."))
    col_method = SelectField(_l("Method"), description=_l("Optional: words such as card, cheque, BACS or "
                                                          "JustGiving."))
    default_method = SelectField(_l("Method when the file does not say"), default="bank_transfer",
                                 choices=[SelectChoice(key, label) for key, label in METHOD_LABELS.items()])
    col_campaign = SelectField(_l("Campaign"), description=_l("Optional."))
    restricted = BooleanField(_l("Restricted to the Educational Programme"), default=True,
                              description=_l("For every gift imported from this file."))
    skip_errors = BooleanField(_l("Skip the rows with errors"))

    def set_columns(self, table: Table) -> None:
        choices = [SelectChoice(NOT_IN_FILE, _("— not in the file —"))] + [
            SelectChoice(str(index), table.column_label(index)) for index in range(table.width)]
        for target in TARGETS:
            self[f"col_{target}"].choices = choices

    @staticmethod
    def initial(mapping: Mapping) -> dict[str, Any]:
        data: dict[str, Any] = {f"col_{target}": NOT_IN_FILE if index is None else str(index)
                                for target, index in mapping.columns.items()}
        data.update(date_format=mapping.date_format, default_currency=mapping.default_currency,
                    default_method=mapping.default_method, restricted=mapping.restricted)
        return data

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.col_name.data and not self.col_email.data:
            self.col_name.errors.append(_l("Choose the column with the donor's name (or their e-mail address)."))
            valid = False
        used: dict[str, str] = {}
        for target in TARGETS:
            column_field = self[f"col_{target}"]
            if column_field.data and column_field.data in used:
                column_field.errors.append(_l("This column is already chosen for “%(other)s”.",
                                              other=self[used[column_field.data]].label.text))
                valid = False
            elif column_field.data:
                used[column_field.data] = f"col_{target}"
        return valid

    def mapping(self) -> Mapping:
        columns = {target: int(self[f"col_{target}"].data) if self[f"col_{target}"].data else None
                   for target in TARGETS}
        return Mapping(columns=columns, date_format=self.date_format.data, default_currency=self.default_currency.data,
                       default_method=self.default_method.data, restricted=bool(self.restricted.data))


# --- Pages -------------------------------------------------------------------------------

def _recent() -> list[DonationImport]:
    return list(db.session.scalars(
        select(DonationImport).options(defer(DonationImport.content), selectinload(DonationImport.uploaded_by))
        .order_by(DonationImport.id.desc()).limit(10)))


@bp.route("/imports/new", methods=["GET", "POST"])
@allow(*ROLES)
def import_new() -> BaseResponse | tuple[str, int] | str:
    form = UploadForm()
    if form.validate_on_submit():
        upload = DonationImport(filename=form.filename, content=form.text, uploaded_by_id=current_user.id)
        db.session.add(upload)
        db.session.commit()
        return redirect(url_for("donors.import_detail", import_id=upload.id), code=303)
    return form_page("donors/import_new.html", form, recent=_recent())


def _wants_fragment() -> bool:
    return htmx.target == PREVIEW_TARGET


def _mapping_page(upload: DonationImport, table: Table, form: MappingForm, preview: Preview | None,
                  status: int = 200, import_error: str | None = None) -> tuple[str, int]:
    if preview is not None and preview.errors:
        form.skip_errors.label.text = ngettext("Skip the %(num)d row with errors and import the others",
                                               "Skip the %(num)d rows with errors and import the others",
                                               preview.errors)
    template = "donors/import_preview.html" if _wants_fragment() else "donors/import_detail.html"
    return render_template(template, upload=upload, table=table, form=form, preview=preview,
                           import_error=import_error, fragment=_wants_fragment(),
                           sample=table.rows[:5]), status


def _result_page(upload: DonationImport) -> str:
    donations = db.session.scalars(
        select(Donation).where(Donation.import_id == upload.id).order_by(Donation.id).limit(RESULT_DONATIONS)).all()
    count = db.session.scalar(select(func.count()).select_from(Donation).where(Donation.import_id == upload.id)) or 0
    result = upload.result or {}
    skipped = [{**entry, "messages": [describe(p["code"], p.get("params")) for p in entry.get("problems", [])]
                or [entry.get("message", "")]} for entry in result.get("skipped", [])]
    return render_template("donors/import_result.html", upload=upload, result=result, skipped=skipped,
                           donations=donations, donation_count=count, events=audit.timeline(upload))


def _already_imported(upload: DonationImport) -> BaseResponse:
    message = _("This file has been imported already: nothing was imported again.")
    target = url_for("donors.import_detail", import_id=upload.id)
    flash(message, "info")
    if htmx:
        response = Response(status=200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


@bp.route("/imports/<int:import_id>", methods=["GET", "POST"])
@allow(*ROLES)
def import_detail(import_id: int) -> BaseResponse | tuple[str, int] | str:
    upload = db.get_or_404(DonationImport, import_id)
    if upload.imported_at is not None:
        return _already_imported(upload) if request.method == "POST" else _result_page(upload)
    try:
        table = read_table(upload.content)
    except CsvProblem:
        abort(404)  # the upload checked it; nothing else writes it
    if request.method == "GET":
        mapping = Mapping.from_json(upload.mapping, table) or guess_mapping(table)
        form = MappingForm(formdata=None, data=MappingForm.initial(mapping))
        form.set_columns(table)
        return _mapping_page(upload, table, form, build_preview(table, mapping) if mapping.complete else None)

    form = MappingForm()
    form.set_columns(table)
    if not form.validate_on_submit():
        return _mapping_page(upload, table, form, None, INVALID)
    mapping = form.mapping()
    if request.form.get("action") != "import" or _wants_fragment():
        upload.mapping = mapping.as_json(table)  # the next visit starts from this choice
        db.session.commit()
        return _mapping_page(upload, table, form, build_preview(table, mapping))

    try:
        confirmed = int(request.form.get("error_count", ""))
    except ValueError:
        confirmed = None
    try:
        result = import_donations(upload, mapping, skip_errors=bool(form.skip_errors.data),
                                  confirmed_errors=confirmed, by=_me())
    except AlreadyImported:
        return _already_imported(db.get_or_404(DonationImport, import_id))
    except ImportRefused as refused:
        upload = db.get_or_404(DonationImport, import_id)
        preview = refused.preview or build_preview(table, mapping)
        import_error = None
        if isinstance(refused, NeedsConfirmation):
            form.skip_errors.errors.append(ngettext(
                "%(num)d row has an error, so nothing was imported. Correct the file and upload it again, "
                "or tick this box to import the other rows without it.",
                "%(num)d rows have errors, so nothing was imported. Correct the file and upload it again, "
                "or tick this box to import the other rows without them.", preview.errors))
        elif isinstance(refused, ConfirmationOutdated):
            form.skip_errors.errors.append(ngettext(
                "Nothing was imported: with these columns %(num)d row has an error. Check the preview below and "
                "tick the box again.",
                "Nothing was imported: with these columns %(num)d rows have errors. Check the preview below and "
                "tick the box again.", preview.errors))
        elif isinstance(refused, NothingToImport):
            import_error = _("Nothing to import: every row is a duplicate or has an error.")
        else:
            import_error = _("Nothing was imported: the database refused one of the gifts, most likely because "
                             "someone recorded a gift with the same reference meanwhile. The preview below is "
                             "up to date: check it and import again.")
        return _mapping_page(upload, table, form, preview, INVALID, import_error=import_error)
    flash(ngettext("%(num)d donation imported: it awaits thanks.", "%(num)d donations imported: they await thanks.",
                   result["imported"]), "success")
    if result["new_donors"]:
        flash(ngettext("%(num)d new donor was added: complete their details before thanking them.",
                       "%(num)d new donors were added: complete their details before thanking them.",
                       result["new_donors"]), "info")
    return redirect(url_for("donors.import_detail", import_id=import_id), code=303)
