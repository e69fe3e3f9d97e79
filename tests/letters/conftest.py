"""Letters: an approved application whose doctor can have a visa-support letter.

The PDF readers (pdftotext, pdftoppm, zbar …) are in ``tests/fixtures/pdf.py``."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def approved_application(make_user, make_clinic, make_conference, make_application):
    """An approved application with a visa, for a doctor whose passport details are complete."""

    def _create(**doctor_overrides):
        from portal.extensions import db
        from portal.models import Clinic

        clinic = db.session.scalar(db.select(Clinic).where(Clinic.name == "Moscow Partner Clinic")) or make_clinic(
            name="Moscow Partner Clinic", city="Moscow", country="Russia")
        values = dict(roles=["doctor"], name="Dr Anna Sokolova", passport_full_name="ANNA SOKOLOVA",
                      nationality="Russian Federation", passport_number="751234567",
                      date_of_birth=dt.date(1986, 4, 17), passport_expiry=dt.date(2032, 8, 31),
                      position="Haematologist", specialty="Paediatric haematology", clinic=clinic)
        values.update(doctor_overrides)
        doctor = make_user(**values)
        conference = make_conference(name="EHA Congress", city="Stockholm", country="Sweden",
                                     start_date=dt.date(2027, 6, 11), end_date=dt.date(2027, 6, 14))
        application = make_application(doctor=doctor, conference=conference, status="approved",
                                       visa_country="Sweden", visa_city="Moscow",
                                       lines={"registration": (72000, "EUR"), "travel": (45000, "EUR"),
                                              "other": (5000, "EUR")})
        for line in application.budget_lines:
            line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
        application.budget_line("registration").approved_amount = 60000
        db.session.commit()
        return application

    return _create
