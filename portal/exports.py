"""Files staff open in a spreadsheet: every cell passes one guard against formula injection.

A cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, or their full-width forms) is prefixed with an apostrophe, so
Excel, LibreOffice and Google Sheets show it as text. Plain numbers such as ``-12.50`` stay
numbers. defusedcsv covers only part of this (not a leading tab or carriage return) and
rewrites ``|`` in every cell, so the guard is our own; CSV and XLSX exports share it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

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
