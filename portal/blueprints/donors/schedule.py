"""A claim's Gift Aid schedule as files: ODS (HMRC's own format, odfpy), XLSX (openpyxl) and
CSV, in the columns of HMRC's schedule spreadsheet, 1,000 donations a file at most.

Amounts are numbers (two decimals, no £ sign), dates text in DD/MM/YY, as HMRC asks; every
text cell passes the export guard against formulas (``portal.exports.neutralised``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ...exports import XLSX, csv_chunks, neutralised

ODS = "application/vnd.oasis.opendocument.spreadsheet"
SCHEDULE_FORMATS = {"ods": ODS, "xlsx": XLSX, "csv": "text/csv"}
SHEET = "Donations"


def _ods(header: Sequence[str], rows: Iterable[list[Any]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    wide = Style(name="wide", family="table-column")
    wide.addElement(TableColumnProperties(columnwidth="3.2cm"))
    document.automaticstyles.addElement(wide)
    table = Table(name=SHEET)
    table.addElement(TableColumn(numbercolumnsrepeated=len(header), stylename=wide))

    def text_cell(value: Any) -> Any:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=str(value)))
        return cell

    def number_cell(value: Any) -> Any:
        shown = f"{value:.2f}" if isinstance(value, Decimal) else str(value)
        cell = TableCell(valuetype="float", value=str(value))
        cell.addElement(P(text=shown))
        return cell

    for values in [list(header), *(neutralised(row) for row in rows)]:
        row = TableRow()
        for value in values:
            if value == "" or value is None:
                row.addElement(TableCell())
            elif isinstance(value, int | Decimal) and not isinstance(value, bool):
                row.addElement(number_cell(value))
            else:
                row.addElement(text_cell(value))
        table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def _xlsx(header: Sequence[str], rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in neutralised(row):
            cell = WriteOnlyCell(sheet, value=value if value != "" else None)
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def schedule_file(fmt: str, header: Sequence[str], rows: Iterable[list[Any]]) -> bytes:
    """One schedule file of ``rows`` (at most 1,000: the caller splits) in ``fmt``."""
    if fmt == "ods":
        return _ods(header, rows)
    if fmt == "xlsx":
        return _xlsx(header, rows)
    return "".join(csv_chunks(header, ([f"{v:.2f}" if isinstance(v, Decimal) else v for v in row] for row in rows),
                              lineterminator="\r\n")).encode()
