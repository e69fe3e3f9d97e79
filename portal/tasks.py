"""Long work in the background, on a Huey queue, with a ``Job`` record people can watch.

The queue comes from the settings: a SQLite file in the instance folder by default
(``instance/tasks.db``, nothing else to run), Redis when ``TASK_QUEUE_URL = "redis://…"`` (several
consumers on several machines), or ``"immediate"`` (a task runs as soon as it is queued, in the
queuing thread: unit tests of task bodies only). Each app gets a Huey instance of its own
(``app.extensions["huey"]``) with every task registered on it, run inside that app's context.
``flask --app portal consumer`` (or ``huey_consumer portal.worker.huey``) runs them.

Modules declare their work with ``@task("name")`` and ``@periodic("name", crontab(...))`` in their
own package and queue it with ``enqueue_after_commit``: the task is handed to the queue once the
transaction that asked for it commits (never for a change that rolled back), and a periodic sweep
catches what a crash between the commit and the queue lost.

A ``Job`` is long work somebody started: its kind, who, queued → running → done or failed,
progress ``done`` of ``total``, a result summary, the error. ``start_job`` records it (and the
audit entry) and queues the task that does it; while a job of a kind is queued or running, starting
another of that kind joins it (a unique ``running_key``, so two people at once cannot start two).
A job whose progress stops for ``JOB_STALL_SECONDS`` (its consumer was killed) is queued again by
the sweep; a failed one says why and can be resumed. Job tasks must be safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from huey import Huey, crontab
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .errors import UserError
from .extensions import db, lock_row
from .models import Job, User
from .models.types import utcnow
from .transactions import transaction

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

# Every task of every module, by name: bound to each app's queue in ``init_tasks``.
TASKS: dict[str, Callable[..., Any]] = {}
PERIODIC: dict[str, tuple[Callable[[dt.datetime], bool], Callable[[], Any]]] = {}
_AFTER_COMMIT = "portal_tasks_after_commit"


def task(name: str) -> Callable[[F], F]:
    """Declare ``function`` as the task ``name`` (its arguments: plain values, ids not objects)."""

    def register(function: F) -> F:
        TASKS[name] = function
        return function

    return register


def periodic(name: str, schedule: Callable[[dt.datetime], bool]) -> Callable[[F], F]:
    """Declare ``function`` (no arguments) to run on ``schedule`` (``huey.crontab``) by every consumer."""

    def register(function: F) -> F:
        PERIODIC[name] = (schedule, function)
        return function

    return register


def _storage(app: Flask, name: str) -> Any:
    url = (app.config.get("TASK_QUEUE_URL") or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(name, url=url)
    if url == "immediate":
        return MemoryStorage(name)
    if url and not url.startswith("sqlite:///"):
        raise RuntimeError(f"TASK_QUEUE_URL is {url!r}: use redis://…, sqlite:///path or leave it unset")
    filename = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "tasks.db")
    return SqliteStorage(name, filename=filename)


def init_tasks(app: Flask) -> None:
    """Give ``app`` its queue, with every task declared so far bound to it and run in its context
    (``create_app`` calls it once the core and the modules are imported)."""
    name = app.config.get("TASK_QUEUE_NAME") or "portal"
    huey = Huey(name, results=False, utc=True, storage_class=MemoryStorage)
    huey.storage = _storage(app, name)
    huey.immediate = app.config.get("TASK_QUEUE_URL") == "immediate"  # then on a memory queue

    def in_app(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any) -> Any:
            with app.app_context():
                try:
                    return function(*args)
                finally:
                    db.session.remove()

        return run

    bound = {task_name: huey.task(name=task_name)(in_app(function)) for task_name, function in TASKS.items()}
    for task_name, (schedule, function) in PERIODIC.items():
        bound[task_name] = huey.periodic_task(schedule, name=task_name)(in_app(function))

    @huey.on_startup()
    def fresh_connections() -> None:
        # A process worker is forked from the consumer: it must not share the parent's connections.
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = bound


def queue_of(app: Flask | None = None) -> Huey:
    """The Huey instance of ``app`` (the current one by default)."""
    return (app or current_app).extensions["huey"]


def enqueue(name: str, *args: Any, app: Flask | None = None) -> None:
    """Hand the task ``name(*args)`` to the queue now."""
    (app or current_app).extensions["huey_tasks"][name](*args)


def enqueue_after_commit(name: str, *args: Any) -> None:
    """Queue ``name(*args)`` when the current transaction commits; forget it if it rolls back.
    An argument that is a model object goes as its primary key (known by then)."""
    pending = db.session.info.setdefault(_AFTER_COMMIT, [])
    pending.append((current_app._get_current_object(), name, args))  # type: ignore[attr-defined]


def _plain(value: Any) -> Any:
    if hasattr(value, "_sa_instance_state"):
        identity = sa_inspect(value).identity
        return identity[0] if identity else None
    return value


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: what it asked for waits for the real commit
        return
    for app, name, args in session.info.pop(_AFTER_COMMIT, []):
        try:
            enqueue(name, *(_plain(a) for a in args), app=app)
        except Exception:  # the change is committed; the sweep picks the work up later
            log.exception("could not queue %s%r: the next sweep will", name, args)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction is over: a rollback queues nothing
        session.info.pop(_AFTER_COMMIT, None)


# --- Jobs -------------------------------------------------------------------------------

def start_job(kind: str, task_name: str, *, by: User, total: int, params: dict[str, Any]) -> tuple[Job, bool]:
    """The job of ``kind`` now queued or running, and False; else a new one queued (and True).
    Call inside a transaction; its task is queued when that commits."""
    try:
        with db.session.begin_nested():
            job = Job(kind=kind, task=task_name, running_key=kind, started_by_id=by.id, total=total, params=params)
            db.session.add(job)
    except IntegrityError:
        running = db.session.scalar(select(Job).where(Job.running_key == kind))
        if running is not None:
            return running, False
        raise
    audit.record("job_queued", job, actor=by, to_state="queued", details={"kind": kind, "total": total})
    enqueue_after_commit(task_name, job)
    return job, True


@transaction
def resume_job(job: Job, *, by: User) -> Job:
    """Queue a failed (or stalled) job's task again; if another of its kind runs, that one."""
    running = db.session.scalar(select(Job).where(Job.running_key == job.kind, Job.id != job.id))
    if running is not None:
        return running
    audit.record("job_resumed", job, actor=by, from_state=job.state, to_state="queued")
    if job.started_by is None or not job.started_by.active:  # carried on in the name of who resumes it
        job.started_by_id = by.id
    job.state, job.running_key, job.error, job.updated_at = "queued", job.kind, None, utcnow()
    enqueue_after_commit(job.task, job)
    return job


