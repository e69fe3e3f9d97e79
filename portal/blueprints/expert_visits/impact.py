"""What expert visits have done: visits, patients consulted, doctors trained and operations, by
the year of the arrival and the host clinic (``portal_impact``), the imported historical visits
included."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select

from ...extensions import db
from ...history import history_breakdowns, with_history
from ...hookspecs import ImpactFigure
from ...models import Clinic, ExpertVisit, HistoricalRecord


def impact_figures() -> list[ImpactFigure]:
    measures = {"visits": func.count(), "patients": func.sum(ExpertVisit.patients_consulted),
                "trained": func.sum(ExpertVisit.doctors_trained),
                "operations": func.sum(ExpertVisit.operations_performed)}
    year = extract("year", ExpertVisit.arrival_on)

    def rows(*columns: Any) -> Any:
        query = (select(*columns, *measures.values()).select_from(ExpertVisit)
                 .join(Clinic, Clinic.id == ExpertVisit.host_clinic_id).where(ExpertVisit.is_funded()))
        return db.session.execute(query.group_by(*columns) if columns else query).all()

    [totals] = rows()
    by_year, by_clinic = rows(year), rows(Clinic.name)
    labels = {"visits": _l("Expert visits"), "patients": _l("Patients consulted"),
              "trained": _l("Doctors trained"), "operations": _l("Operations performed")}
    history = history_breakdowns("visit", {
        "visits": func.count(), "patients": func.sum(HistoricalRecord.patients_consulted),
        "trained": func.sum(HistoricalRecord.doctors_trained),
        "operations": func.sum(HistoricalRecord.operations_performed)})
    return [ImpactFigure(f"expert_visits.{key}", labels[key], *with_history(
                (totals[n] or 0, {int(row[0]): row[n + 1] or 0 for row in by_year},
                 {row[0]: row[n + 1] or 0 for row in by_clinic}), history[key]), order=20 + n)
            for n, key in enumerate(measures)]
