"""Admins keep the letterhead; new letters use it, issued letters keep theirs."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Letter, OrganisationSettings
from tests.fixtures.pdf import pdf_text

# A 1×1 PNG.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc00000030101006a6fd0f60000000049454e44ae426082")

SETTINGS = {"name": "Gift of Life Foundation", "address": "12 Charity Lane\nLondon N1 1AA",
            "charity_number": "1234567", "signatory_name": "Sarah Mitchell", "signatory_title": "Director",
            "reference_prefix": "gol", "programme_since": "2011", "doctors_before_portal": "70",
            "passport_retention_days": "90", "upload_retention_days": "30", "receipt_retention_years": "6",
            "inactive_account_years": "3"}


def images_in(pdf: bytes, tmp_path) -> int:
    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages is not installed")
    path = tmp_path / "images.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True).stdout.decode()
    return sum(1 for row in listing.splitlines()[2:] if row.split()[2] == "image")  # not counting alpha masks


def test_an_admin_sets_the_letterhead_and_new_letters_use_it(client, login, make_user, approved_application,
                                                              tmp_path):
    application = approved_application()
    login(make_user(roles=["admin"]))
    assert client.get("/admin/organisation").status_code == 200
    response = client.post("/admin/organisation", content_type="multipart/form-data",
                           data={**SETTINGS, "logo": (io.BytesIO(PNG), "logo.png")})
    assert response.status_code == 303
    settings = db.session.get(OrganisationSettings, 1)
    assert settings.reference_prefix == "GOL" and settings.logo == PNG and settings.logo_type == "image/png"
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "organisation_settings")
                              ).all() == ["organisation_updated"]

    response = client.post(f"/letters/visa_support/{application.id}/issue", follow_redirects=True)
    pdf = response.data
    response.close()
    text = pdf_text(pdf)
    assert "Gift of Life Foundation" in text and "12 Charity Lane" in text and "1234567" in text
    assert "Sarah Mitchell" in text and "Director" in text
    assert db.session.scalars(select(Letter)).one().reference.startswith("GOL-")
    assert images_in(pdf, tmp_path) == 1  # the logo (the QR code is vector)


def test_bad_settings_are_field_errors_and_nothing_changes(client, login, make_user):
    login(make_user(roles=["admin"]))
    response = client.post("/admin/organisation", content_type="multipart/form-data",
                           data={**SETTINGS, "name": "", "reference_prefix": "EP 2026!",
                                 "logo": (io.BytesIO(b"<svg/>"), "logo.svg")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the organisation" in html and "Use 1 to 10 letters" in html
    response = client.post("/admin/organisation", content_type="multipart/form-data",
                           data={**SETTINGS, "logo": (io.BytesIO(b"<svg/>"), "logo.svg")})
    assert response.status_code == 422 and "Upload a PNG or JPEG image." in response.get_data(as_text=True)
    assert 'value="Gift of Life Foundation"' in response.get_data(as_text=True)
    assert db.session.get(OrganisationSettings, 1).name != "Gift of Life Foundation"


def test_only_admins_change_the_letterhead(client, login, make_user):
    login(make_user(roles=["staff", "finance"]))
    assert client.get("/admin/organisation").status_code == 403
    assert client.post("/admin/organisation", data=SETTINGS).status_code == 403


@pytest.mark.parametrize("config_overrides", [{"MODULES": ["expenses"]}])
def test_without_the_applications_module_there_is_no_visa_letter(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    assert client.get(f"/letters/visa_support/{application.id}").status_code == 404
    assert client.post(f"/letters/visa_support/{application.id}/issue").status_code == 404
