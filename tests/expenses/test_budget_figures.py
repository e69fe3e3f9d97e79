"""The budget's figures come from aggregate SQL: each approved line converted half-up to the
penny in the database exactly as in Python, what an item overspent never counted against
another, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import BigInteger, String, literal, select

from portal.blueprints.expenses.budget import budget_left, year_figures
from portal.extensions import db
from portal.models import ExchangeRate, ProgrammeBudget
from portal.money import MAX_AMOUNT, from_minor, to_base_minor, to_base_minor_sql


def test_the_database_converts_each_amount_exactly_as_python_does():
    pick = random.Random(13)
    cases = [(1000, "EUR", Decimal("0.1225")), (1000, "EUR", Decimal("0.12345")), (1, "USD", Decimal("0.5")),
             (1500, "JPY", Decimal("0.0052")), (3, "JPY", Decimal("0.005")), (8_000_000_000, "EUR", Decimal("1.2345")),
             (9_000_000_000, "CHF", Decimal("0.857142857142857")), (0, "EUR", Decimal("0.85")),
             (777, "GBP", Decimal(1))]
    for _ in range(300):
        places = pick.randint(1, 9)
        rate = Decimal(pick.randint(1, 2 * 10 ** places)).scaleb(-places)
        cases.append((pick.randint(0, 5 * 10 ** pick.randint(1, 9)), pick.choice(["EUR", "USD", "JPY", "RUB"]), rate))
    for amount, currency, rate in cases:
        rates = {currency: rate, "GBP": Decimal(1)}
        if from_minor(amount, currency) * rate > MAX_AMOUNT:
            continue  # more than the portal holds as one amount
        in_sql = db.session.scalar(select(to_base_minor_sql(literal(amount, BigInteger), literal(currency, String),
                                                            rates)))
        assert in_sql == to_base_minor(amount, currency, rates), (amount, currency, rate)
    assert db.session.scalar(select(to_base_minor_sql(literal(100, BigInteger), literal("SEK", String),
                                                      {"EUR": Decimal("0.85")}))) is None  # no rate: nothing


def test_committed_is_what_each_line_may_still_spend_and_an_overspent_line_counts_as_nothing(
        make_funded_item, make_line):
    """Paid lines count in the year they are dated; items commit in the year they were created."""
    today = dt.date.today()
    db.session.add(ExchangeRate(base_currency="GBP", currency="EUR", rate=Decimal("0.85"),
                                valid_from=today - dt.timedelta(days=400)))
    db.session.commit()
    # £850 of travel approved, £900 of it paid: the overspend counts as nothing committed …
    overspent = make_funded_item(approved={"travel": (100000, "EUR"), "registration": (10000, "EUR")})
    line = make_line(item=overspent, category="travel", amount=105883, currency="EUR", spent_on=today)
    line.status, line.amount_gbp = "paid", 90000  # paid over its cap, as an override would allow
    db.session.commit()
    # … and takes nothing from another item's commitment.
    make_funded_item(approved={"travel": (20000, "EUR")})
    figures = year_figures(today.year)
    by_category = {row["category"]: row for row in figures["categories"]}
    assert by_category["travel"]["spent"] == 90000
    assert by_category["travel"]["committed"] == 17000  # only the untouched item's €200
    assert by_category["registration"]["committed"] == 8500  # the overspent item's other line
    assert figures["committed"] == 25500 and figures["spent"] == 90000
    assert sum(m["committed"] for m in figures["months"]) == 25500
    assert budget_left(today.year) is None  # no budget set for the year
    db.session.add(ProgrammeBudget(year=today.year, amount_gbp=1_000_000))
    db.session.commit()
    assert budget_left(today.year) == 1_000_000 - 90000 - 25500 == year_figures(today.year)["remaining"]
    assert year_figures(today.year - 1)["committed"] == 0  # items count in the year they were created
