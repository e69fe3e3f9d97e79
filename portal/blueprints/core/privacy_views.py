"""A person's data: the export anyone asks for themselves (and admins for anyone; the donors
module offers it for a donor), its progress and its download; erasure of a user by an admin;
and the log of who read passport details.

``register(bp)`` adds the pages to the core blueprint."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, render_template, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import access_log, privacy
from ... import personal_data as exports
from ...extensions import db, htmx
from ...models import DataExport, Donor, User
from ...models.types import utcnow
from ...permissions import SIGNED_IN, allow
from ...responses import current_actor

STATUS_TARGET = "export-status"


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/profile/data-export", "my_data_export", my_data_export, methods=["POST"])
    bp.add_url_rule("/admin/users/<int:user_id>/data-export", "user_data_export", user_data_export, methods=["POST"])
    bp.add_url_rule("/data-exports/<int:export_id>", "data_export", data_export)
    bp.add_url_rule("/data-exports/<int:export_id>/<token>.zip", "data_export_download", data_export_download)
    bp.add_url_rule("/admin/users/<int:user_id>/erase", "erase_user", erase_user, methods=["POST"])
    bp.add_url_rule("/admin/passport-reads", "passport_reads", passport_reads)


@allow(SIGNED_IN)
def my_data_export() -> Response:
    """Everything the portal holds about me, as a ZIP written in the background."""
    return exports.start_export(current_actor())


@allow("admin")
def user_data_export(user_id: int) -> Response:
    return exports.start_export(db.get_or_404(User, user_id))


def _own_export(export_id: int) -> DataExport:
    export = db.session.get(DataExport, export_id)
    if export is None or export.requested_by_id != current_user.id:
        abort(404)  # only whoever asked for it
    return export


@allow(SIGNED_IN)
def data_export(export_id: int) -> str:
    """The export's progress (htmx asks again every two seconds), then its link for a day."""
    export = _own_export(export_id)
    expired = export.expires_at is not None and (export.expires_at < utcnow() or export.content is None)
    context: dict[str, Any] = {"export": export, "job": export.job, "expired": expired,
                               "subject_name": _subject_name(export)}
    if htmx.target == STATUS_TARGET:
        return render_template("core/_export_status.html", **context)
    return render_template("core/data_export.html", **context)


def _subject_name(export: DataExport) -> str:
    if export.subject_type == "donors":
        donor = db.session.get(Donor, export.subject_id)
        return donor.display_name if donor else ""
    user = db.session.get(User, export.subject_id)
    return user.name if user else ""


@allow(SIGNED_IN)
def data_export_download(export_id: int, token: str) -> Response:
    export = _own_export(export_id)
    found = exports.export_for(token, current_actor())
    if found is None or found.id != export.id or found.content is None:
        abort(404)
    response = send_file(io.BytesIO(found.content), mimetype="application/zip", as_attachment=True,
                         download_name=f"personal-data-{export.subject_type}-{export.subject_id}.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@allow("admin")
def erase_user(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    return privacy.erase_and_report(user, url_for("admin.user_detail", user_id=user.id))


@allow("admin")
def passport_reads() -> str:
    """Who read whose passport details, newest first."""
    return render_template("core/passport_reads.html", reads=access_log.recent_reads())
