"""Whether the portal can do its work, for a load balancer and an operator: ``GET /healthz``.

Each check answers ``ok`` and a few numbers, never personal data: the database answers, its
migrations are at the code's head, a task consumer was seen lately (it writes a heartbeat on
every periodic round), the uploads' disk has room, and the last backup is recent enough.
Any check failing makes the answer 503.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Backup, Heartbeat
from .models.types import utcnow

CONSUMER = "consumer"


def beat(name: str = CONSUMER) -> None:
    """Record that ``name`` is alive, in a transaction of its own written with Core: the page
    cache's generation is raised only by changes to data, never by a heartbeat."""
    now = utcnow()
    refresh = update(Heartbeat).where(Heartbeat.name == name).values(seen_at=now)
    with db.engine.begin() as connection:
        if connection.execute(refresh).rowcount == 1:
            return
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(Heartbeat).values(name=name, seen_at=now))
    except IntegrityError:  # two consumers' first heartbeat at once: the other one wrote the row
        with db.engine.begin() as connection:
            connection.execute(refresh)


def last_backup() -> Backup | None:
    """The newest backup that completed (the health check, the dashboard and the schedule read it)."""
    return db.session.scalar(select(Backup).where(Backup.state == "ok").order_by(Backup.finished_at.desc()).limit(1))


def consumer_stale_after() -> float:
    """Seconds without a heartbeat after which the consumer counts as gone: two periodic rounds and a margin."""
    return 2 * float(current_app.config["TASK_PERIODIC_SECONDS"]) + 5


def _database() -> dict[str, Any]:
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        # A connection kept open still reads the deleted file; the next one would find an empty database.
        return {"ok": False, "error": "the database file is gone"}
    db.session.execute(text("SELECT 1"))
    return {"ok": True}


def _migrations() -> dict[str, Any]:
    head = ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return {"ok": current == head, "current": current, "head": head}


def _age_seconds(moment: dt.datetime | None) -> float | None:
    return None if moment is None else round((utcnow() - moment).total_seconds(), 1)


def _consumer() -> dict[str, Any]:
    age = _age_seconds(db.session.scalar(select(Heartbeat.seen_at).where(Heartbeat.name == CONSUMER)))
    return {"ok": age is not None and age <= consumer_stale_after(), "seen_seconds_ago": age}


def _disk() -> dict[str, Any]:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    return {"ok": free_mb >= int(current_app.config["HEALTH_MIN_FREE_MB"]), "free_mb": free_mb}


def _backup() -> dict[str, Any]:
    every = float(current_app.config["BACKUP_EVERY_HOURS"])
    last = last_backup()
    age = _age_seconds(last.finished_at if last is not None else None)
    hours = None if age is None else round(age / 3600, 2)
    if every <= 0:  # scheduled backups are off: reported, not required
        return {"ok": True, "age_hours": hours, "scheduled": False}
    return {"ok": hours is not None and hours <= float(current_app.config["BACKUP_MAX_AGE_HOURS"]),
            "age_hours": hours, "scheduled": True}


def _forget_the_session() -> None:
    """After a failed check: the session's connection may be dead, so even a rollback can fail."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone: the session is dropped below anyway
        pass
    db.session.remove()


CHECKS = {"database": _database, "migrations": _migrations, "consumer": _consumer, "disk": _disk,
          "backup": _backup}


def report() -> tuple[dict[str, Any], bool]:
    """Every check's answer, and whether all passed. A check that raises has failed; what it
    raised is logged, not shown (it may name a host or a path)."""
    checks: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception:  # noqa: BLE001 - a check that cannot answer has failed
            current_app.logger.exception("health check %s failed", name)
            _forget_the_session()
            checks[name] = {"ok": False, "error": "unavailable"}
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "fail", "checks": checks}, healthy
