"""Supporting documents: checked by content, kept outside static/, served only to the owner
and staff; nobody sees another doctor's application."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import ApplicationDocument, StoredFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, application, content, name="acceptance.pdf", kind="acceptance_letter"):
    # The body is built in memory: Werkzeug's test client would spool a large one to a
    # temporary file that it never closes.
    token = client.csrf_token()
    file = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, body = encode_multipart({"csrf_token": token, "kind": kind, "file": file})
    return client.post(f"/applications/{application.id}/documents", data=body, csrf=False,
                       content_type=f"multipart/form-data; boundary={boundary}", headers={"X-CSRFToken": token})


def test_upload_and_download_a_pdf(app, client, login, doctor, make_application, make_user):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    response = upload(client, application, PDF, name="Письмо о принятии.pdf")
    assert response.status_code == 303
    document = db.session.scalars(select(ApplicationDocument)).one()
    stored = document.file
    assert stored.content_type == "application/pdf" and stored.size == len(PDF)
    path = Path(app.config["UPLOAD_FOLDER"]) / stored.storage_key[:2] / stored.storage_key
    assert path.read_bytes() == PDF
    assert "static" not in str(path) and "Письмо" not in str(path)
    download = client.get(f"/applications/{application.id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()

    client.post("/logout")
    login(make_user(roles=["staff"]))
    application.status = "submitted"
    db.session.commit()
    staff_download = client.get(f"/applications/{application.id}/documents/{document.id}")
    assert staff_download.status_code == 200 and staff_download.data == PDF
    staff_download.close()


def test_a_png_is_accepted_too(client, login, doctor, make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    assert upload(client, application, PNG, name="cv.png", kind="cv").status_code == 303
    assert db.session.scalars(select(StoredFile)).one().content_type == "image/png"


def test_a_text_file_named_pdf_is_refused(client, login, doctor, make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    response = upload(client, application, b"just some text, not a PDF at all", name="letter.pdf")
    assert response.status_code == 422
    assert "not a PDF, JPEG or PNG, whatever its name says" in response.get_data(as_text=True)
    assert db.session.scalars(select(StoredFile)).all() == []


def test_an_svg_is_refused(client, login, doctor, make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = upload(client, application, svg, name="logo.svg")
    assert response.status_code == 422
    assert "SVG images are not accepted" in response.get_data(as_text=True)


def test_an_upload_that_is_too_large_gets_the_413_page(client, login, doctor, make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    big = PDF + b"0" * (10 * 1024 * 1024 + 100 * 1024)
    response = upload(client, application, big)
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)
    assert db.session.scalars(select(StoredFile)).all() == []


def test_a_file_over_10_mb_is_refused_even_under_the_request_limit(app, client, login, doctor, make_application):
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    response = upload(client, application, PDF + b"0" * (10 * 1024 * 1024))
    assert response.status_code == 422 and "larger than 10 MB" in response.get_data(as_text=True)
    assert [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()] == []  # nothing half-kept


def test_removing_a_document_removes_the_file(app, client, login, doctor, make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    upload(client, application, PDF)
    document = db.session.scalars(select(ApplicationDocument)).one()
    path = Path(app.config["UPLOAD_FOLDER"]) / document.file.storage_key[:2] / document.file.storage_key
    assert client.post(f"/applications/{application.id}/documents/{document.id}/delete").status_code == 303
    assert not path.exists() and db.session.scalars(select(StoredFile)).all() == []


def test_another_doctors_application_and_document_are_not_found(app, client, login, doctor, make_user,
                                                                 make_application):
    application = make_application(doctor=doctor, status="draft")
    login(doctor)
    upload(client, application, PDF)
    document = db.session.scalars(select(ApplicationDocument)).one()
    application.status = "submitted"
    db.session.commit()
    client.post("/logout")
    login(make_user(roles=["doctor"]))
    for url in (f"/applications/{application.id}", f"/applications/{application.id}/documents/{document.id}",
                f"/applications/{application.id}/edit", f"/applications/{application.id}/report"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/applications/{application.id}/withdraw").status_code == 404
    assert upload(client, application, PDF).status_code == 404
    assert "Learn the new CAR-T" not in client.get("/applications/").get_data(as_text=True)


def test_experts_and_finance_have_no_access(client, login, make_user, make_application):
    application = make_application()
    login(make_user(roles=["expert", "finance"]))
    assert client.get("/applications/").status_code == 403
    assert client.get(f"/applications/{application.id}").status_code == 403
    assert client.get("/applications/review").status_code == 403


def test_staff_do_not_see_drafts(client, login, make_user, make_application):
    draft = make_application(status="draft")
    login(make_user(roles=["staff"]))
    assert client.get(f"/applications/{draft.id}").status_code == 404
    assert "Learn the new CAR-T" not in client.get("/applications/review?status=all").get_data(as_text=True)


def test_staff_cannot_edit_a_doctors_application(client, login, make_user, make_application):
    application = make_application(status="changes_requested")
    login(make_user(roles=["staff", "admin"]))
    assert client.get(f"/applications/{application.id}/edit").status_code == 403
    assert upload(client, application, PDF).status_code == 403
