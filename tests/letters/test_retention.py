"""Personal data past its retention period: the purge removes passport details from profiles
and from the letters of trips and visits that are over, and old import files, leaving no trace
in the database's files; letters keep verifying; a second run removes nothing; downloads of
letters holding passport details are logged."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask_login import login_user
from sqlalchemy import func, select, text
from werkzeug.exceptions import Gone

from portal import privacy
from portal.extensions import db
from portal.letters.views import send_letter
from portal.models import (
    AuditEvent,
    DonationImport,
    ExpertVisit,
    HistoryImport,
    Letter,
    SensitiveRead,
    User,
)
from portal.models.types import utcnow
from tests.conftest import POSTGRES_URL

TODAY = dt.date.today()


def issue(client, application) -> Letter:
    response = client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    return db.session.scalars(select(Letter).where(Letter.subject_id == application.id)
                              .order_by(Letter.id.desc())).first()


def ended(application, days_ago: int) -> None:
    """Move the application's conference into the past: it ended ``days_ago`` days ago."""
    application.conference.start_date = TODAY - dt.timedelta(days=days_ago + 3)
    application.conference.end_date = TODAY - dt.timedelta(days=days_ago)
    db.session.commit()


def raw_database_bytes(app) -> bytes:
    db.session.remove()
    db.engine.dispose()
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return b"".join(f.read_bytes() for f in (path, path.with_name(path.name + "-wal")) if f.exists())


def test_the_purge_removes_passport_data_past_retention_and_letters_still_verify(
        app, client, login, approved_application, make_user):
    old_trip = approved_application(name="Dr Old Trip", passport_number="OLD123456", passport_full_name="OLD TRIP")
    login(old_trip.doctor)
    old_letter = issue(client, old_trip)
    client.post("/logout")
    upcoming = approved_application(name="Dr Upcoming", passport_number="NEW654321", passport_full_name="UP COMING")
    login(upcoming.doctor)
    kept_letter = issue(client, upcoming)
    client.post("/logout")
    ended(old_trip, days_ago=120)  # past the default 90 days
    recent_profile = make_user(roles=["doctor"], passport_number="RECENT999", date_of_birth=dt.date(1990, 1, 2),
                               passport_updated_at=utcnow())  # entered today: kept a whole period from now
    old_file = DonationImport(filename="bank.csv", content="Date,Amount,Name\n01/01/2026,5.00,Alice Oldfile\n",
                              uploaded_at=utcnow() - dt.timedelta(days=45))
    new_file = DonationImport(filename="new.csv", content="Date,Amount,Name\n01/01/2026,5.00,Bob Newfile\n")
    old_history = HistoryImport(kind="trip", filename="old.csv", content=b"Doctor,Conference\nCarol Historic,X\n",
                                uploaded_at=utcnow() - dt.timedelta(days=45))
    db.session.add_all([old_file, new_file, old_history])
    db.session.commit()
    old_doctor, upcoming_doctor, old_letter_id, kept_letter_id = (old_trip.doctor.id, upcoming.doctor.id,
                                                                  old_letter.id, kept_letter.id)
    old_public, old_sha = old_letter.public_facts, old_letter.sha256
    file_ids = (old_file.id, new_file.id, old_history.id, recent_profile.id)
    if not POSTGRES_URL:  # the ciphertexts as stored before the purge: they must go too, not only the text
        stored_number, stored_birth = db.session.execute(
            text("SELECT passport_number, date_of_birth FROM users WHERE id = :id"), {"id": old_doctor}).one()
        stored_pdf = db.session.execute(text("SELECT pdf FROM letters WHERE id = :id"), {"id": old_letter_id}).scalar()
        assert stored_number.encode() in raw_database_bytes(app)

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert re.search(r"would remove\s+1\s+profiles' passport details", dry.output)
    assert re.search(r"would remove\s+1\s+letters' PDFs and passport facts", dry.output)
    assert re.search(r"would remove\s+1\s+donation import files", dry.output)
    assert db.session.scalar(select(func.count()).select_from(Letter).where(Letter.purged_at.is_not(None))) == 0

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert re.search(r"removed\s+1\s+profiles' passport details", result.output)
    assert re.search(r"removed\s+1\s+history import files", result.output)
    db.session.expire_all()

    doctor = db.session.get(User, old_doctor)
    assert (doctor.passport_number, doctor.date_of_birth, doctor.passport_expiry) == (None, None, None)
    assert doctor.passport_full_name == "OLD TRIP" and doctor.passport_purged_at is not None
    assert db.session.get(User, upcoming_doctor).passport_number == "NEW654321"  # its trip is to come
    assert db.session.get(User, file_ids[3]).passport_number == "RECENT999"
    purged = db.session.get(Letter, old_letter_id)
    assert purged.pdf is None and purged.purged_at is not None and purged.status == "valid"
    assert "passport_number" not in purged.facts and purged.facts["holder"] == "OLD TRIP"
    assert purged.public_facts == old_public and purged.sha256 == old_sha
    kept = db.session.get(Letter, kept_letter_id)
    assert kept.pdf is not None
    assert db.session.get(DonationImport, file_ids[0]).content == ""
    assert db.session.get(DonationImport, file_ids[1]).content
    assert db.session.get(HistoryImport, file_ids[2]).content == b""
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ("passport_purged", "letter_purged", "import_file_purged")))).all()
    assert len(events) == 4
    assert not any("OLD123456" in str(event.details) for event in events)

    # The letter still verifies, and says its document is gone
    page = client.get(f"/verify/{purged.token}").get_data(as_text=True)
    assert "Valid: this letter was issued by" in page and 'id="document-purged"' in page
    assert "OLD TRIP" in page
    assert client.get(f"/verify/{kept.token}").status_code == 200

    # A second run removes nothing more; and no upload on disk holds the passport number
    assert set(privacy.purge().values()) == {0}
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert not any(b"OLD123456" in f.read_bytes() for f in uploads.rglob("*") if f.is_file())

    if not POSTGRES_URL:
        content = raw_database_bytes(app)
        assert b"OLD123456" not in content and stored_number.encode() not in content
        assert stored_birth.encode() not in content and b"1986-04-17" not in content
        assert bytes(stored_pdf[:64]) not in content  # the encrypted PDF is overwritten, not left in free pages
        assert b"Alice Oldfile" not in content and b"Carol Historic" not in content
        assert b"Bob Newfile" in content  # the files were really read
    else:
        leftovers = db.session.execute(text(
            "SELECT count(*) FROM users WHERE id = :id AND (passport_number IS NOT NULL OR date_of_birth IS NOT NULL)"),
            {"id": old_doctor}).scalar()
        assert leftovers == 0


