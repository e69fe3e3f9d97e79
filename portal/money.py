"""Exact money: integer minor units beside an ISO 4217 code; Decimal only to show or convert."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import format_currency
from sqlalchemy import BigInteger, ColumnElement, Numeric, case, cast, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute

from . import clock
from .extensions import db
from .models import ExchangeRate

# The currencies the forms offer; any ISO 4217 code works in the model.
CURRENCIES = ("GBP", "EUR", "USD", "CHF", "RUB", "SEK", "DKK", "NOK", "PLN", "CZK", "CAD", "AUD", "JPY", "CNY")


# No single amount in this programme comes near this; anything above is a typing slip.
MAX_AMOUNT = Decimal(100_000_000)


class AmountError(ValueError):
    """An amount that cannot be money in its currency (too many decimals, negative)."""


@lru_cache(maxsize=256)
def exponent(currency: str) -> int:
    """How many decimal places ``currency`` has: 2 for EUR, 0 for JPY (ISO 4217 data: fixed)."""
    return get_currency_precision(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """12.34 EUR → 1234; refuses fractions the currency does not have."""
    try:
        if not Decimal(amount).is_finite() or abs(Decimal(amount)) > MAX_AMOUNT:
            raise AmountError(str(amount))
        scaled = Decimal(amount).scaleb(exponent(currency))
    except InvalidOperation as exc:
        raise AmountError(str(amount)) from exc
    if scaled != scaled.to_integral_value():
        raise AmountError(str(amount))
    if scaled < 0:
        raise AmountError(str(amount))
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """1234 EUR → 12.34; the inverse of ``to_minor``."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_minor(minor: int | None, currency: str | None) -> str:
    """1234, "EUR" → "€12.34" in the reader's locale."""
    if minor is None or currency is None:
        return "—"
    return format_currency(from_minor(minor, currency), currency)


def base_currency() -> str:
    """The currency budgets and totals are kept in (``BASE_CURRENCY``)."""
    return current_app.config["BASE_CURRENCY"]


def rates_on(day: dt.date | None = None) -> dict[str, Decimal]:
    """The rate in force on ``day`` for every currency: one query, for a whole page."""
    day = day or clock.today()
    base = base_currency()
    rows = db.session.execute(
        select(ExchangeRate.currency, ExchangeRate.rate)
        .where(ExchangeRate.base_currency == base, ExchangeRate.valid_from <= day)
        .order_by(ExchangeRate.currency, ExchangeRate.valid_from)
    ).all()
    rates = {currency: rate for currency, rate in rows}  # the latest valid_from wins
    rates[base] = Decimal(1)
    return rates


def to_base_minor(minor: int, currency: str, rates: dict[str, Decimal]) -> int | None:
    """Convert to the base currency's minor units; None when no rate is known."""
    rate = rates.get(currency)
    if rate is None:
        return None
    base_amount = from_minor(minor, currency) * rate
    return to_minor(base_amount.quantize(Decimal(1).scaleb(-exponent(base_currency())), ROUND_HALF_UP),
                    base_currency())


def to_base_minor_sql(minor: ColumnElement[int | None] | InstrumentedAttribute[int | None],
                      currency: ColumnElement[str | None] | InstrumentedAttribute[str | None],
                      rates: dict[str, Decimal]) -> ColumnElement[Any]:
    """``to_base_minor`` as a SQL expression, exactly (half up, in integers), for aggregate
    queries: NULL for a currency without a rate. Rates come in as literal integers (a rate is a
    Decimal the portal computed, never text from a request)."""
    base_exponent = exponent(base_currency())
    whens = []
    for code, rate in rates.items():
        numerator, denominator = rate.as_integer_ratio()
        shift = base_exponent - exponent(code)
        if shift >= 0:
            numerator *= 10 ** shift
        else:
            denominator *= 10 ** -shift
        whens.append((currency == code, _half_up_quotient(minor, numerator, denominator)))
    return case(*whens, else_=None) if whens else cast(None, BigInteger)


def _half_up_quotient(value: Any, numerator: int, denominator: int) -> ColumnElement[Any]:
    """round_half_up(value × numerator / denominator) for value ≥ 0, in integer arithmetic:
    floor((2·value·numerator + denominator) / (2·denominator)). PostgreSQL computes it in
    NUMERIC (no overflow); SQLite in 64-bit integers, exact while 2·value·numerator fits."""
    twice: ColumnElement[int] = literal_column(str(2 * numerator))
    half: ColumnElement[int] = literal_column(str(denominator))
    whole: ColumnElement[int] = literal_column(str(2 * denominator))
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.div(cast(value, Numeric) * twice + half, whole), BigInteger)
    return cast((value * twice + half) // whole, BigInteger)


def total_in_base(lines: list[tuple[int, str]], rates: dict[str, Decimal]) -> int | None:
    """The sum of (minor, currency) pairs in the base currency; None if any rate is missing."""
    total = 0
    for minor, currency in lines:
        converted = to_base_minor(minor, currency, rates)
        if converted is None:
            return None
        total += converted
    return total


def rate_for(currency: str, day: dt.date) -> Decimal | None:
    """The rate in force for ``currency`` on ``day``: the latest on or before it."""
    if currency == base_currency():
        return Decimal(1)
    return db.session.scalar(
        select(ExchangeRate.rate)
        .where(ExchangeRate.currency == currency, ExchangeRate.base_currency == base_currency(),
               ExchangeRate.valid_from <= day)
        .order_by(ExchangeRate.valid_from.desc()).limit(1))
