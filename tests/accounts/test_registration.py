"""A doctor registers: the e-mailed link creates the account; the page never says whether
an address already has one; clear errors keep the input."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, User


def register(client, **overrides):
    data = {"name": "Dr Ivan Petrov", "email": "Ivan.Petrov@Example.org",
            "password": "long enough password", "confirm": "long enough password"}
    data.update(overrides)
    return client.post("/register", data=data)


def mail_to(address):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)
                              .order_by(OutboxMessage.id)).all()


def link_in(message):
    return re.search(r"https?://\S+", message.body_text).group(0)


def test_a_doctor_registers_through_the_emailed_link_and_is_signed_in(app, client):
    response = register(client)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert User.by_email("ivan.petrov@example.org") is None  # nothing until the address answers
    [message] = mail_to("ivan.petrov@example.org")
    link = link_in(message)
    assert link.startswith(f"{app.config['BASE_URL']}/register/")
    assert "$argon2" not in link and "long enough password" not in link

    response = client.get(urlsplit(link).path)
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    user = User.by_email("ivan.petrov@example.org")
    assert user.email == "ivan.petrov@example.org" and user.roles == {"doctor"}
    assert user.password_hash.startswith("$argon2id$")
    assert "Dr Ivan Petrov" in client.get("/profile").get_data(as_text=True)
    assert "Welcome" in mail_to("ivan.petrov@example.org")[-1].subject
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == user.id)) == "account_registered"

    client.post("/logout")
    assert client.get(urlsplit(link).path).status_code == 410  # a link works once
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert client.post("/login", data={"email": user.email, "password": "long enough password"}).status_code == 303


def test_the_page_says_the_same_whether_or_not_the_address_has_an_account(client, make_user):
    owner = make_user(email="taken@example.org", name="Dr Existing Owner")
    fresh = register(client, email="fresh@example.org")
    taken = register(client, email="TAKEN@example.org")
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    page = client.get("/login").get_data(as_text=True)
    assert "We have sent a message to taken@example.org." in page
    assert "already exists" not in page
    # The owner is told, and nothing about the account changed.
    [message] = mail_to("taken@example.org")
    assert "tried to register" in message.subject and "/password/forgot" in message.body_text
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "taken@example.org")) == 1
    db.session.refresh(owner)
    assert owner.name == "Dr Existing Owner"
    assert client.post("/login", data={"email": owner.email, "password": "correct horse battery"}).status_code == 303


def test_a_forged_registration_link_is_refused(client):
    assert client.get("/register/not-a-real-token").status_code == 410
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registering_in_russian_keeps_russian_for_the_account(client):
    response = client.post("/register", data={"name": "Ольга", "email": "olga@example.org",
                                              "password": "long enough password", "confirm": "long enough password"},
                           headers={"Accept-Language": "ru"})
    assert response.status_code == 303
    [message] = mail_to("olga@example.org")
    assert message.language == "ru"
    client.get(urlsplit(link_in(message)).path)
    assert User.by_email("olga@example.org").preferred_language == "ru"


def test_bad_input_shows_errors_beside_the_fields_and_keeps_what_was_typed(client):
    response = register(client, email="not-an-address", password="short", confirm="different")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert 'id="email-error"' in html and "name@example.org" in html
    assert 'id="password-error"' in html and "At least 10 characters." in html
    assert 'id="confirm-error"' in html
    assert 'value="Dr Ivan Petrov"' in html and 'value="not-an-address"' in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_signed_in_user_is_sent_from_register_to_the_dashboard(client, login, make_user):
    login(make_user())
    response = client.get("/register")
    assert response.status_code == 302 and response.headers["Location"] == "/"
