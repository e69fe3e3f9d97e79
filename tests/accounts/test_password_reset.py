"""Password reset by an e-mailed link that works once."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage


def reset_link(message: OutboxMessage) -> str:
    match = re.search(r"http://127\.0\.0\.1:5000(/password/reset/\S+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_reset_by_emailed_link_works_once(client, make_user):
    user = make_user(email="forgetful@example.org", preferred_language="ru")
    response = client.post("/password/forgot", data={"email": "Forgetful@Example.org"})
    assert response.status_code == 303
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipient == "forgetful@example.org" and message.language == "ru"
    link = reset_link(message)

    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "my new password 1", "confirm": "my new password 1"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 422
    assert client.post("/login", data={"email": user.email, "password": "my new password 1"}).status_code == 303

    client.post("/logout")
    again = client.post(link, data={"password": "another password 2", "confirm": "another password 2"})
    assert again.status_code == 410
    assert "no longer works" in again.get_data(as_text=True)


def test_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_tampered_or_expired_link_is_refused(client, make_user, app):
    make_user(email="someone@example.org")
    client.post("/password/forgot", data={"email": "someone@example.org"})
    link = reset_link(db.session.scalars(select(OutboxMessage)).one())
    assert client.get(link + "x").status_code == 410
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    assert client.get(link).status_code == 410


def test_mismatched_new_passwords_keep_the_form(client, make_user):
    make_user(email="someone@example.org")
    client.post("/password/forgot", data={"email": "someone@example.org"})
    link = reset_link(db.session.scalars(select(OutboxMessage)).one())
    response = client.post(link, data={"password": "my new password 1", "confirm": "not the same"})
    assert response.status_code == 422
    assert "not the same" in response.get_data(as_text=True)
