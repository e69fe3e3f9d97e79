"""The outbox: written with the change, delivered over real SMTP, retried, or kept as .eml."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.mail import deliver_pending, queue_mail
from portal.models import OutboxMessage
from portal.models.types import utcnow
from tests.fixtures.smtp import free_port


def test_an_email_reaches_a_real_smtp_server_on_loopback(app, runner, smtp_server, make_user):
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                      MAIL_FROM="Programme Portal <programme@example.org>")
    user = make_user(email="doctor@example.org", name="Dr Anna Sokolova", preferred_language="ru")
    queue_mail(user, "welcome", login_url="http://localhost/login")
    db.session.commit()

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert inbox.envelopes == [("programme@example.org", ["doctor@example.org"])]
    received = inbox.messages[0]
    assert received["To"] == "doctor@example.org"
    assert received["Content-Language"] == "ru"
    assert "Dr Anna Sokolova" in received.get_content()
    assert "Здравствуйте" in received.get_content()  # written in the doctor's language
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == "sent" and message.sent_at is not None and message.attempts == 1

    assert "sent 0" in runner.invoke(args=["send-mail"]).output  # never twice
    assert len(inbox.messages) == 1


def test_a_message_waits_for_its_transaction(app, make_user):
    user = make_user()
    queue_mail(user, "password_changed")
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_an_unreachable_server_is_retried_later_then_marked_failed(app, make_user):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2, MAIL_TIMEOUT=2)
    queue_mail(make_user(), "password_changed")
    db.session.commit()

    assert deliver_pending() == {"sent": 0, "retry": 1, "failed": 0}
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at > utcnow() + dt.timedelta(seconds=200)
    assert "ConnectionRefusedError" in message.last_error
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet

    message.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 1}
    assert db.session.scalars(select(OutboxMessage)).one().status == "failed"


def test_without_smtp_settings_messages_are_written_as_eml_files(app, make_user):
    queue_mail(make_user(email="someone@example.org"), "password_changed")
    db.session.commit()
    assert deliver_pending()["sent"] == 1
    files = list((Path(app.instance_path) / "outbox").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["To"] == "someone@example.org"
    assert "password" in parsed["Subject"].lower()