def job_running(job_id: int) -> Job | None:
    """Mark the job running (the first time, with its audit entry); None if it is over."""
    with transaction():
        lock_row(Job, job_id)
        job = db.session.get(Job, job_id, populate_existing=True)
        if job is None or job.state in ("done", "failed"):
            return None
        if job.state == "queued":
            audit.record("job_started", job, actor=job.started_by, from_state="queued", to_state="running")
            job.state, job.started_at = "running", job.started_at or utcnow()
        job.updated_at, job.worker = utcnow(), f"{socket.gethostname()}:{os.getpid()}"
        return job


def finish_job(job: Job, result: dict[str, Any]) -> None:
    """Mark ``job`` done with ``result``, in the current transaction (hold its row first)."""
    job.state, job.running_key, job.result, job.finished_at, job.updated_at = "done", None, result, utcnow(), utcnow()
    job.done = job.total
    audit.record("job_finished", job, actor=job.started_by, from_state="running", to_state="done", details=result)


def fail_job(job_id: int, error: BaseException) -> None:
    """Mark the job failed, saying why: a refusal in its own words, anything else by its kind."""
    with transaction():
        lock_row(Job, job_id)
        job = db.session.get(Job, job_id, populate_existing=True)
        if job is None or job.state in ("done", "failed"):
            return
        message = (str(error.message) if isinstance(error, UserError) else f"{type(error).__name__}: {error}")[:2000]
        audit.record("job_failed", job, actor=job.started_by, from_state=job.state, to_state="failed",
                     note=message)
        job.state, job.running_key, job.error, job.updated_at = "failed", None, message, utcnow()


def job_task(name: str) -> Callable[[F], F]:
    """``@task(name)`` for a job's work ``function(job_id, …)``: an exception fails the job,
    with the reason shown to whoever watches it."""

    def register(function: F) -> F:
        @functools.wraps(function)
        def run(job_id: int, *args: Any) -> Any:
            try:
                return function(job_id, *args)
            except Exception as error:
                db.session.rollback()
                fail_job(job_id, error)
                raise

        task(name)(run)
        return function

    return register


@periodic("core.sweep", crontab(minute="*"))
def sweep() -> None:
    """Every minute: say the consumer is alive, and queue again the jobs whose progress stopped
    (their consumer died). The conditional UPDATE lets one sweeper take each stalled job, however
    many consumers sweep."""
    from .health import beat

    beat()  # the consumer is alive: /healthz reads it
    now = utcnow()
    stalled_before = now - dt.timedelta(seconds=current_app.config["JOB_STALL_SECONDS"])
    stalled = list(db.session.execute(select(Job.id, Job.task).where(
        Job.state.in_(("queued", "running")), Job.updated_at < stalled_before)))
    db.session.rollback()
    for job_id, task_name in stalled:
        with transaction():
            taken = db.session.execute(update(Job).where(Job.id == job_id, Job.updated_at < stalled_before,
                                                         Job.state.in_(("queued", "running")))
                                       .values(updated_at=now))
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                log.warning("job %s had stalled: queued again", job_id)
                enqueue_after_commit(task_name, job_id)


# --- The consumer -----------------------------------------------------------------------

class PortalConsumer(Consumer):
    """Huey's consumer, checking the periodic tasks every ``periodic_seconds`` (Huey's: 60)."""

    def __init__(self, huey: Huey, *, periodic_seconds: int = 60, **options: Any) -> None:
        self.periodic_seconds = periodic_seconds  # before Consumer.__init__ makes the scheduler
        super().__init__(huey, **options)

    def _create_scheduler(self) -> Any:
        scheduler = super()._create_scheduler()
        scheduler.periodic_task_seconds = self.periodic_seconds
        return scheduler


def consumer_for(app: Flask, *, workers: int | None = None, worker_type: str = "thread") -> PortalConsumer:
    """A consumer of ``app``'s queue: ``TASK_WORKERS`` threads by default (a thanks batch renders
    its letters on processes of its own, ``LETTER_WORKERS``), idle polls ``TASK_POLL_SECONDS`` apart
    at most."""
    return PortalConsumer(queue_of(app), periodic_seconds=int(app.config["TASK_PERIODIC_SECONDS"]),
                          workers=workers or int(app.config["TASK_WORKERS"]), worker_type=worker_type,
                          periodic=True, initial_delay=0.05, backoff=1.5,
                          max_delay=float(app.config["TASK_POLL_SECONDS"]))
