"""The programme budget for a year: budget, committed, spent and remaining, by category
and by month, in GBP minor units."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, extract, func, select

from ...extensions import db
from ...models import BUDGET_CATEGORIES, BudgetLine, ExpenseClaim, ExpenseLine, FundedItem, ProgrammeBudget
from ...money import rates_on, to_base_minor_sql

MONTHS = range(1, 13)


def year_figures(year: int) -> dict[str, Any]:
    """Spent: paid lines dated in the year. Committed: what approved funded items created in
    the year may still spend (approved amounts in GBP at today's rates, less what they spent).
    Three aggregate queries, whatever the number of items and lines."""
    rates = rates_on()
    paid_in_year = (ExpenseLine.status == "paid", ExpenseLine.spent_on >= dt.date(year, 1, 1),
                    ExpenseLine.spent_on < dt.date(year + 1, 1, 1))
    spent_month = extract("month", ExpenseLine.spent_on)
    spent = db.session.execute(
        select(ExpenseLine.category, spent_month, func.sum(ExpenseLine.amount_gbp))
        .where(*paid_in_year).group_by(ExpenseLine.category, spent_month))
    spent_by_category: dict[str, int] = defaultdict(int)
    spent_by_month: dict[int, int] = defaultdict(int)
    for category, month, amount in spent:
        spent_by_category[category] += amount or 0
        spent_by_month[int(month)] += amount or 0

    # What each item spent in each category this year, against which its approved line counts.
    item_spent = (
        select(ExpenseClaim.funded_item_id, ExpenseLine.category, func.sum(ExpenseLine.amount_gbp).label("amount"))
        .join(ExpenseClaim).where(*paid_in_year)
        .group_by(ExpenseClaim.funded_item_id, ExpenseLine.category).subquery())
    approved = to_base_minor_sql(BudgetLine.approved_amount, BudgetLine.approved_currency, rates)
    left = approved - func.coalesce(item_spent.c.amount, 0)
    created_month = extract("month", FundedItem.created_at)
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    committed = db.session.execute(
        select(BudgetLine.category, created_month, func.sum(case((left > 0, left), else_=0)))
        .join(FundedItem, FundedItem.id == BudgetLine.funded_item_id)
        .outerjoin(item_spent, and_(item_spent.c.funded_item_id == BudgetLine.funded_item_id,
                                    item_spent.c.category == BudgetLine.category))
        .where(FundedItem.is_funded(), FundedItem.created_at >= start,
               FundedItem.created_at < start.replace(year=year + 1),
               BudgetLine.approved_amount > 0, BudgetLine.approved_currency.in_(list(rates)))
        .group_by(BudgetLine.category, created_month))
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
