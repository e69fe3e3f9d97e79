"""The public verification page: valid, superseded or revoked; never passport data."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.letters import letter_kind, obtain, revoke
from portal.models import Letter, User


def issue(application, by):
    return obtain(letter_kind("visa_support"), application, by=by)


def test_valid_superseded_and_revoked(app, client, approved_application, make_user):
    application = approved_application()
    staff = make_user(roles=["staff"])
    first = issue(application, staff)
    page = client.get(f"/verify/{first.token}")  # nobody signed in
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid" in html
    for shown in (first.reference, "ANNA SOKOLOVA", "EHA Congress", "11 June 2027", "Gift of Life",
                  "Visa-support letter"):
        assert shown in html, shown
    for secret in ("751234567", "1986", "17 April", "Russian Federation"):
        assert secret not in html, secret

    doctor = db.session.get(User, application.beneficiary_id)
    doctor.passport_full_name = "ANNA PETROVA"
    db.session.commit()
    second = issue(application, staff)
    html = client.get(f"/verify/{first.token}").get_data(as_text=True)
    assert "Superseded" in html and second.reference in html

    revoke(second, "Issued by mistake.", by=staff, holder=doctor)
    html = client.get(f"/verify/{second.token}").get_data(as_text=True)
    assert "Revoked" in html and "Issued by mistake." not in html  # the reason is internal


def test_unknown_tokens_get_a_plain_not_found(client):
    response = client.get("/verify/no-such-token")
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)


def test_the_verification_page_speaks_russian_and_fits_a_phone(client, approved_application, make_user):
    letter = issue(approved_application(), make_user(roles=["staff"]))
    html = client.get(f"/verify/{letter.token}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html and 'name="viewport"' in html
    assert "Действительно" in html


def test_references_are_sequential_per_year(app, approved_application, make_user):
    staff = make_user(roles=["staff"])
    letters = [issue(approved_application(), staff) for _ in range(3)]
    year = letters[0].issued_at.year
    assert [letter.reference for letter in letters] == [f"EP-{year}-{n:04d}" for n in (1, 2, 3)]
    assert db.session.scalar(select(Letter.sequence).order_by(Letter.id.desc())) == 3
