"""The visa-support letter, read back from the PDF as a consulate would read it."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.extensions import db
from portal.models import Letter, OutboxMessage, User
from tests.fixtures.pdf import pdf_fonts, pdf_text, pdf_to_png, qr_codes


def download(client, application):
    """Press the panel's button: issue the letter (a POST) unless the current one still
    holds, then download it."""
    response = client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True)
    body = response.data
    response.close()
    return response, body


def test_the_letter_says_who_where_when_and_what_is_paid(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    response, pdf = download(client, application)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(pdf)
    letter = db.session.scalars(select(Letter)).one()
    for expected in ("ANNA SOKOLOVA", "751234567", "Haematologist", "Moscow Partner Clinic", "EHA Congress",
                     "Stockholm, Sweden", "11 June 2027", "14 June 2027", "Consulate of Sweden",
                     "Registration", "€600.00", "Travel", "€450.00", letter.reference):
        assert expected in text, expected
    assert "Other" not in text and "€50.00" not in text  # only the categories a consulate is told about
    assert letter.reference.endswith("-0001") and letter.reference.startswith("EP-")
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256 == response.headers["X-Letter-SHA256"]


def test_downloading_again_returns_the_stored_letter(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    _, first = download(client, application)
    _, second = download(client, application)
    again = client.get(f"/letters/visa_support/{application.id}")  # the link the panel shows now
    assert first == second == again.data
    again.close()
    assert len(db.session.scalars(select(Letter)).all()) == 1


def test_a_change_in_the_facts_issues_a_new_letter_and_supersedes_the_old(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    _, first = download(client, application)
    doctor = db.session.get(User, application.beneficiary_id)
    doctor.passport_full_name = "ANNA SOKOLOVA-PETROVA"
    db.session.commit()
    _, second = download(client, application)
    assert "ANNA SOKOLOVA-PETROVA" in pdf_text(second)
    old, new = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert (old.status, old.superseded_by_id, new.status) == ("superseded", new.id, "valid")
    assert new.reference.endswith("-0002")
    verify = client.get(f"/verify/{old.token}").get_data(as_text=True)
    assert "Superseded" in verify and new.reference in verify


def test_a_cyrillic_name_renders_with_real_glyphs(client, login, approved_application, tmp_path):
    application = approved_application(passport_full_name="АННА СОКОЛОВА", position="Врач-гематолог")
    login(application.doctor)
    _, pdf = download(client, application)
    text = pdf_text(pdf)
    assert "АННА СОКОЛОВА" in text and "Врач-гематолог" in text
    fonts = pdf_fonts(pdf, tmp_path)
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("DejaVu" in row for row in rows), fonts  # one family with Cyrillic, no fallback
    assert all(" yes " in row for row in rows)  # every font embedded
    pages = pdf_to_png(pdf, tmp_path)
    assert len(pages) == 1 and pages[0].stat().st_size > 10_000


def test_the_qr_code_encodes_the_verification_address(app, client, login, approved_application, tmp_path):
    application = approved_application()
    login(application.doctor)
    _, pdf = download(client, application)
    letter = db.session.scalars(select(Letter)).one()
    [page] = pdf_to_png(pdf, tmp_path, dpi=200)
    assert qr_codes(page) == [f"{app.config['BASE_URL']}/verify/{letter.token}"]
    assert f"/verify/{letter.token}" in pdf_text(pdf).replace("\n", "").replace(" ", "")


def test_what_is_missing_is_said_and_nothing_is_issued(client, login, approved_application):
    application = approved_application(passport_number=None, position=None)
    login(application.doctor)
    response, _ = download(client, application)
    assert response.status_code == 409
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "your passport number" in page and "your position" in page
    assert db.session.scalars(select(Letter)).all() == []


def test_no_letter_before_approval(client, login, approved_application):
    application = approved_application()
    application.status = "submitted"
    db.session.commit()
    login(application.doctor)
    response, _ = download(client, application)
    assert response.status_code == 409
    assert "must be approved" in client.get(f"/letters/visa_support/{application.id}").get_data(as_text=True)


def test_another_doctor_cannot_download_it(client, login, approved_application, make_user):
    application = approved_application()
    login(make_user(roles=["doctor"]))
    response, _ = download(client, application)
    assert response.status_code == 404
    assert client.get("/letters/no_such_kind/1").status_code == 404
    assert db.session.scalars(select(Letter)).all() == []


def test_staff_download_revoke_and_issue_anew(client, login, approved_application, make_user):
    application = approved_application()
    login(make_user(roles=["staff"], name="Emma Clarke"))
    response, pdf = download(client, application)
    assert response.status_code == 200
    letter = db.session.scalars(select(Letter)).one()
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert letter.reference in page and "Revoke" in page

    detail = f"/applications/{application.id}"
    assert client.post(f"/letters/{letter.id}/revoke", data={f"letter{letter.id}-reason": "",
                                                              f"letter{letter.id}-next": detail}).status_code == 303
    assert db.session.get(Letter, letter.id).status == "valid"  # no reason, no revocation
    client.post(f"/letters/{letter.id}/revoke", data={f"letter{letter.id}-reason": "Issued to the wrong consulate.",
                                                      f"letter{letter.id}-next": detail})
    assert db.session.get(Letter, letter.id).status == "revoked"
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.recipient == application.doctor.email and letter.reference in mail.subject
    assert "Revoked" in client.get(f"/verify/{letter.token}").get_data(as_text=True)

    client.post("/logout")
    login(application.doctor)
    response, _ = download(client, application)
    assert response.status_code == 409  # the doctor cannot simply download it again
    assert client.post(f"/letters/visa_support/{application.id}/reissue", data={"next": detail}).status_code == 403

    client.post("/logout")
    login(make_user(roles=["staff"]))
    assert client.post(f"/letters/visa_support/{application.id}/reissue", data={"next": detail}).status_code == 303
    newest = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    assert newest.status == "valid" and newest.id != letter.id


def test_the_letter_pdf_is_stored_encrypted(app, client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    download(client, application)
    from sqlalchemy import text

    raw_pdf, raw_facts = db.session.execute(text("SELECT pdf, facts FROM letters")).one()
    assert not bytes(raw_pdf).startswith(b"%PDF") and "751234567" not in raw_facts
