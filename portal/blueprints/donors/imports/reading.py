"""Reading an uploaded file into a table: its encoding, its delimiter, its header row."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from .parsing import parse_date

MAX_MB = 2
MAX_BYTES = MAX_MB * 1024 * 1024
DELIMITERS = ",;\t"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LOOKS_LIKE_DATA = re.compile(r"[-+−(]?[£$€]?\s*\d[\d\s.,/'\-:]*\)?")


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
    """The file's header and its non-blank rows, each with its row number in the file."""
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
