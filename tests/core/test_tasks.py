"""The task queue: a task is handed over when its transaction commits (never for a rollback),
e-mail is delivered by the consumer within seconds, and a stalled job is queued again once,
however many consumers sweep at the same moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import tasks
from portal.extensions import db
from portal.mail import queue_mail
from portal.models import Job, OutboxMessage
from portal.models.types import utcnow
from tests.fixtures.concurrency import at_once
from tests.fixtures.tasks import wait_until


def queued(app) -> int:
    return tasks.queue_of(app).pending_count()


def test_a_task_is_queued_when_its_transaction_commits_and_never_for_a_rollback(app, make_user):
    person = make_user()
    queue_mail(person, "password_changed")
    assert queued(app) == 0  # not yet: the change may still roll back
    db.session.rollback()
    assert queued(app) == 0 and db.session.scalars(select(OutboxMessage)).all() == []

    queue_mail(person, "password_changed")
    db.session.commit()
    assert queued(app) == 1
    task = tasks.queue_of(app).dequeue()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert task.name == "mail.deliver" and task.args == (message.id,)


def test_the_queued_delivery_sends_the_message_to_a_real_smtp_server(app, make_user, smtp_server, run_queued):
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    person = make_user(email="anna@example.org")
    queue_mail(person, "password_changed")
    db.session.commit()
    assert run_queued() == 1
    assert [to for _sender, (to,) in inbox.envelopes] == ["anna@example.org"]
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.status)).one() == "sent"
    assert run_queued() == 0 and len(inbox.envelopes) == 1  # once


def test_an_email_reaches_the_outbox_folder_with_only_the_consumer_running(app, make_user, consumer_process):
    """Development: no MAIL_SERVER, no command run by hand."""
    consumer = consumer_process()
    person = make_user(email="new.user@example.org")
    queue_mail(person, "password_changed")
    db.session.commit()
    outbox = Path(app.instance_path) / "outbox"
    files = wait_until(lambda: sorted(outbox.glob("*.eml")) if outbox.exists() else [],
                       what="the .eml file", timeout=60)
    assert len(files) == 1 and "To: new.user@example.org" in files[0].read_text(), consumer.output()

    def marked_sent() -> bool:  # the file is written first, then the message committed as sent
        db.session.rollback()
        return db.session.scalars(select(OutboxMessage.status)).one() == "sent"

    wait_until(marked_sent, what="the message marked sent", timeout=30)


@pytest.mark.parametrize("config_overrides", [{"TASK_QUEUE_URL": "immediate"}])
def test_immediate_mode_runs_the_task_body_at_once(app, make_user, config_overrides):
    queue_mail(make_user(email="quick@example.org"), "password_changed")
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.status)).one() == "sent"
    assert len(list((Path(app.instance_path) / "outbox").glob("*.eml"))) == 1


def test_a_stalled_job_is_queued_again_once_however_many_consumers_sweep(app, staff):
    long_ago = utcnow() - dt.timedelta(seconds=app.config["JOB_STALL_SECONDS"] + 60)
    stalled = Job(kind="donors.thank_pending", task="donors.thank_pending", running_key="donors.thank_pending",
                  state="running", started_by_id=staff.id, total=10, done=3, params={}, updated_at=long_ago)
    recent = Job(kind="other", task="donors.thank_pending", running_key="other", state="running",
                 started_by_id=staff.id, total=1, params={})
    finished = Job(kind="old", task="donors.thank_pending", state="done", started_by_id=staff.id, params={},
                   updated_at=long_ago)
    db.session.add_all([stalled, recent, finished])
    db.session.commit()

    def sweep() -> None:
        with app.app_context():
            tasks.sweep()

    at_once([sweep] * 4)
    huey = tasks.queue_of(app)
    queued_again = [huey.dequeue() for _ in range(huey.pending_count())]
    assert [(t.name, t.args) for t in queued_again] == [("donors.thank_pending", (stalled.id,))]
    db.session.expire_all()
    assert db.session.get(Job, stalled.id).updated_at > long_ago  # taken: the next sweep leaves it


def test_the_queue_follows_the_settings(make_app, tmp_path, redis_url):
    assert type(tasks.queue_of(make_app()).storage).__name__ == "SqliteStorage"
    assert (tmp_path / "instance" / "tasks.db").exists()
    assert type(tasks.queue_of(make_app(TASK_QUEUE_URL=redis_url)).storage).__name__ == "RedisStorage"
    assert tasks.queue_of(make_app(TASK_QUEUE_URL="immediate")).immediate
    with pytest.raises(RuntimeError, match="TASK_QUEUE_URL"):
        make_app(TASK_QUEUE_URL="amqp://elsewhere")


def test_a_savepoint_neither_hands_over_nor_forgets_what_its_transaction_queued(app, make_user):
    person = make_user()
    queue_mail(person, "password_changed")  # before the savepoint
    with db.session.begin_nested():
        queue_mail(person, "password_changed")
    assert queued(app) == 0  # released, but the transaction has not committed
    try:
        with db.session.begin_nested():
            queue_mail(person, "password_changed")
            raise RuntimeError("this part is given up")
    except RuntimeError:
        pass
    db.session.commit()
    assert queued(app) == 3  # the first two, and the given-up one's task finds no message to send
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2
