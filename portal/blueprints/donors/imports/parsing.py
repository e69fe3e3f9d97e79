"""One cell's value as exports write it: dates, amounts, methods, currencies and names."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ....models.donors import DONATION_METHODS
from ....money import CURRENCIES
from ..labels import METHOD_LABELS

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
NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})")
NAMED_MONTH_DATE = re.compile(r"(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})\.?[\s\-/.,]*(\d{4}|\d{2})")
TIME_OF_DAY = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$")
MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
COMMA_DECIMAL = re.compile(r"\d+,\d{2}")
DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")


def has_phrase(words: list[str], wanted: list[str]) -> bool:
    """Whether ``wanted`` appears in ``words`` as consecutive words."""
    size = len(wanted)
    return any(words[i:i + size] == wanted for i in range(len(words) - size + 1))


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
