"""A person's data: the export ZIP holds exactly their records and files; erasure replaces
them by a pseudonym everywhere while every money total stays as it was, and waits while
something is open."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage

from portal import storage
from portal.extensions import db
from portal.models import (
    ApplicationComment,
    ApplicationDocument,
    AuditEvent,
    ExpenseClaim,
    ExpenseLine,
    Letter,
    OutboxMessage,
    Payment,
    StoredFile,
    User,
)
from tests.conftest import POSTGRES_URL
from tests.fixtures.tasks import run_queued_tasks

PDF = b"%PDF-1.4\n%%EOF\n"
TODAY = dt.date.today()


def upload(user: User, name: str) -> StoredFile:
    stored = storage.store_upload(FileStorage(io.BytesIO(PDF + name.encode()), filename=name,
                                              content_type="application/pdf"), by=user)
    db.session.flush()
    return stored


def doctor_with_records(make_user, make_application, make_conference, make_clinic, name: str, passport: str,
                        paid: bool = True) -> dict:
    """A doctor with two applications (one with a CV and a staff comment), a claim with a
    receipt, paid or not, and an e-mail sent to them."""
    clinic = make_clinic()
    doctor = make_user(roles=["doctor"], name=name, passport_full_name=name.upper(), nationality="Russian",
                       passport_number=passport, passport_expiry=dt.date(2032, 1, 1), position="Surgeon",
                       clinic_id=clinic.id, date_of_birth=dt.date(1985, 5, 5))
    first = make_application(doctor=doctor, status="approved", conference=make_conference(),
                             lines={"travel": (40000, "GBP")})
    second = make_application(doctor=doctor, status="declined", conference=make_conference())
    first.budget_lines[0].approved_amount, first.budget_lines[0].approved_currency = 40000, "GBP"
    cv = upload(doctor, f"CV {name}.pdf")
    db.session.add(ApplicationDocument(application_id=first.id, kind="cv", stored_file_id=cv.id))
    db.session.add(ApplicationComment(application_id=first.id, author_id=doctor.id, author_name=name,
                                      body="Could the registration be paid directly?"))
    claim = ExpenseClaim(funded_item_id=first.id, claimant_id=doctor.id, submitted_at=dt.datetime.now(dt.UTC))
    db.session.add(claim)
    db.session.flush()
    receipt = upload(doctor, f"ticket {name}.pdf")
    line = ExpenseLine(claim_id=claim.id, category="travel", spent_on=TODAY - dt.timedelta(days=5),
                       description="Flight to Vienna", amount=25000, currency="GBP", amount_gbp=25000,
                       receipt_id=receipt.id, status="approved")
    db.session.add(line)
    if paid:
        payment = Payment(payee_id=doctor.id, paid_on=TODAY, method="bank_transfer", reference=f"PAY-{doctor.id}",
                          amount_gbp=25000)
        db.session.add(payment)
        db.session.flush()
        line.payment_id, line.status = payment.id, "paid"
    db.session.add(OutboxMessage(recipient=doctor.email, subject="Your application", language="en",
                                 body_text=f"Dear {name}, your application was approved."))
    db.session.commit()
    return {"doctor": doctor, "applications": [first, second], "claim": claim, "cv": cv, "receipt": receipt}


def issue_letter(client, login, application) -> Letter:
    login(application.doctor)
    response = client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True)
    assert response.data.startswith(b"%PDF")
    client.post("/logout")
    return db.session.scalars(select(Letter).where(Letter.subject_id == application.id)).one()


def exported_zip(app, client) -> zipfile.ZipFile:
    """Ask for my data on the profile page, let the background job write it, download it."""
    response = client.post("/profile/data-export")
    assert response.status_code == 303
    status_page = response.headers["Location"]
    assert "being prepared" in client.get(status_page).get_data(as_text=True)
    assert run_queued_tasks(app) >= 1
    page = client.get(status_page).get_data(as_text=True)
    link = re.search(r'id="export-download" href="([^"]+)"', page)[1]
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(download.data))


def test_the_export_holds_exactly_the_persons_records_and_files(app, client, login, make_user, make_application,
                                                                make_conference, make_clinic):
    anna = doctor_with_records(make_user, make_application, make_conference, make_clinic, "Anna Petrova",
                               "751234567")
    ivan = doctor_with_records(make_user, make_application, make_conference, make_clinic, "Ivan Sokolov",
                               "759999999")
    letter = issue_letter(client, login, anna["applications"][0])
    issue_letter(client, login, ivan["applications"][0])
    login(anna["doctor"])
    archive = exported_zip(app, client)

    first, second = anna["applications"]
    claim_line = anna["claim"].lines[0]
    assert sorted(archive.namelist()) == sorted([
        "applications.json", "applications_audit_events.json", "audit_events.json", "claims.json", "emails.json",
        "letters.json", "passport_reads.json", "payments.json", "profile.json", "reports.json", "visits.json",
        "visits_audit_events.json", f"letters/{letter.reference}.pdf",
        f"applications/{first.id}/{anna['cv'].storage_key[:8]}-CV Anna Petrova.pdf",
        f"receipts/{claim_line.id}-ticket Anna Petrova.pdf"])
    records = {name.removesuffix(".json"): json.loads(archive.read(name)) for name in archive.namelist()
               if name.endswith(".json")}
    assert records["profile"][0]["passport_number"] == "751234567" and "password_hash" not in records["profile"][0]
    assert [a["id"] for a in records["applications"]] == [first.id, second.id]
    assert records["applications"][0]["comments"][0]["body"] == "Could the registration be paid directly?"
    assert [c["id"] for c in records["claims"]] == [anna["claim"].id]
    assert [p["payee_id"] for p in records["payments"]] == [anna["doctor"].id]
    assert [m["recipient"] for m in records["emails"]] == [anna["doctor"].email]
    assert [entry["reference"] for entry in records["letters"]] == [letter.reference]
    assert [read["what"] for read in records["passport_reads"]] == [f"letter {letter.reference}"]
    assert archive.read(f"letters/{letter.reference}.pdf").startswith(b"%PDF")
    assert archive.read(f"receipts/{claim_line.id}-ticket Anna Petrova.pdf") == PDF + b"ticket Anna Petrova.pdf"
    everything = b"".join(archive.read(name) for name in archive.namelist() if not name.startswith("letters/"))
    assert b"Ivan Sokolov" not in everything and b"759999999" not in everything  # nobody else's

    # Only whoever asked may see it or fetch it, and only for a day
    status_page = client.get("/profile").request.path  # (still signed in as Anna)
    assert status_page == "/profile"
    export_id = db.session.scalar(text("SELECT max(id) FROM data_exports"))
    client.post("/logout")
    login(ivan["doctor"])
    assert client.get(f"/data-exports/{export_id}").status_code == 404
    token = db.session.scalar(text("SELECT token FROM data_exports WHERE id = :id"), {"id": export_id})
    assert client.get(f"/data-exports/{export_id}/{token}.zip").status_code == 404
    client.post("/logout")
    login(anna["doctor"])
    assert client.get(f"/data-exports/{export_id}/not-the-token.zip").status_code == 404
    db.session.execute(text("UPDATE data_exports SET expires_at = :past WHERE id = :id"),
                       {"past": dt.datetime(2020, 1, 1), "id": export_id})
    db.session.commit()
    assert client.get(f"/data-exports/{export_id}/{token}.zip").status_code == 404
    assert "has expired" in client.get(f"/data-exports/{export_id}").get_data(as_text=True)


def money_totals() -> tuple:
    return (db.session.scalar(select(func.sum(Payment.amount_gbp))),
            db.session.scalar(select(func.sum(ExpenseLine.amount_gbp))),
            db.session.scalar(text("SELECT sum(approved_amount) FROM budget_lines")),
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action != "person_erased")))


def test_erasing_a_doctor_keeps_every_total_and_leaves_their_name_nowhere(app, client, login, make_user,
                                                                         make_application, make_conference,
                                                                         make_clinic, tmp_path):
    anna = doctor_with_records(make_user, make_application, make_conference, make_clinic, "Anna Petrova",
                               "751234567")
    letter = issue_letter(client, login, anna["applications"][0])
    admin = make_user(roles=["admin"], name="Sarah Mitchell")
    doctor_id, cv_path = anna["doctor"].id, storage.path_of(anna["cv"])
    before = money_totals()
    login(admin)
    page = client.get(f"/admin/users/{doctor_id}").get_data(as_text=True)
    assert "Export their data (ZIP)" in page and "Erase" in page
    unticked = client.post(f"/admin/users/{doctor_id}/erase", follow_redirects=True)
    assert "Tick the box to confirm the erasure" in unticked.get_data(as_text=True)
    assert db.session.get(User, doctor_id).erased_at is None

    done = client.post(f"/admin/users/{doctor_id}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "Erased: from now on the records name them Former doctor #" in done.get_data(as_text=True)
    db.session.expire_all()
    doctor = db.session.get(User, doctor_id)
    assert doctor.name == f"Former doctor #{doctor_id}" and not doctor.active and doctor.password_hash is None
    assert doctor.passport_number is None and doctor.erased_at is not None
    assert money_totals() == before
    assert not cv_path.exists()  # their documents are gone; the receipt stays for the accounts
    assert storage.path_of(anna["receipt"]).exists()
    erased_letter = db.session.get(Letter, letter.id)
    assert erased_letter.status == "revoked" and erased_letter.revoked_reason == "erased"
    verify = client.get(f"/verify/{erased_letter.token}").get_data(as_text=True)
    assert "had their personal data erased" in verify and "Anna" not in verify and "ANNA" not in verify

    # Nowhere: not in pages, not in CSV exports, not in the database's bytes
    for path in ("/admin/users", f"/admin/users/{doctor_id}", "/applications/review?status=all",
                 f"/applications/{anna['applications'][0].id}", "/expenses/payments", "/expenses/review",
                 f"/expenses/claims/{anna['claim'].id}", "/applications/review.csv?status=all",
                 "/expenses/review.csv", "/expenses/payments.csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Anna Petrova" not in response.get_data(as_text=True), path
    client.post("/logout")
    assert client.post("/login", data={"email": "anything", "password": "x"}).status_code in (200, 422, 429)
    if not POSTGRES_URL:
        db.session.remove()
        db.engine.dispose()
        database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        with db.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        content = b"".join(f.read_bytes() for f in (database, database.with_name(database.name + "-wal"))
                           if f.exists())
        assert b"Anna Petrova" not in content and b"ANNA PETROVA" not in content
        assert b"Sarah Mitchell" in content  # the file was really read
    else:
        for table, column in (("users", "name"), ("audit_events", "actor_name"), ("outbox_messages", "body_text"),
                              ("application_comments", "author_name"), ("stored_files", "original_name"),
                              ("letters", "public_facts::text")):
            found = db.session.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} LIKE '%Anna Petrova%'"))
            assert found == 0, table


def test_erasure_waits_while_a_claim_is_unpaid_and_the_audit_trail_stays_append_only(
        client, login, make_user, make_application, make_conference, make_clinic):
    anna = doctor_with_records(make_user, make_application, make_conference, make_clinic, "Anna Petrova",
                               "751234567", paid=False)
    admin = make_user(roles=["admin"])
    login(admin)
    refused = client.post(f"/admin/users/{anna['doctor'].id}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "Cannot erase yet: an expense claim is not yet paid or decided." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, anna["doctor"].id).name == "Anna Petrova"
    yourself = client.post(f"/admin/users/{admin.id}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "you cannot erase your own account" in yourself.get_data(as_text=True)

    from portal import audit

    audit.record("account_created", admin, actor=anna["doctor"], to_state="active")
    db.session.commit()
    event_id = db.session.scalar(select(func.max(AuditEvent.id)))
    for statement in ("UPDATE audit_events SET action = 'forged' WHERE id = :id",
                      "UPDATE audit_events SET actor_name = 'Someone Else' WHERE id = :id",
                      "UPDATE audit_events SET actor_name = 'Former doctor #1', note = 'x' WHERE id = :id",
                      "DELETE FROM audit_events WHERE id = :id"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement), {"id": event_id})
        db.session.rollback()
