"""Reading a spreadsheet someone uploads: a CSV file (its encoding, its delimiter) or an Excel
workbook (its first sheet) into a ``Table`` of text cells with the file's row numbers; the
dates its cells hold; and which column holds what, guessed from the header row.

The donations import and the history import read their files through here, each with its
own columns and rules for a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update

from .extensions import db
from .models.types import utcnow
from .money import CURRENCIES

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DELIMITERS = ",;\t"
XLSX_MAGIC = b"PK\x03\x04"
MAX_XLSX_ROWS = 50_000
MAX_XLSX_COLUMNS = 100

NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})")
NAMED_MONTH_DATE = re.compile(r"(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})\.?[\s\-/.,]*(\d{4}|\d{2})")
TIME_OF_DAY = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$")
MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR"}  # "$" names several currencies: it is stripped, never read
PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
COMMA_DECIMAL = re.compile(r"\d+,\d{2}")
DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")
DATE_FORMATS = {
    "dmy": _l("day/month/year (31/12/2026, 31.12.2026, 31-12-2026, 31/12/26)"),
    "ymd": _l("year-month-day (2026-12-31)"),
    "mdy": _l("month/day/year (12/31/2026)"),
}
DATE_FORMAT_NAMES = {"dmy": _l("day/month/year"), "ymd": _l("year-month-day"), "mdy": _l("month/day/year")}


class CsvProblem(ValueError):
    """A file that cannot be imported at all, in words for the person who uploaded it."""


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
    """The delimiter the file uses: what csv.Sniffer finds, else the commonest in the first line."""
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
    delimiter: str  # "" for a workbook
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


def _table(records: Iterable[tuple[int, list[str]]], delimiter: str) -> Table:
    numbered = [(number, cells) for number, cells in records if any(cells)]
    if not numbered:
        raise CsvProblem(_("The file is empty."))
    header = numbered[0][1]
    while header and not header[-1]:
        header.pop()  # a trailing delimiter names no column
    return Table(delimiter=delimiter, header=header, rows=numbered[1:])


def read_table(text: str) -> Table:
    """The file's header and its non-blank rows, each with its row number in the file."""
    delimiter = sniff_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CsvProblem(_("The file cannot be read as CSV: %(reason)s", reason=str(exc))) from None
    return _table(((number, [cell.strip() for cell in record]) for number, record in enumerate(records, start=1)),
                  delimiter)


def is_workbook(raw: bytes) -> bool:
    return raw.startswith(XLSX_MAGIC)


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold: dates in ISO form, whole numbers
    without ".0", and no control characters."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return CONTROL.sub(" ", str(value)).strip()


def read_workbook(raw: bytes) -> Table:
    """The first sheet of an Excel workbook (.xlsx), read as its cached values (what the
    spreadsheet shows, never its formulas)."""
    from openpyxl import load_workbook  # a workbook is rarer than a CSV file: load the library when one comes

    not_a_workbook = CsvProblem(_("This file cannot be read as an Excel workbook (.xlsx). Save it again from the "
                                  "spreadsheet as .xlsx or as CSV, and upload that."))
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise not_a_workbook from None
    except Exception as exc:  # openpyxl raises its own InvalidFileException and friends
        if type(exc).__module__.startswith(("openpyxl", "xml", "defusedxml")):
            raise not_a_workbook from None
        raise
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise CsvProblem(_("The file is empty."))
        records = []
        for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS), start=1):
            if number > MAX_XLSX_ROWS + 1:
                raise CsvProblem(_("The sheet has more than %(num)d rows: split it into smaller files.",
                                   num=MAX_XLSX_ROWS))
            cells = [_cell_text(value) for value in values]
            while cells and not cells[-1]:
                cells.pop()
            records.append((number, cells))
    finally:
        book.close()
    return _table(records, "")


def read_upload(raw: bytes) -> Table:
    """A CSV file or an Excel workbook, whichever the bytes are."""
    return read_workbook(raw) if is_workbook(raw) else read_table(decode_upload(raw))


# --- Dates -------------------------------------------------------------------------------

def parse_date(text: str, date_format: str) -> dt.date | None:
    """A date as the chosen format writes it; ISO dates (2026-12-31) and named months
    (31 Dec 2026) are read whatever the format; a time of day after the date is ignored."""
    value = TIME_OF_DAY.sub("", text.strip()).strip()
    try:
        if match := NUMERIC_DATE.fullmatch(value):
            return _numeric_date(*match.groups(), date_format=date_format)
        if (match := NAMED_MONTH_DATE.fullmatch(value)) and match[2][:3].lower() in MONTHS:
            year = match[3] if len(match[3]) == 4 else f"20{match[3]}"
            return dt.date(int(year), MONTHS[match[2][:3].lower()], int(match[1]))
    except ValueError:
        return None
    return None


def _numeric_date(first: str, second: str, third: str, *, date_format: str) -> dt.date | None:
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


