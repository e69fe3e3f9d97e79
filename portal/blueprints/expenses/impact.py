"""What the programme has spent, by budget category: paid lines by the year of their trip's or
visit's event (see ``budget``) and by partner clinic (``portal_impact``), with what the imported
historical trips and visits cost."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select

from ...extensions import db
from ...history import history_breakdowns, with_history
from ...hookspecs import ImpactFigure
from ...labels import budget_category_label
from ...models import (
    BUDGET_CATEGORIES,
    Application,
    Clinic,
    Conference,
    ExpenseClaim,
    ExpenseLine,
    ExpertVisit,
    HistoricalRecord,
    User,
)


def impact_figures() -> list[ImpactFigure]:
    applications, visits = Application.__table__, ExpertVisit.__table__
    event_on = func.coalesce(Conference.start_date, visits.c.arrival_on)
    clinic = func.coalesce(Clinic.name, "—")
    host = Clinic.__table__.alias("host")

    def rows(*columns: Any) -> Any:
        query = (select(ExpenseLine.category, *columns, func.sum(ExpenseLine.amount_gbp))
                 .select_from(ExpenseLine).join(ExpenseClaim, ExpenseClaim.id == ExpenseLine.claim_id)
                 .outerjoin(applications, applications.c.id == ExpenseClaim.funded_item_id)
                 .outerjoin(Conference, Conference.id == applications.c.conference_id)
                 .outerjoin(User, User.id == ExpenseClaim.claimant_id)  # a trip: the doctor's clinic
                 .outerjoin(visits, visits.c.id == ExpenseClaim.funded_item_id)
                 .outerjoin(host, host.c.id == visits.c.host_clinic_id)
                 .outerjoin(Clinic, Clinic.id == func.coalesce(host.c.id, User.clinic_id))  # a visit: its host
                 .where(ExpenseLine.status == "paid"))
        return db.session.execute(query.group_by(ExpenseLine.category, *columns)).all()

    year = extract("year", event_on)
    totals = {category: amount or 0 for category, amount in rows()}
    by_year: dict[str, dict[int, int]] = {}
    for category, event_year, amount in rows(year):
        if event_year is not None:
            by_year.setdefault(category, {})[int(event_year)] = amount or 0
    by_clinic: dict[str, dict[str, int]] = {}
    for category, name, amount in rows(clinic):
        by_clinic.setdefault(category, {})[name] = amount or 0
    history = history_breakdowns(None, {category: func.sum(getattr(HistoricalRecord, f"spent_{category}"))
                                        for category in BUDGET_CATEGORIES})
    return [ImpactFigure(f"expenses.spent.{category}", _l("Spent on %(category)s",
                                                            category=budget_category_label(category)),
                         *with_history((totals.get(category, 0), by_year.get(category, {}),
                                        by_clinic.get(category, {})), history[category]),
                         money=True, order=30 + n)
            for n, category in enumerate(BUDGET_CATEGORIES)]
