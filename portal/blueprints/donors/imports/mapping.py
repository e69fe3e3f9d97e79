"""Which column of the file holds what: guessed from the header row, then chosen on the form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .... import tabular
from ....money import CURRENCIES
from ....tabular import DATE_FORMAT_NAMES, DATE_FORMATS, guess_date_format, header_words
from .parsing import CURRENCY_SYMBOLS
from .reading import Table

__all__ = ["DATE_FORMATS", "DATE_FORMAT_NAMES", "Mapping", "guess_columns", "guess_date_format", "guess_mapping"]

# The columns a file can have, in the order the mapping form asks for them.
TARGETS = ("date", "amount", "reference", "name", "email", "currency", "method", "campaign")
REQUIRED_TARGETS = ("date", "amount")
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


def guess_columns(header: list[str]) -> dict[str, int | None]:
    """Each target's column from the header's names (``tabular.guess_columns``)."""
    return tabular.guess_columns(header, TARGETS, KEYWORDS, GUESS_ORDER)


def guess_mapping(table: Table) -> Mapping:
    """The mapping the header row suggests, with the currency and date format the data suggest."""
    columns = guess_columns(table.header)
    default_currency = "GBP"
    if columns["amount"] is not None:
        amount_words = header_words(table.header[columns["amount"]])
        named = [word.upper() for word in amount_words if word.upper() in CURRENCIES]
        symbols = [code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in table.header[columns["amount"]]]
        default_currency = (named or symbols or [default_currency])[0]
    date_format = "dmy"
    if columns["date"] is not None:
        date_format = guess_date_format(cells[columns["date"]] for _number, cells in table.rows
                                        if columns["date"] < len(cells))
    return Mapping(columns=columns, date_format=date_format, default_currency=default_currency)
