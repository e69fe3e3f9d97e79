"""Reading an uploaded file into a table (see ``portal.tabular``), and refusing one the
mapping screen could make nothing of."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ....tabular import CsvProblem, Table, decode_upload, parse_date, read_table, sniff_delimiter

__all__ = ["MAX_BYTES", "MAX_MB", "CsvProblem", "Table", "check_table", "decode_upload", "read_table",
           "sniff_delimiter"]

MAX_MB = 2
MAX_BYTES = MAX_MB * 1024 * 1024
LOOKS_LIKE_DATA = re.compile(r"[-+−(]?[£$€]?\s*\d[\d\s.,/'\-:]*\)?")


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
