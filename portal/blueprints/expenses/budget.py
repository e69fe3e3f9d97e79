"""The programme budget for a year: budget, committed, spent and remaining, by category
and by month, in GBP minor units."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import extract, select

from ...extensions import db
from ...models import BUDGET_CATEGORIES, ExpenseClaim, ExpenseLine, FundedItem, ProgrammeBudget
from ...money import rates_on, to_base_minor

MONTHS = range(1, 13)


def year_figures(year: int) -> dict[str, Any]:
    """Spent: paid lines dated in the year. Committed: what approved funded items created in
    the year may still spend (approved amounts in GBP at today's rates, less what they spent)."""
    rates = rates_on()
    spent_by_category: dict[str, int] = defaultdict(int)
    spent_by_month: dict[int, int] = defaultdict(int)
    spent_by_item_category: dict[tuple[int, str], int] = defaultdict(int)
    paid = db.session.execute(
        select(ExpenseLine.category, ExpenseLine.amount_gbp, ExpenseLine.spent_on, ExpenseClaim.funded_item_id)
        .join(ExpenseClaim).where(ExpenseLine.status == "paid", extract("year", ExpenseLine.spent_on) == year))
    for category, amount, spent_on, item_id in paid:
        spent_by_category[category] += amount or 0
        spent_by_month[spent_on.month] += amount or 0
        spent_by_item_category[(item_id, category)] += amount or 0

    committed_by_category: dict[str, int] = defaultdict(int)
    committed_by_month: dict[int, int] = defaultdict(int)
    items = db.session.scalars(
        select(FundedItem).where(FundedItem.is_funded(),
                                 extract("year", FundedItem.created_at) == year))
    for item in items:
        for line in item.budget_lines:
            if not line.approved_amount or line.approved_currency is None:
                continue
            approved = to_base_minor(line.approved_amount, line.approved_currency, rates) or 0
            left = max(0, approved - spent_by_item_category[(item.id, line.category)])
            committed_by_category[line.category] += left
            committed_by_month[item.created_at.month] += left

    budget_row = db.session.get(ProgrammeBudget, year)
    budget = budget_row.amount_gbp if budget_row else None
    spent, committed = sum(spent_by_category.values()), sum(committed_by_category.values())
    return {
        "year": year,
        "budget": budget,
        "spent": spent,
        "committed": committed,
        "remaining": None if budget is None else budget - spent - committed,
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
