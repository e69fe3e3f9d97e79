"""A doctor registers: account, role, welcome e-mail, clear errors that keep the input."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, User


def register(client, **overrides):
    data = {"name": "Dr Ivan Petrov", "email": "Ivan.Petrov@Example.org",
            "password": "long enough password", "confirm": "long enough password"}
    data.update(overrides)
    return client.post("/register", data=data)


def test_a_doctor_registers_and_is_signed_in(client):
    response = register(client)
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    user = User.by_email("ivan.petrov@example.org")
    assert user.email == "ivan.petrov@example.org"
    assert user.roles == {"doctor"}
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough password" not in user.password_hash
    assert "Dr Ivan Petrov" in client.get("/profile").get_data(as_text=True)
    mail = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mail] == ["ivan.petrov@example.org"]
    assert mail[0].status == "pending" and "Welcome" in mail[0].subject
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == user.id)) == "account_registered"


def test_registering_in_russian_keeps_russian_for_the_account(client):
    response = client.post("/register", data={"name": "Ольга", "email": "olga@example.org",
                                              "password": "long enough password", "confirm": "long enough password"},
                           headers={"Accept-Language": "ru"})
    assert response.status_code == 303
    assert User.by_email("olga@example.org").preferred_language == "ru"
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.language == "ru"


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
    assert db.session.scalar(select(User).where(User.email == "not-an-address")) is None


def test_an_address_already_registered_is_refused_clearly(client, make_user):
    make_user(email="taken@example.org")
    response = register(client, email="TAKEN@example.org")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(User).where(User.email == "taken@example.org")).all()) == 1


def test_a_signed_in_user_is_sent_from_register_to_the_dashboard(client, login, make_user):
    login(make_user())
    response = client.get("/register")
    assert response.status_code == 302 and response.headers["Location"] == "/"
