"""The profile: saved, audited without values, passport details encrypted at rest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, text

from portal.extensions import db
from portal.models import AuditEvent, User
from tests.conftest import POSTGRES_URL

PROFILE = {
    "name": "Dr Anna Smirnova", "preferred_language": "en", "phone": "+7 495 123 45 67",
    "clinic_id": "0", "specialty": "Paediatric oncology", "position": "Senior doctor",
    "passport_full_name": "ANNA SMIRNOVA", "nationality": "Russian Federation",
    "date_of_birth": "1984-02-29", "passport_number": "75 1234567", "passport_expiry": "2031-05-31",
}


def test_the_profile_is_saved_and_audited_without_values(client, login, make_user, make_clinic):
    clinic = make_clinic(name="Moscow Partner Clinic")
    user = make_user()
    login(user)
    response = client.post("/profile", data={**PROFILE, "clinic_id": str(clinic.id)})
    assert response.status_code == 303
    saved = db.session.get(User, user.id)
    assert saved.clinic_id == clinic.id and saved.specialty == "Paediatric oncology"
    assert saved.passport_number == "751234567"
    assert saved.date_of_birth == dt.date(1984, 2, 29)
    assert saved.passport_complete
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "profile_updated")).one()
    assert "passport_number" in event.details["fields"]
    assert "751234567" not in str(event.details)
    page = client.get("/profile").get_data(as_text=True)
    assert "Your profile has been saved." in page and 'value="ANNA SMIRNOVA"' in page


def test_passport_number_and_birth_date_are_not_readable_in_the_database(app, client, login, make_user):
    user = make_user()
    login(user)
    client.post("/profile", data={**PROFILE, "passport_number": "QX9876543"})
    raw_number, raw_birth = db.session.execute(
        text("SELECT passport_number, date_of_birth FROM users WHERE id = :id"), {"id": user.id}).one()
    assert raw_number and "QX9876543" not in raw_number
    assert raw_birth and "1984" not in raw_birth
    assert db.session.get(User, user.id).passport_number == "QX9876543"  # the key reads it back
    if not POSTGRES_URL:
        db.session.remove()
        db.engine.dispose()
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        content = b"".join(f.read_bytes() for f in files if f.exists())
        assert b"QX9876543" not in content
        assert b"ANNA SMIRNOVA" in content  # the file was really read: unencrypted fields are there


def test_the_encryption_key_is_not_in_the_database(app, make_user):
    make_user(passport_number="AB1234567")
    key = app.config["FIELD_ENCRYPTION_KEYS"][0]
    for table in ("users", "audit_events", "outbox_messages"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
        assert key not in str(rows)


def test_bad_input_shows_errors_and_keeps_everything_typed(client, login, make_user):
    user = make_user()
    login(user)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    response = client.post("/profile", data={**PROFILE, "name": "", "date_of_birth": future,
                                             "passport_expiry": "31/05/2031"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html and 'id="date_of_birth-error"' in html
    assert 'id="passport_expiry-error"' in html
    assert "cannot be in the future" in html
    assert 'value="Paediatric oncology"' in html and 'value="751234567"' in html
    assert 'value="31/05/2031"' in html
    assert db.session.get(User, user.id).specialty is None  # nothing half-saved


def test_choosing_russian_in_the_profile_changes_the_interface(client, login, make_user):
    login(make_user())
    client.post("/profile", data={**PROFILE, "preferred_language": "ru"})
    html = client.get("/profile").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Выйти" in html
