"""Converting to pounds: half-up to the penny, per line; the per-line sum stays within
half a penny a line of the converted total; amounts with fractions a currency lacks are refused."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from portal.config import Defaults
from portal.money import AmountError, from_minor, to_base_minor, to_minor, total_in_base


@pytest.fixture(autouse=True)
def request_context() -> Iterator[None]:
    """Pure arithmetic: a bare app that knows only the base currency, no database."""
    bare = Flask(__name__)
    bare.config["BASE_CURRENCY"] = Defaults.BASE_CURRENCY
    with bare.app_context():
        yield


amounts = st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=40)
rates = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(5), places=6,
                    allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(["EUR", "USD", "RUB", "CHF"])  # two decimals each, like pence


def exact_pence(minor: int, currency: str, rate: Decimal) -> Decimal:
    return from_minor(minor, currency) * rate * 100


@given(amounts=amounts, rate=rates, currency=currencies)
def test_per_line_pounds_stay_within_half_a_penny_a_line_of_the_converted_total(amounts, rate, currency):
    table = {currency: rate}
    per_line = [to_base_minor(amount, currency, table) for amount in amounts]
    converted_total = to_base_minor(sum(amounts), currency, table)

    # Each line is its exact value rounded half-up to the penny …
    for amount, pence in zip(amounts, per_line, strict=True):
        assert pence == int(exact_pence(amount, currency, rate).to_integral_value(ROUND_HALF_UP))
    # … so the lines' sum drifts from the converted total by at most half a penny a line.
    assert abs(sum(per_line) - converted_total) * 2 <= len(amounts)
    assert total_in_base([(amount, currency) for amount in amounts], table) == sum(per_line)


@pytest.mark.parametrize(("rate", "pence"), [
    ("0.12345", 123),  # 1.2345 GBP → 1.23
    ("0.12355", 124),  # 1.2355 GBP → 1.24
    ("0.1225", 123),   # 1.225 GBP: a half rounds up (banker's rounding would give 1.22)
    ("0.1235", 124),
    ("0.85", 850),
])
def test_ten_euros_round_half_up_to_the_penny(rate, pence):
    assert to_base_minor(1000, "EUR", {"EUR": Decimal(rate)}) == pence


def test_an_unknown_rate_converts_to_nothing_and_pounds_convert_to_themselves():
    assert to_base_minor(1000, "USD", {"EUR": Decimal("0.85")}) is None
    assert total_in_base([(1000, "EUR"), (500, "USD")], {"EUR": Decimal("0.85")}) is None
    assert to_base_minor(1234, "GBP", {"GBP": Decimal(1)}) == 1234


def test_yen_have_no_minor_unit():
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert from_minor(1500, "JPY") == Decimal(1500)
    assert to_base_minor(1500, "JPY", {"JPY": Decimal("0.0052")}) == 780  # ¥1500 → £7.80
    with pytest.raises(AmountError):
        to_minor(Decimal("1500.5"), "JPY")


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("12.34", "EUR", 1234), ("12.3", "GBP", 1230), ("12", "USD", 1200), ("0.01", "RUB", 1),
    ("12.340", "EUR", 1234),  # trailing zeros are not extra precision
])
def test_amounts_become_minor_units(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [
    ("12.345", "EUR"), ("0.001", "GBP"), ("1.5", "JPY"), ("-1", "EUR"), ("1e999", "EUR"),
    ("100000000.01", "EUR"), ("NaN", "EUR"), ("Infinity", "GBP"),
])
def test_amounts_a_currency_cannot_hold_are_refused(amount, currency):
    with pytest.raises(AmountError):
        to_minor(Decimal(amount), currency)
