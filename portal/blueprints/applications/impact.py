"""What conference support has done: doctors supported, conferences attended and colleagues
reached, by the conference's year and the doctor's clinic (``portal_impact``), the imported
historical trips included (a doctor or conference counted once within each)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, extract, func, select

from ...extensions import db
from ...history import history_breakdowns, with_history
from ...hookspecs import ImpactFigure
from ...models import Application, Clinic, Conference, ConferenceReport, HistoricalRecord, User


def _breakdown(measure: Any, *where: Any, report: bool = False) -> tuple[int, dict[int, int], dict[str, int]]:
    def query(*columns: Any) -> Any:
        q = (select(*columns, measure).select_from(Application)
             .join(Conference, Conference.id == Application.conference_id)
             .join(User, User.id == Application.beneficiary_id).outerjoin(Clinic, Clinic.id == User.clinic_id)
             .where(Application.is_funded(), *where))
        return q.join(ConferenceReport, ConferenceReport.application_id == Application.id) if report else q

    year = extract("year", Conference.start_date)
    total = db.session.scalar(query()) or 0
    by_year = {int(y): n or 0 for y, n in db.session.execute(query(year).group_by(year))}
    by_clinic = {c or "—": n or 0 for c, n in db.session.execute(query(Clinic.name).group_by(Clinic.name))}
    return total, by_year, by_clinic


def impact_figures() -> list[ImpactFigure]:
    history = history_breakdowns("trip", {
        "doctors": func.count(distinct(HistoricalRecord.person_key)),
        "conferences": func.count(distinct(HistoricalRecord.event_key)),
        "colleagues": func.sum(HistoricalRecord.colleagues_reached)})
    doctors = with_history(_breakdown(func.count(distinct(Application.beneficiary_id))), history["doctors"])
    conferences = with_history(_breakdown(func.count(distinct(Application.conference_id))), history["conferences"])
    colleagues = with_history(_breakdown(func.coalesce(func.sum(ConferenceReport.colleagues_reached), 0),
                                         ConferenceReport.status == "accepted", report=True), history["colleagues"])
    return [ImpactFigure("applications.doctors", _l("Doctors supported"), *doctors, order=10),
            ImpactFigure("applications.conferences", _l("Conferences attended"), *conferences, order=11),
            ImpactFigure("applications.colleagues", _l("Colleagues reached"), *colleagues, order=12)]
