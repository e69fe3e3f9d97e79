"""A sender that dies half-way through a batch never sends again what already went out: the
outbox commits each message as it is delivered.

``flask send-mail`` runs as cron runs it, in a process of its own, against a real SMTP server
on loopback; the server kills that process (SIGKILL: no clean-up, no last commit) while the
third message is being sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.mail import deliver_pending, queue_mail
from portal.models import OutboxMessage
from tests.fixtures.smtp import Inbox, free_port

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 5


class KillsTheSender(Inbox):
    """Keeps what it receives, except that the ``fatal``-th message kills the process sending it."""

    def __init__(self, fatal: int) -> None:
        super().__init__()
        self.fatal = fatal
        self.seen = 0
        self.sender_pid: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.seen += 1
        if self.seen == self.fatal and self.sender_pid is not None:
            os.kill(self.sender_pid, signal.SIGKILL)
            return "451 The sender is gone"
        return await super().handle_DATA(server, session, envelope)


def send_mail_process(app: Any, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("PORTAL_") and name != "DATABASE_URL"}
    environment.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PORTAL_INSTANCE_PATH": str(tmp_path / "sender"),
        "PORTAL_SECRET_KEY": app.config["SECRET_KEY"],
        "PORTAL_FIELD_ENCRYPTION_KEYS": json.dumps(app.config["FIELD_ENCRYPTION_KEYS"]),
        "PORTAL_MAIL_SERVER": "127.0.0.1", "PORTAL_MAIL_PORT": str(port),
        "PORTAL_MAIL_FROM": "Programme Portal <programme@example.org>",
    })
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "send-mail"], cwd=ROOT,
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_sender_killed_mid_batch_keeps_what_it_sent(app, make_user, tmp_path):
    people = [make_user(email=f"doctor{n}@example.org") for n in range(1, MESSAGES + 1)]
    recipients = [person.email for person in people]
    for person in people:
        queue_mail(person, "password_changed")
    db.session.commit()
    ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    db.session.close()  # the sender runs while the test holds no transaction

    inbox = KillsTheSender(fatal=3)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        sender = send_mail_process(app, controller.port, tmp_path)
        inbox.sender_pid = sender.pid
        assert sender.wait(timeout=120) == -signal.SIGKILL

        states = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
        assert [states[i] for i in ids] == ["sent", "sent", "pending", "pending", "pending"]
        assert [to for _sender, (to,) in inbox.envelopes] == recipients[:2]

        # PostgreSQL lets go of the dead sender's row lock once it sees the connection gone.
        db.session.execute(select(OutboxMessage.id).where(OutboxMessage.id == ids[2]).with_for_update())
        db.session.commit()

        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
        assert deliver_pending() == {"sent": 3, "retry": 0, "failed": 0}  # the rest, and only the rest
    finally:
        controller.stop()
    assert Counter(to for _sender, (to,) in inbox.envelopes) == Counter(recipients)  # nobody twice
    assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}
