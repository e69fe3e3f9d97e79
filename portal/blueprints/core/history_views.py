"""The history import's pages: upload a spreadsheet of past trips or visits, choose the columns
and see the preview, import, and read the result (``portal.history`` does the work).

``register(bp)`` adds them to the core blueprint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_htmx import make_response
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from ... import audit
from ... import history as service
from ...extensions import db, htmx
from ...forms import confirmed_errors, name_skip_box
from ...models import HistoryImport
from ...permissions import allow
from ...responses import INVALID, current_actor, form_page, show_error
from ...tabular import CsvProblem, Table, read_upload
from .forms import HistoryUploadForm, mapping_form

PREVIEW_TARGET = "import-preview"
RESULT_RECORDS = 200
ROLES = ("staff",)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/history", "history", history, methods=["GET", "POST"])
    bp.add_url_rule("/history/imports/<int:import_id>", "history_import", history_import, methods=["GET", "POST"])


@allow(*ROLES)
def history() -> BaseResponse | tuple[str, int] | str:
    """What the portal knows of the years before it, and the upload of another file."""
    form = HistoryUploadForm()
    if form.validate_on_submit():
        upload = HistoryImport(kind=form.kind.data, filename=form.filename, content=form.content,
                               uploaded_by_id=current_user.id)
        db.session.add(upload)
        db.session.commit()
        return redirect(url_for("core.history_import", import_id=upload.id), code=303)
    return form_page("core/history.html", form, recent=service.recent_imports(), counts=service.record_counts(),
                     kinds=service.KIND_LABELS)


@allow(*ROLES)
def history_import(import_id: int) -> BaseResponse | tuple[str, int] | str:
    upload = db.get_or_404(HistoryImport, import_id)
    if upload.imported_at is not None:
        return _already_imported(upload) if request.method == "POST" else _result_page(upload)
    if upload.purged_at is not None:
        return _file_removed()
    try:
        table = read_upload(upload.content)
    except CsvProblem:
        abort(404)  # the upload checked it; nothing else writes it
    if request.method == "GET":
        mapping = (service.Mapping.from_json(upload.kind, upload.mapping, table)
                   or service.guess_mapping(upload.kind, table))
        form = mapping_form(upload.kind, table, formdata=None, mapping=mapping)
        return _mapping_page(upload, table, form, service.build_preview(table, mapping) if mapping.complete else None)
    form = mapping_form(upload.kind, table)
    if not form.validate_on_submit():
        return _mapping_page(upload, table, form, None, INVALID)
    mapping = form.mapping()
    if request.form.get("action") != "import" or htmx.target == PREVIEW_TARGET:
        upload.mapping = mapping.as_json(table)  # the next visit starts from this choice
        db.session.commit()
        return _mapping_page(upload, table, form, service.build_preview(table, mapping))
    return _import(upload, table, form, mapping)


def _mapping_page(upload: HistoryImport, table: Table, form: Any, preview: service.Preview | None,
                  status: int = 200, import_error: str | None = None) -> tuple[str, int]:
    name_skip_box(form, preview.errors if preview else 0)
    fragment = htmx.target == PREVIEW_TARGET
    template = "core/_history_preview.html" if fragment else "core/history_import.html"
    columns = list(service.TARGETS[upload.kind])
    return render_template(template, upload=upload, table=table, form=form, preview=preview, fragment=fragment,
                           import_error=import_error, sample=table.rows[:5], columns=columns,
                           label=lambda target: service.target_label(upload.kind, target),
                           title=str(service.IMPORT_TITLES[upload.kind]) % {"file": upload.filename}), status


def _import(upload: HistoryImport, table: Table, form: Any, mapping: service.Mapping) -> BaseResponse | tuple[str, int]:
    import_id = upload.id
    try:
        counts = service.import_history(upload, mapping, skip_errors=bool(form.skip_errors.data),
                                        confirmed_errors=confirmed_errors(request.form), by=current_actor())
    except service.AlreadyImported:
        return _already_imported(db.get_or_404(HistoryImport, import_id))
    except service.ImportRefused as refused:  # beside the box to tick, or above the preview
        upload = db.get_or_404(HistoryImport, import_id)
        preview = refused.preview or service.build_preview(table, mapping)
        if refused.field:
            show_error(refused, form)
        return _mapping_page(upload, table, form, preview, INVALID,
                             import_error=None if refused.field else str(refused.message))
    flash(ngettext("%(num)d historical record imported.", "%(num)d historical records imported.",
                   counts["imported"]), "success")
    return redirect(url_for("core.history_import", import_id=import_id), code=303)


def _result_page(upload: HistoryImport) -> str:
    result = upload.result or {}
    skipped = [{**entry, "messages": [service.describe(upload.kind, p["code"], p.get("params"))
                                      for p in entry.get("problems", [])]} for entry in result.get("skipped", [])]
    return render_template("core/history_result.html", upload=upload, result=result, skipped=skipped,
                           records=service.imported_records(upload, RESULT_RECORDS),
                           kind_label=service.KIND_LABELS[upload.kind], events=audit.timeline(upload))


def _file_removed() -> BaseResponse:
    flash(str(service.FileRemoved.message_text), "info")
    return make_response(redirect=url_for("core.history")) if htmx else redirect(url_for("core.history"), code=303)


def _already_imported(upload: HistoryImport) -> BaseResponse:
    flash(_("This file has been imported already: nothing was imported again."), "info")
    target = url_for("core.history_import", import_id=upload.id)
    return make_response(redirect=target) if htmx else redirect(target, code=303)
