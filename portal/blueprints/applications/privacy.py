"""What the applications module holds about a doctor, for their data export and their erasure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ... import storage
from ...extensions import db
from ...hookspecs import PersonalData
from ...models import Application, ApplicationComment, AuditEvent, User
from ...personal_data import as_row


def _applications(user: User) -> list[Application]:
    return list(db.session.scalars(select(Application).where(Application.beneficiary_id == user.id)
                                   .order_by(Application.id)))


def personal_data(person: Any) -> PersonalData | None:
    """Their applications (with budget lines and comments), reports, the audit trail of those,
    and the files they uploaded for them."""
    if not isinstance(person, User):
        return None
    applications = _applications(person)
    ids = [application.id for application in applications]
    rows, reports, files = [], [], []
    for application in applications:
        rows.append({**as_row(application), "conference": application.conference.name,
                     "budget_lines": [as_row(line) for line in application.budget_lines],
                     "documents": [{**as_row(d), "file": d.file.original_name} for d in application.documents],
                     "comments": [as_row(comment) for comment in application.comments]})
        for document in application.documents:
            files.append((f"applications/{application.id}/{document.file.storage_key[:8]}-"
                          f"{document.file.original_name}", document.file))
        if application.report is not None:
            reports.append(as_row(application.report))
            if application.report.certificate is not None:
                certificate = application.report.certificate
                files.append((f"reports/{application.id}/{certificate.storage_key[:8]}-{certificate.original_name}",
                              certificate))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == Application.__tablename__,
                                                         AuditEvent.subject_id.in_(ids))
                                .order_by(AuditEvent.id)).all() if ids else []
    return PersonalData(records={"applications": rows, "reports": reports,
                                 "applications_audit_events": [as_row(event) for event in events]}, files=files)


def erase(user: User, pseudonym: str) -> list[Path]:
    """Delete the files a doctor uploaded for their applications (the records and their money
    stay, under the pseudonym), and sign their comments with it; the paths to remove from disk
    once the erasure commits."""
    db.session.execute(update(ApplicationComment).where(ApplicationComment.author_id == user.id)
                       .values(author_name=pseudonym).execution_options(synchronize_session=False))
    paths: list[Path] = []
    for application in _applications(user):
        for document in list(application.documents):
            stored = document.file
            paths.append(storage.path_of(stored))
            db.session.delete(document)
            db.session.delete(stored)
        report = application.report
        if report is not None and report.certificate is not None:
            stored = report.certificate
            paths.append(storage.path_of(stored))
            report.certificate_file_id = None
            report.certificate = None
            db.session.delete(stored)
    return paths
