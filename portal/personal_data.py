"""A person's own data, as a ZIP: everything the portal holds about one user (or one donor),
each module answering for its own records through ``portal_personal_data``.

Someone asks (a person for themselves from their profile; an admin for anyone, or a donor); a
background job (``privacy.export``) writes the ZIP — a JSON file per kind of record and the
files and letters themselves — and keeps it, encrypted, for ``EXPORT_HOURS``; whoever asked
downloads it through a link with a random token. The purge removes it after that.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import secrets
import zipfile
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update

from . import audit, storage
from .extensions import db, lock_for_update
from .hookspecs import PersonalData
from .models import DataExport, Donor, Job, User
from .models.types import utcnow
from .modules import plugin_manager
from .tasks import finish_job, job_running, job_task, start_job
from .transactions import transaction

EXPORT_HOURS = 24
EXPORT_TASK = "privacy.export"


def as_row(record: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record's columns as JSON-ready values (dates as ISO text, bytes left out)."""
    row: dict[str, Any] = {}
    for attribute in sa_inspect(type(record)).column_attrs:
        if attribute.key in skip:
            continue
        value = getattr(record, attribute.key)
        if isinstance(value, bytes | memoryview):
            continue
        if isinstance(value, dt.date | dt.datetime | dt.time):
            value = value.isoformat()
        elif isinstance(value, decimal.Decimal):
            value = str(value)
        row[attribute.key] = value
    return row


def gather(person: User | Donor) -> PersonalData:
    """Every running module's records and files about ``person``, merged."""
    merged = PersonalData()
    for part in plugin_manager().hook.portal_personal_data(person=person):
        if part is None:
            continue
        for name, rows in part.records.items():
            merged.records.setdefault(name, []).extend(rows)
        merged.files.extend(part.files)
    return merged


def build_zip(person: User | Donor) -> bytes:
    """The ZIP: ``<kind>.json`` per kind of record, then the files under their paths."""
    data = gather(person)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sorted(data.records.items()):
            archive.writestr(f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        seen: set[str] = set()
        for path, content in data.files:
            if path in seen:
                continue
            seen.add(path)
            raw = content if isinstance(content, bytes) else _stored_bytes(content)
            if raw is not None:
                archive.writestr(path, raw)
    return out.getvalue()


def _stored_bytes(stored: Any) -> bytes | None:
    path = storage.path_of(stored)
    return path.read_bytes() if path.exists() else None


def _kind(subject: User | Donor) -> tuple[str, int]:
    return ("donors" if isinstance(subject, Donor) else "users"), subject.id


@transaction
def request_export(subject: User | Donor, *, by: User) -> DataExport:
    """Queue the export of ``subject``'s data for ``by`` (one at a time per person and asker:
    asking again while one is being written joins it)."""
    subject_type, subject_id = _kind(subject)
    key = f"data_export:{subject_type}:{subject_id}:{by.id}"
    job, created = start_job(key, EXPORT_TASK, by=by, total=1,
                             params={"subject_type": subject_type, "subject_id": subject_id})
    if not created:
        existing = db.session.scalar(select(DataExport).where(DataExport.job_id == job.id))
        if existing is not None:
            return existing
    export = DataExport(subject_type=subject_type, subject_id=subject_id, requested_by_id=by.id, job_id=job.id,
                        token=secrets.token_urlsafe(32))
    db.session.add(export)
    db.session.flush()
    audit.record("data_export_requested", export, actor=by, details={"subject_type": subject_type,
                                                                     "subject_id": subject_id})
    return export


@job_task(EXPORT_TASK)
def write_export(job_id: int) -> None:
    """The job ``request_export`` queued: the ZIP, kept encrypted for a day."""
    job = job_running(job_id)
    if job is None:
        return
    subject_id = job.params["subject_id"]
    subject = db.session.get(Donor, subject_id) if job.params["subject_type"] == "donors" else db.session.get(
        User, subject_id)
    content = build_zip(subject) if subject is not None else b""
    with transaction():
        job = lock_for_update(Job, job_id)
        if job.state != "running":
            return
        now = utcnow()
        db.session.execute(update(DataExport).where(DataExport.job_id == job_id).values(
            content=content, size=len(content), ready_at=now, expires_at=now + dt.timedelta(hours=EXPORT_HOURS)))
        finish_job(job, {"size": len(content)})


def export_for(token: str, user: User) -> DataExport | None:
    """The export with this token if ``user`` asked for it (None otherwise, or once it expired)."""
    export = db.session.scalar(select(DataExport).where(DataExport.token == token))
    if export is None or export.requested_by_id != user.id:
        return None
    if export.expires_at is not None and export.expires_at < utcnow():
        return None
    return export


def latest_export(subject: User | Donor, by: User) -> DataExport | None:
    subject_type, subject_id = _kind(subject)
    return db.session.scalar(select(DataExport).where(
        DataExport.subject_type == subject_type, DataExport.subject_id == subject_id,
        DataExport.requested_by_id == by.id).order_by(DataExport.id.desc()).limit(1))


def start_export(subject: User | Donor) -> Any:
    """A view's answer to "export their data": queue it for the signed-in user, show its page."""
    from flask import redirect, url_for

    from .responses import current_actor

    export = request_export(subject, by=current_actor())
    return redirect(url_for("core.data_export", export_id=export.id), code=303)
