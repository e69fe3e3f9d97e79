"""The programme budget for a year: budget, committed, spent and remaining, by category
and by month, in GBP minor units.

A funded item belongs to the budget year of its event: an application to its conference's
first day, an expert visit to its arrival, anything else to the day it was made. Its approved
lines are committed, and its paid lines spent, in that year (a conference next spring counts
against next year's budget, however early it was approved). The budget year begins in
``FINANCIAL_YEAR_START_MONTH`` (1: the calendar year; 4: April to March, the year it starts
naming it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import CTE, ColumnElement, Select, and_, case, extract, func, select, union_all

from ... import clock
from ...extensions import db
from ...models import (
    BUDGET_CATEGORIES,
    Application,
    BudgetLine,
    Conference,
    ExpenseClaim,
    ExpenseLine,
    ExpertVisit,
    FundedItem,
    ProgrammeBudget,
)
from ...money import rates_on, to_base_minor_sql


def first_month() -> int:
    return int(current_app.config["FINANCIAL_YEAR_START_MONTH"])


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """The first day of budget year ``year`` and the first day after it."""
    month = first_month()
    return dt.date(year, month, 1), dt.date(year + 1, month, 1)


def budget_year_of(day: dt.date) -> int:
    return day.year if day.month >= first_month() else day.year - 1


def current_budget_year() -> int:
    """The budget year today is in."""
    return budget_year_of(clock.today())


def year_label(year: int) -> str:
    """"2026", or "2026/27" for a year that does not begin in January."""
    return str(year) if first_month() == 1 else f"{year}/{(year + 1) % 100:02d}"


def year_months() -> list[int]:
    """The budget year's months in order (April first for April to March)."""
    return [(first_month() - 1 + n) % 12 + 1 for n in range(12)]


def items_of_year(year: int) -> CTE:
    """The funded items of budget year ``year`` and the day of their event (``item_id``,
    ``event_on``): applications by their conference's start, visits by their arrival, other
    kinds by the day they were made; each path by its own index."""
    start, end = year_bounds(year)
    applications, visits = Application.__table__, ExpertVisit.__table__
    moment = (dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC), dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC))
    return union_all(
        select(applications.c.id.label("item_id"), Conference.start_date.label("event_on"))
        .join(Conference, Conference.id == applications.c.conference_id)
        .where(Conference.start_date >= start, Conference.start_date < end),
        select(visits.c.id, visits.c.arrival_on).where(visits.c.arrival_on >= start, visits.c.arrival_on < end),
        select(FundedItem.id, func.date(FundedItem.created_at))
        .where(FundedItem.kind.not_in(("application", "expert_visit")),
               FundedItem.created_at >= moment[0], FundedItem.created_at < moment[1]),
    ).cte("items_of_year")


def in_budget_year(year: int) -> ColumnElement[bool]:
    """Lines of the claims whose funded item belongs to budget year ``year``."""
    items = items_of_year(year)
    return ExpenseLine.claim_id.in_(select(ExpenseClaim.id).where(ExpenseClaim.funded_item_id.in_(
        select(items.c.item_id))))


def _spent(items: CTE, *columns: Any) -> Select[Any]:
    """``columns`` beside the paid lines of the year's items, in GBP."""
    return (select(*columns, func.coalesce(func.sum(ExpenseLine.amount_gbp), 0))
            .select_from(ExpenseLine).join(ExpenseClaim, ExpenseClaim.id == ExpenseLine.claim_id)
            .join(items, items.c.item_id == ExpenseClaim.funded_item_id).where(ExpenseLine.status == "paid"))


