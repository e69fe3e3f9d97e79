"""What conference support has done: doctors supported, conferences attended and colleagues
reached, by the conference's year and the doctor's clinic (``portal_impact``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, extract, func, select

from ...extensions import db
from ...hookspecs import ImpactFigure
from ...models import Application, Clinic, Conference, ConferenceReport, User


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
    doctors = _breakdown(func.count(distinct(Application.beneficiary_id)))
    conferences = _breakdown(func.count(distinct(Application.conference_id)))
    colleagues = _breakdown(func.coalesce(func.sum(ConferenceReport.colleagues_reached), 0),
                            ConferenceReport.status == "accepted", report=True)
    return [ImpactFigure("applications.doctors", _l("Doctors supported"), *doctors, order=10),
            ImpactFigure("applications.conferences", _l("Conferences attended"), *conferences, order=11),
            ImpactFigure("applications.colleagues", _l("Colleagues reached"), *colleagues, order=12)]
