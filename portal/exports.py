"""Files staff open in a spreadsheet: every cell passes one guard against formula injection.

``spreadsheet(fmt, name, header, rows)`` answers a list page's export as CSV (written and sent a
batch of rows at a time) or XLSX (openpyxl's write-only workbook, which keeps no rows in memory,
saved to a temporary file that is then sent in pieces): memory stays flat however many rows the
``rows`` iterator streams from the database.

A cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, or their full-width forms) is prefixed with an apostrophe, so
Excel, LibreOffice and Google Sheets show it as text. Plain numbers such as ``-12.50`` stay
numbers. defusedcsv covers only part of this (not a leading tab or carriage return) and
rewrites ``|`` in every cell, so the guard is our own; CSV and XLSX exports share it.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from werkzeug.wsgi import FileWrapper

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # each is one character


def neutralised(row: Iterable[Any]) -> list[Any]:
    """The row's cells as a spreadsheet must show them: text that looks like a formula becomes
    text. (One comprehension, not a call per cell: exports write millions of cells.)"""
    return ["'" + value if isinstance(value, str) and value[:1] in _FORMULA_FIRST
            and not PLAIN_NUMBER.fullmatch(value) else value for value in row]


def neutralise(value: Any) -> Any:
    """One cell, as ``neutralised`` treats it."""
    return neutralised((value,))[0]


class SafeCsvWriter:
    """``csv.writer`` whose every row has passed ``neutralised``."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralised(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 1000


def csv_chunks(header: Sequence[str], rows: Iterable[Iterable[Any]], batch: int = BATCH,
               **options: Any) -> Iterator[str]:
    """``header`` and ``rows`` as CSV text, ``batch`` rows a piece (``options``: ``csv.writer``'s)."""
    out = io.StringIO()
    writer = SafeCsvWriter(out, **options)
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _xlsx_file(header: Sequence[str], rows: Iterable[Iterable[Any]], title: str) -> Any:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(neutralised(row))
    stored = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response when it is sent)
    workbook.save(stored)
    stored.seek(0)
    return stored


def spreadsheet(fmt: str, name: str, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> Response:
    """The rows as ``<name>.csv`` or ``<name>.xlsx`` (``fmt``), every cell neutralised."""
    disposition = {"Content-Disposition": f"attachment; filename={name}.{fmt}"}
    if fmt == "xlsx":
        stored = _xlsx_file(header, rows, name)
        return Response(FileWrapper(stored, 64 * 1024), mimetype=XLSX, headers=disposition, direct_passthrough=True)
    return Response(stream_with_context(csv_chunks(header, rows)), mimetype="text/csv", headers=disposition)