def test_a_doctor_who_applies_again_is_asked_for_the_details_again(app, client, login, approved_application,
                                                                  make_application, make_conference):
    application = approved_application()
    login(application.doctor)
    issue(client, application)
    ended(application, days_ago=100)
    privacy.purge()
    db.session.expire_all()
    again = make_application(doctor=db.session.get(User, application.doctor.id), status="approved",
                             conference=make_conference())
    response = client.get(f"/letters/visa_support/{again.id}")
    assert response.status_code == 409
    assert "your passport number" in response.get_data(as_text=True)
    old = db.session.scalars(select(Letter).where(Letter.subject_id == application.id)).one()
    assert client.get(f"/letters/visa_support/{application.id}").status_code == 409  # details missing again
    assert old.pdf is None
    with app.test_request_context():  # a purged letter has no PDF to send: 410, never a 500
        login_user(db.session.get(User, application.doctor.id))
        with pytest.raises(Gone):
            send_letter(old)


def test_a_visit_that_is_over_loses_its_invitations_passport_copy(app, client, login, make_user, make_clinic):
    clinic = make_clinic(name_ru="Клиника")
    expert = make_user(roles=["expert"], name="Prof. Jane Doe", passport_full_name="JANE DOE", nationality="British",
                       passport_number="530000001", passport_expiry=dt.date(2031, 5, 1))
    visit = ExpertVisit(beneficiary=expert, host_clinic_id=clinic.id, status="confirmed", purpose="Master class",
                        purpose_ru="Мастер-класс", arrival_on=TODAY + dt.timedelta(days=20),
                        departure_on=TODAY + dt.timedelta(days=25))
    db.session.add(visit)
    db.session.commit()
    login(expert)
    response = client.post(f"/letters/invitation/{visit.id}/issue", follow_redirects=True)
    assert response.data.startswith(b"%PDF")
    assert privacy.purge()["letters"] == 0  # the visit is to come
    visit.arrival_on, visit.departure_on = TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=195)
    db.session.commit()
    counts = privacy.purge()
    assert (counts["letters"], counts["passport_details"]) == (1, 1)
    db.session.expire_all()
    assert db.session.get(User, expert.id).passport_number is None


def test_every_download_of_a_letter_with_passport_details_is_logged(app, client, login, approved_application,
                                                                    make_user):
    application = approved_application()
    login(application.doctor)
    letter = issue(client, application)
    client.post("/logout")
    staff = make_user(roles=["staff"], name="Emma Clarke")
    login(staff)
    assert client.get(f"/letters/visa_support/{application.id}").status_code == 200
    reads = db.session.scalars(select(SensitiveRead).order_by(SensitiveRead.id)).all()
    assert [(r.reader_id, r.subject_id, r.what) for r in reads] == [
        (application.doctor.id, application.doctor.id, f"letter {letter.reference}"),
        (staff.id, application.doctor.id, f"letter {letter.reference}")]


def test_receipts_go_after_the_accounts_years_and_unpaid_ones_stay(app, client, login, approved_application):
    import io

    from werkzeug.datastructures import FileStorage

    from portal import storage
    from portal.models import ExpenseClaim, ExpenseLine, Payment

    application = approved_application()
    doctor = application.doctor
    claim = ExpenseClaim(funded_item_id=application.id, claimant_id=doctor.id)
    db.session.add(claim)
    db.session.flush()
    lines = []
    for n, (status, paid_on) in enumerate((("paid", TODAY.replace(year=TODAY.year - 7)), ("paid", TODAY),
                                           ("approved", None))):
        receipt = storage.store_upload(FileStorage(io.BytesIO(b"%PDF-1.4 receipt " + bytes([65 + n])),
                                                   filename=f"r{n}.pdf"), by=doctor)
        db.session.flush()
        line = ExpenseLine(claim_id=claim.id, category="travel", spent_on=TODAY, description=f"Line {n}",
                           amount=1000, currency="GBP", amount_gbp=1000, receipt_id=receipt.id, status=status)
        if paid_on:
            payment = Payment(payee_id=doctor.id, paid_on=paid_on, method="bank_transfer", reference=f"P{n}",
                              amount_gbp=1000)
            db.session.add(payment)
            db.session.flush()
            line.payment_id = payment.id
        db.session.add(line)
        lines.append((line, storage.path_of(receipt)))
    db.session.commit()
    assert privacy.due()["receipts"] == [lines[0][0].id]
    assert privacy.purge()["receipts"] == 1
    db.session.expire_all()
    assert db.session.get(ExpenseLine, lines[0][0].id).receipt_id is None and not lines[0][1].exists()
    assert all(db.session.get(ExpenseLine, line.id).receipt_id is not None and path.exists()
               for line, path in lines[1:])
    assert db.session.get(ExpenseLine, lines[0][0].id).amount_gbp == 1000  # the money stays
