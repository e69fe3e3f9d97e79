"""The programme budget for a year: budget, committed, spent and remaining, by category
and by month, in GBP minor units."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, extract, func, select

from ...extensions import db
from ...models import BUDGET_CATEGORIES, BudgetLine, ExpenseClaim, ExpenseLine, FundedItem, ProgrammeBudget
from ...money import rates_on, to_base_minor_sql

MONTHS = range(1, 13)


def _paid_in(year: int) -> tuple[ColumnElement[bool], ...]:
    """Spent: paid lines dated in the year."""
    return (ExpenseLine.status == "paid", ExpenseLine.spent_on >= dt.date(year, 1, 1),
            ExpenseLine.spent_on < dt.date(year + 1, 1, 1))


def _committed(year: int, rates: dict[str, Decimal], *columns: Any) -> Select[Any]:
    """``columns`` beside what approved funded items created in the year may still spend:
    each approved line in GBP at today's rates, less what its item spent in its category this
    year, never below nothing. Group the result by any of ``columns``."""
    item_spent = (
        select(ExpenseClaim.funded_item_id, ExpenseLine.category, func.sum(ExpenseLine.amount_gbp).label("amount"))
        .join(ExpenseClaim).where(*_paid_in(year))
        .group_by(ExpenseClaim.funded_item_id, ExpenseLine.category).subquery())
    left = (to_base_minor_sql(BudgetLine.approved_amount, BudgetLine.approved_currency, rates)
            - func.coalesce(item_spent.c.amount, 0))
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    return (
        select(*columns, func.coalesce(func.sum(case((left > 0, left), else_=0)), 0))
        .select_from(BudgetLine).join(FundedItem, FundedItem.id == BudgetLine.funded_item_id)
        .outerjoin(item_spent, and_(item_spent.c.funded_item_id == BudgetLine.funded_item_id,
                                    item_spent.c.category == BudgetLine.category))
        .where(FundedItem.is_funded(), FundedItem.created_at >= start,
               FundedItem.created_at < start.replace(year=year + 1),
               BudgetLine.approved_amount > 0, BudgetLine.approved_currency.in_(list(rates))))


def budget_left(year: int) -> int | None:
    """The year's budget less what is spent and committed (None without a budget), in one
    statement after the rates: what the dashboard shows."""
    rates = rates_on()
    spent = select(func.coalesce(func.sum(ExpenseLine.amount_gbp), 0)).where(*_paid_in(year)).scalar_subquery()
    budget = select(ProgrammeBudget.amount_gbp).where(ProgrammeBudget.year == year).scalar_subquery()
    row = db.session.execute(select(budget, spent, _committed(year, rates).scalar_subquery())).one()
    return None if row[0] is None else row[0] - row[1] - row[2]


def year_figures(year: int) -> dict[str, Any]:
    """Spent and committed (see ``_paid_in`` and ``_committed``) by category and month, in
    three aggregate queries whatever the number of items and lines."""
    rates = rates_on()
    spent_month = extract("month", ExpenseLine.spent_on)
    spent = db.session.execute(
        select(ExpenseLine.category, spent_month, func.sum(ExpenseLine.amount_gbp))
        .where(*_paid_in(year)).group_by(ExpenseLine.category, spent_month))
    spent_by_category: dict[str, int] = defaultdict(int)
    spent_by_month: dict[int, int] = defaultdict(int)
    for category, month, amount in spent:
        spent_by_category[category] += amount or 0
        spent_by_month[int(month)] += amount or 0

    created_month = extract("month", FundedItem.created_at)
    committed = db.session.execute(
        _committed(year, rates, BudgetLine.category, created_month).group_by(BudgetLine.category, created_month))
    committed_by_category: dict[str, int] = defaultdict(int)
    committed_by_month: dict[int, int] = defaultdict(int)
    for category, month, amount in committed:
        committed_by_category[category] += amount or 0
        committed_by_month[int(month)] += amount or 0

    budget_row = db.session.get(ProgrammeBudget, year)
    budget = budget_row.amount_gbp if budget_row else None
    total_spent, total_committed = sum(spent_by_category.values()), sum(committed_by_category.values())
    return {
        "year": year,
        "budget": budget,
        "spent": total_spent,
        "committed": total_committed,
        "remaining": None if budget is None else budget - total_spent - total_committed,
        "categories": [{"category": c, "committed": committed_by_category[c], "spent": spent_by_category[c]}
                       for c in BUDGET_CATEGORIES],
        "months": [{"month": m, "committed": committed_by_month[m], "spent": spent_by_month[m]} for m in MONTHS],
    }


def chart_bars(months: list[dict[str, Any]], width: int = 600, height: int = 160) -> list[dict[str, Any]]:
    """Bar geometry for a small server-rendered SVG: spent and committed per month."""
    top = max([m["spent"] for m in months] + [m["committed"] for m in months] + [1])
    slot = width / len(months)
    bars = []
    for index, month in enumerate(months):
        x = index * slot
        for offset, key in ((0.15, "spent"), (0.5, "committed")):
            h = round(month[key] / top * (height - 20))
            bars.append({"x": round(x + slot * offset, 1), "y": height - 14 - h, "w": round(slot * 0.33, 1),
                         "h": h, "kind": key, "month": month["month"], "value": month[key]})
    return bars
