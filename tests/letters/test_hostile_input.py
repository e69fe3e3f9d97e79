"""Whatever people type, a letter shows it as text, embeds no file and fetches nothing."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.letters import letter_kind
from portal.letters.engine import AllowListFetcher, html_to_pdf
from portal.letters.service import letter_html
from portal.models import Letter
from tests.fixtures.pdf import embedded_files, pdf_text

ATTACHMENT = "<link rel=attachment href=file:///etc/passwd>"
IMAGE = "<img src=http://127.0.0.1:9/tracker.png>"
CSS = "x{background:url(http://127.0.0.1:9/bg.png)}"


def squash(text: str) -> str:
    return "".join(text.split())


def test_hostile_profile_and_conference_fields_stay_text(app, client, login, approved_application, tmp_path):
    application = approved_application(position=ATTACHMENT, specialty=CSS)
    application.conference.name = IMAGE
    db.session.commit()
    login(application.doctor)

    fetcher = AllowListFetcher(current_app.static_folder)
    kind = letter_kind("visa_support")
    html = letter_html(kind, kind.facts(application), reference="EP-2026-9999", token="t0ken",
                       issued_on=dt.date(2026, 11, 26))
    pdf = html_to_pdf(html, fetcher)
    db.session.commit()  # the letterhead settings were just created with their defaults
    assert fetcher.refused == [] and all(url.startswith("data:") for url in fetcher.requests)

    response = client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True)
    served = response.data
    response.close()
    for raw in (pdf, served):
        text = squash(pdf_text(raw))  # long values wrap across lines
        assert squash(ATTACHMENT) in text and squash(IMAGE) in text and squash(CSS) in text
        assert b"/EmbeddedFile" not in raw and b"/Filespec" not in raw
        assert "0 embedded files" in embedded_files(raw, tmp_path)
    assert db.session.scalars(select(Letter)).one().status == "valid"


def test_the_fetcher_refuses_files_and_the_network_even_for_raw_html(app, tmp_path):
    fetcher = AllowListFetcher(current_app.static_folder)
    html = ("<html><head><link rel=stylesheet href=file:///etc/passwd>"
            "<style>body{background:url(http://127.0.0.1:9/bg.png)}</style></head><body>"
            f"{ATTACHMENT}{IMAGE}<img src='/static/../../../../etc/passwd'>"
            "<img src='/static/css/portal.css'><p>body</p></body></html>")
    pdf = html_to_pdf(html, fetcher)
    refused = " ".join(fetcher.refused)
    assert "file:///etc/passwd" in refused and "127.0.0.1:9/tracker.png" in refused
    assert "127.0.0.1:9/bg.png" in refused and "etc/passwd" in refused
    allowed = [url for url in fetcher.requests if url not in fetcher.refused]
    assert allowed == ["https://letter.invalid/static/css/portal.css"]  # the app's own static file only
    assert b"/EmbeddedFile" not in pdf
    assert "0 embedded files" in embedded_files(pdf, tmp_path)