def _committed(items: CTE, rates: dict[str, Decimal], *columns: Any) -> Select[Any]:
    """``columns`` beside what the year's approved items may still spend: each approved line in
    GBP at today's rates, less what its item has paid in its category, never below nothing."""
    item_spent = (
        select(ExpenseClaim.funded_item_id, ExpenseLine.category, func.sum(ExpenseLine.amount_gbp).label("amount"))
        .join(ExpenseClaim).join(items, items.c.item_id == ExpenseClaim.funded_item_id)
        .where(ExpenseLine.status == "paid")
        .group_by(ExpenseClaim.funded_item_id, ExpenseLine.category).subquery())
    left = (to_base_minor_sql(BudgetLine.approved_amount, BudgetLine.approved_currency, rates)
            - func.coalesce(item_spent.c.amount, 0))
    return (
        select(*columns, func.coalesce(func.sum(case((left > 0, left), else_=0)), 0))
        .select_from(BudgetLine).join(items, items.c.item_id == BudgetLine.funded_item_id)
        .join(FundedItem, FundedItem.id == BudgetLine.funded_item_id)
        .outerjoin(item_spent, and_(item_spent.c.funded_item_id == BudgetLine.funded_item_id,
                                    item_spent.c.category == BudgetLine.category))
        .where(FundedItem.is_funded(), BudgetLine.approved_amount > 0,
               BudgetLine.approved_currency.in_(list(rates))))


def budget_left(year: int) -> int | None:
    """The year's budget less what is spent and committed (None without a budget), in one
    statement after the rates: what the dashboard shows."""
    rates = rates_on()
    items = items_of_year(year)
    budget = select(ProgrammeBudget.amount_gbp).where(ProgrammeBudget.year == year).scalar_subquery()
    row = db.session.execute(select(budget, _spent(items).scalar_subquery(),
                                    _committed(items, rates).scalar_subquery())).one()
    return None if row[0] is None else row[0] - row[1] - row[2]


def year_figures(year: int) -> dict[str, Any]:
    """Spent and committed (see ``_spent`` and ``_committed``) by category and by the month of
    the items' events, in three aggregate queries whatever the number of items and lines."""
    rates = rates_on()
    items = items_of_year(year)
    month = extract("month", items.c.event_on)
    by_category: dict[str, dict[str, int]] = {"spent": defaultdict(int), "committed": defaultdict(int)}
    by_month: dict[str, dict[int, int]] = {"spent": defaultdict(int), "committed": defaultdict(int)}
    for key, query in (("spent", _spent(items, ExpenseLine.category, month)
                        .group_by(ExpenseLine.category, month)),
                       ("committed", _committed(items, rates, BudgetLine.category, month)
                        .group_by(BudgetLine.category, month))):
        for category, event_month, amount in db.session.execute(query):
            by_category[key][category] += amount or 0
            by_month[key][int(event_month)] += amount or 0

    budget_row = db.session.get(ProgrammeBudget, year)
    budget = budget_row.amount_gbp if budget_row else None
    total_spent, total_committed = sum(by_category["spent"].values()), sum(by_category["committed"].values())
    return {
        "year": year,
        "label": year_label(year),
        "budget": budget,
        "spent": total_spent,
        "committed": total_committed,
        "remaining": None if budget is None else budget - total_spent - total_committed,
        "categories": [{"category": c, "committed": by_category["committed"][c], "spent": by_category["spent"][c]}
                       for c in BUDGET_CATEGORIES],
        "months": [{"month": m, "committed": by_month["committed"][m], "spent": by_month["spent"][m]}
                   for m in year_months()],
    }


AXIS = 70  # room on the left of the chart for the amounts


def chart_bars(months: list[dict[str, Any]], width: int = 600, height: int = 160) -> dict[str, Any]:
    """A small server-rendered SVG: spent and committed per month as bars, beside an axis of
    amounts (nothing, a quarter, half, three quarters and all of the largest month)."""
    top = max([m["spent"] for m in months] + [m["committed"] for m in months] + [1])
    plot = height - 20
    slot = width / len(months)
    bars = []
    for index, month in enumerate(months):
        x = AXIS + index * slot
        for offset, key in ((0.15, "spent"), (0.5, "committed")):
            h = round(month[key] / top * plot)
            bars.append({"x": round(x + slot * offset, 1), "y": height - 14 - h, "w": round(slot * 0.33, 1),
                         "h": h, "kind": key, "month": month["month"], "value": month[key]})
    ticks = [{"y": height - 14 - round(plot * share / 4), "value": round(top * share / 4)} for share in range(5)]
    labels = [{"x": round(AXIS + (index + 0.5) * slot, 1), "month": month["month"]}
              for index, month in enumerate(months)]
    return {"bars": bars, "ticks": ticks, "labels": labels, "width": AXIS + width, "height": height, "axis": AXIS}