# --- Amounts -----------------------------------------------------------------------------

def parse_amount(text: str) -> tuple[Decimal, bool, str | None]:
    """(amount, negative, currency the cell names) from "£1,234.56", "25,00 EUR", "(10.00)", "-5"…;
    ValueError when it is not an amount."""
    value, negative = _money_in_or_out(text.strip().replace("\u2212", "-"))
    code, value = _currency_named(value, text)
    value = re.sub(r"[\s\u00a0\u202f']", "", value)
    value, flipped = _sign(value)
    try:
        amount = Decimal(_plain_number(value, text))
    except InvalidOperation:
        raise ValueError(text) from None
    return amount, negative != flipped, code


def _money_in_or_out(value: str) -> tuple[str, bool]:
    """The value without the marks statements put on money going out: "DR" and brackets."""
    negative = False
    if match := re.search(r"\s*\b(CR|DR)$", value, flags=re.IGNORECASE):
        negative, value = match[1].upper() == "DR", value[:match.start()].strip()
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    return value, negative


def _currency_named(value: str, text: str) -> tuple[str | None, str]:
    """(the currency a code or symbol in the cell names, the value without it)."""
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
    return code, value


def _sign(value: str) -> tuple[str, bool]:
    """(the value without its sign, whether a minus flips it)."""
    if value.startswith("-"):
        return value[1:], True
    if value.startswith("+"):
        return value[1:], False
    if value.endswith("-"):
        return value[:-1], True
    return value, False


def _plain_number(value: str, text: str) -> str:
    """The number written with a decimal point and no thousands separators."""
    if PLAIN_NUMBER.fullmatch(value):
        return value
    if COMMA_THOUSANDS.fullmatch(value):
        return value.replace(",", "")
    if COMMA_DECIMAL.fullmatch(value):
        return value.replace(",", ".")
    if DOT_THOUSANDS_COMMA_DECIMAL.fullmatch(value):
        return value.replace(".", "").replace(",", ".")
    raise ValueError(text)


# --- Which column holds what -------------------------------------------------------------

def has_phrase(words: list[str], wanted: list[str]) -> bool:
    """Whether ``wanted`` appears in ``words`` as consecutive words."""
    size = len(wanted)
    return any(words[i:i + size] == wanted for i in range(len(words) - size + 1))


def header_words(text: str) -> list[str]:
    text = text.lower().replace("e-mail", "email").replace("_", " ")
    return re.findall(r"\w+", text)


def guess_columns(header: list[str], targets: Iterable[str], keywords: Mapping[str, tuple[str, ...]],
                  order: Iterable[str], date_targets: Iterable[str] = ("date",)) -> dict[str, int | None]:
    """Each target's column from the header's names: exact names first, then names containing
    a keyword (most telling keyword first); a column serves one target, and a column whose
    name says "date" only a date target."""
    words = [header_words(name) for name in header]
    order, dates = list(order), set(date_targets)
    chosen: dict[str, int | None] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for target in order:
            if target in chosen or target not in keywords:
                continue
            index = _column_for(keywords[target], words, taken, exact=exact, date=target in dates)
            if index is not None:
                chosen[target] = index
                taken.add(index)
    return {target: chosen.get(target) for target in targets}


def _column_for(keywords: tuple[str, ...], words: list[list[str]], taken: set[int], *, exact: bool,
                date: bool) -> int | None:
    for keyword in keywords:
        wanted = header_words(keyword)
        for index, have in enumerate(words):
            if index in taken or not have or (not date and "date" in have):
                continue
            if have == wanted if exact else has_phrase(have, wanted):
                return index
    return None


# --- What becomes of the rows ------------------------------------------------------------

IMPORT, DUPLICATE, ERROR = "import", "duplicate", "error"
PREVIEW_ROWS = 500  # rows that will be imported shown in a preview; rows with a problem are always shown


class RowOutcomes:
    """A preview's counts over ``self.rows`` (each with an ``outcome``: IMPORT, DUPLICATE or
    ERROR), and the rows it shows: every one with a problem, and the first to be imported."""

    rows: list[Any]

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
    def shown(self) -> list[Any]:
        shown, good = [], 0
        for row in self.rows:
            good += row.outcome == IMPORT
            if row.outcome != IMPORT or good <= PREVIEW_ROWS:
                shown.append(row)
        return shown

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.shown)


def claim_upload(upload: Any) -> bool:
    """Mark an uploaded file (a row with ``imported_at``) imported before importing it: a second
    click, or a colleague at the same moment, waits on the row here and then finds it taken (False)."""
    model = type(upload)
    claimed = db.session.execute(
        update(model).where(model.id == upload.id, model.imported_at.is_(None))
        .values(imported_at=utcnow()).execution_options(synchronize_session=False))
    return isinstance(claimed, CursorResult) and claimed.rowcount == 1
