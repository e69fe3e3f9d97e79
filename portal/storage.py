"""Uploaded files: checked by their content, kept outside ``static/`` under random names,
handed out only to whom the module that owns them allows (``send_stored``)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path, PurePath
from typing import Any

from flask import Response, abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from .errors import Invalid
from .extensions import db
from .models import StoredFile, User
from .permissions import can_access

MEGABYTE = 1024 * 1024
DOCUMENT_MAX_MB = 10

# Magic numbers: what a file is, whatever its name says.
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class UploadRejected(Invalid):
    """An upload the portal will not keep; ``message`` says why, ``field`` is the form's file field."""


def sniff(head: bytes) -> str | None:
    """The content type a file's first bytes give away (one of ``SIGNATURES``), or None."""
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(signature) for signature in signatures):
            return content_type
    return None


def _root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def path_of(stored: StoredFile) -> Path:
    """Where a stored file's bytes are kept on disk."""
    return _root() / stored.storage_key[:2] / stored.storage_key


def store_upload(upload: FileStorage | None, *, by: User, max_bytes: int = DOCUMENT_MAX_MB * MEGABYTE,
                 allowed: tuple[str, ...] = DOCUMENT_TYPES, field: str | None = None) -> StoredFile:
    """Check and keep an upload; the StoredFile row joins the caller's transaction. A refusal
    (``UploadRejected``) names ``field``, the form field the file came from."""
    if upload is None or not upload.filename:
        raise UploadRejected(_l("Choose a file to upload."), field)
    head = upload.stream.read(16)
    content_type = sniff(head)
    if content_type not in allowed:
        if head.lstrip().startswith((b"<svg", b"<?xml")) or upload.filename.lower().endswith(".svg"):
            raise UploadRejected(_l("SVG images are not accepted. Upload a PDF, JPEG or PNG file."), field)
        raise UploadRejected(_l("This file is not a PDF, JPEG or PNG, whatever its name says. "
                                "Upload a PDF, JPEG or PNG file."), field)
    key = secrets.token_hex(16)
    target = _root() / key[:2] / key
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(head)
    size = len(head)
    with open(target, "wb") as out:
        out.write(head)
        while chunk := upload.stream.read(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                target.unlink()
                raise UploadRejected(_l("The file is larger than %(mb)d MB.", mb=max_bytes // MEGABYTE), field)
            digest.update(chunk)
            out.write(chunk)
    name = PurePath(upload.filename.replace("\\", "/")).name[:200] or "upload"
    stored = StoredFile(storage_key=key, original_name=name, content_type=content_type, size=size,
                        sha256=digest.hexdigest(), uploaded_by_id=by.id)
    db.session.add(stored)
    return stored


def discard(stored: StoredFile) -> None:
    """Remove the file from disk; call after the row's deletion is committed."""
    path_of(stored).unlink(missing_ok=True)


def send_stored(stored: StoredFile, *, of: Any) -> Response:
    """The file as a download, if the module that owns ``of`` (the record the file belongs
    to: a document, a receipt …) lets the signed-in user have it (``permissions.can_access``;
    404 otherwise, no hint that it exists). No cache keeps it (``security.set_security_headers``)."""
    if not can_access(current_user, of):
        abort(404)
    return send_file(path_of(stored), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.original_name, max_age=0)
