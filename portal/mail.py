"""E-mail through the outbox.

``queue_mail`` renders a message in the recipient's language and adds it to the current
transaction, so it is sent if and only if the change it reports is committed.
The committed message is handed to the task queue (``mail.deliver``), and the consumer sends it
within seconds; ``deliver_pending`` (a sweep every minute, and the ``send-mail`` command) sends
whatever else is due, retries included. Sent over SMTP or, when no ``MAIL_SERVER`` is set,
written as ``.eml`` files into ``instance/outbox/``. Each message
is committed as sent (or to be retried) before the next one goes, so a sender that dies
half-way through a batch never sends again what already went out.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from huey import crontab
from sqlalchemy import ColumnElement, and_, select

from .extensions import FORMAT_LOCALES, db
from .models import Letter, OutboxMessage, User
from .models.types import utcnow
from .tasks import enqueue_after_commit, periodic, task
from .transactions import transaction


def queue_mail(to: User | str, template: str, *, language: str | None = None, attach: Letter | None = None,
               **context: Any) -> OutboxMessage:
    """Render ``mail/<template>.subject.txt`` and ``mail/<template>.txt`` into the outbox;
    ``attach`` sends an issued letter's PDF with it."""
    if isinstance(to, User):
        recipient, language = to.email, language or to.preferred_language
        context.setdefault("recipient", to)
    else:
        recipient = to
    language = language or current_app.config["BABEL_DEFAULT_LOCALE"]
    context.setdefault("organisation", current_app.config["ORGANISATION_NAME"])
    with force_locale(FORMAT_LOCALES.get(language, language)):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        body = render_template(f"mail/{template}.txt", **context)
    message = OutboxMessage(recipient=recipient, subject=subject, body_text=body, language=language, letter=attach)
    db.session.add(message)
    enqueue_after_commit("mail.deliver", message)
    return message


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body_text)
    if message.letter is not None:
        email.add_attachment(message.letter.pdf, maintype="application", subtype="pdf",
                             filename=f"{message.letter.reference}.pdf")
    # Last: set_content and add_attachment move or reset the Content-* headers.
    email["Content-Language"] = message.language
    return email


def _smtp_connection() -> smtplib.SMTP:
    cfg = current_app.config
    if cfg["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"],
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if cfg["MAIL_USERNAME"]:
        smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    return smtp


def _write_eml(email: EmailMessage, message: OutboxMessage) -> None:
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message.created_at:%Y%m%d-%H%M%S}-{message.id:06d}.eml").write_bytes(bytes(email))


def _is_due() -> ColumnElement[bool]:
    return and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())


def _due_ids(limit: int) -> list[int]:
    with transaction():
        return list(db.session.scalars(select(OutboxMessage.id).where(_is_due()).order_by(OutboxMessage.id)
                                       .limit(limit)))


def _take(message_id: int) -> OutboxMessage | None:
    """The message, held by this sender until its transaction ends, if it is still due and no
    other sender holds it: two senders at once (cron overlapping) never take the same message
    on PostgreSQL."""
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, _is_due())
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))


def _send(message: OutboxMessage, smtp: smtplib.SMTP | None) -> tuple[str, smtplib.SMTP | None]:
    """Try one message; mark it sent, due again later, or failed. Returns that outcome and
    the connection to reuse (None once it broke)."""
    cfg = current_app.config
    email = _as_email(message)
    message.attempts += 1
    try:
        if cfg["MAIL_SERVER"]:
            if smtp is None:
                smtp = _smtp_connection()
            smtp.send_message(email)
        else:
            _write_eml(email, message)
    except (OSError, smtplib.SMTPException) as exc:
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
            message.status = "failed"
            return "failed", None  # a broken connection is not reused
        delay = cfg["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)
        message.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        return "retry", None
    message.status = "sent"
    message.sent_at = utcnow()
    message.last_error = None
    return "sent", smtp


@task("mail.deliver")
def deliver(message_id: int) -> str | None:
    """Send one message now (queued when the change it reports committed); None if it is not
    due (sent already, taken by another sender, or waiting for its retry)."""
    with transaction():
        message = _take(message_id)
        if message is None:
            return None
        outcome, smtp = _send(message, None)
    if smtp is not None:
        _quit(smtp)
    return outcome


@periodic("mail.sweep", crontab(minute="*"))
def sweep() -> None:
    """Every minute: what is due again (retries), and anything a crash kept from the queue."""
    deliver_pending()


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass


def deliver_pending(limit: int = 100) -> dict[str, int]:
    """Send what is due, one transaction per message: each is committed as sent, retried
    later or failed before the next one goes."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    smtp: smtplib.SMTP | None = None
    try:
        for message_id in _due_ids(limit):
            with transaction():
                message = _take(message_id)
                if message is None:  # sent meanwhile, or another sender has it now
                    continue
                outcome, smtp = _send(message, smtp)
                counts[outcome] += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return counts
