"""One cell's value as exports write it: dates, amounts, methods, currencies and names."""

from __future__ import annotations

import re

from ....models.donors import DONATION_METHODS
from ....money import CURRENCIES
from ....tabular import CURRENCY_SYMBOLS, NUMERIC_DATE, TIME_OF_DAY, has_phrase, parse_amount, parse_date
from ..labels import METHOD_LABELS

# Dates and amounts are read as every spreadsheet import reads them (portal.tabular).
__all__ = ["CURRENCY_SYMBOLS", "NUMERIC_DATE", "TIME_OF_DAY", "has_phrase", "parse_amount", "parse_date"]

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
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lord", "lady"}


# --- Methods and currencies --------------------------------------------------------------

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
            if wanted and (words == wanted if exact else has_phrase(words, wanted)):
                return method
    return None


def parse_currency(text: str) -> str | None:
    """An ISO 4217 code from a code or a symbol; None when it is none the portal takes."""
    value = text.strip()
    code = CURRENCY_SYMBOLS.get(value, value.upper())
    return code if code in CURRENCIES else None


# --- Names -------------------------------------------------------------------------------

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
