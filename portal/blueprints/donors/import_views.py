"""The pages that import donations from a CSV file: upload it, choose the columns and see the
preview, import, and read the result.

``register(bp)`` adds them to the donors blueprint; ``views.py`` calls it where it makes the
blueprint."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_htmx import make_response
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from ... import audit
from ...extensions import db, htmx
from ...forms import confirmed_errors, name_skip_box
from ...models import DonationImport
from ...permissions import allow
from ...responses import INVALID, current_actor, form_page, show_error
from .forms import ImportMappingForm, ImportUploadForm
from .imports.mapping import Mapping, guess_mapping
from .imports.preview import Preview, build_preview
from .imports.reading import CsvProblem, Table, read_table
from .imports.rows import describe
from .imports.service import (
    AlreadyImported,
    FileRemoved,
    ImportRefused,
    import_donations,
    imported_count,
    imported_donations,
    recent_imports,
)
from .permissions import ROLES

PREVIEW_TARGET = "import-preview"
RESULT_DONATIONS = 200


def register(bp: Blueprint) -> None:
    """Add the import pages to the donors blueprint."""
    bp.add_url_rule("/imports/new", "import_new", import_new, methods=["GET", "POST"])
    bp.add_url_rule("/imports/<int:import_id>", "import_detail", import_detail, methods=["GET", "POST"])


@allow(*ROLES)
def import_new() -> BaseResponse | tuple[str, int] | str:
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = DonationImport(filename=form.filename, content=form.text, uploaded_by_id=current_user.id)
        db.session.add(upload)
        db.session.commit()
        return redirect(url_for("donors.import_detail", import_id=upload.id), code=303)
    return form_page("donors/import_new.html", form, recent=recent_imports())


@allow(*ROLES)
def import_detail(import_id: int) -> BaseResponse | tuple[str, int] | str:
    upload = db.get_or_404(DonationImport, import_id)
    if upload.imported_at is not None:
        return _already_imported(upload) if request.method == "POST" else _result_page(upload)
    if upload.purged_at is not None:  # removed after the retention period, never imported
        flash(str(FileRemoved().message), "info")
        target = url_for("donors.import_new")
        return make_response(redirect=target) if htmx else redirect(target, code=303)
    try:
        table = read_table(upload.content)
    except CsvProblem:
        abort(404)  # the upload checked it; nothing else writes it
    if request.method == "GET":
        return _first_mapping_page(upload, table)
    return _post_mapping(upload, table)


def _wants_fragment() -> bool:
    return htmx.target == PREVIEW_TARGET


def _mapping_page(upload: DonationImport, table: Table, form: ImportMappingForm, preview: Preview | None,
                  status: int = 200, import_error: str | None = None) -> tuple[str, int]:
    name_skip_box(form, preview.errors if preview else 0)
    template = "donors/import_preview.html" if _wants_fragment() else "donors/import_detail.html"
    return render_template(template, upload=upload, table=table, form=form, preview=preview,
                           import_error=import_error, fragment=_wants_fragment(),
                           sample=table.rows[:5]), status


def _first_mapping_page(upload: DonationImport, table: Table) -> tuple[str, int]:
    """The mapping saved last time, or the one the header suggests, and its preview when it is complete."""
    mapping = Mapping.from_json(upload.mapping, table) or guess_mapping(table)
    form = ImportMappingForm(formdata=None, data=ImportMappingForm.initial(mapping))
    form.set_columns(table)
    return _mapping_page(upload, table, form, build_preview(table, mapping) if mapping.complete else None)


def _post_mapping(upload: DonationImport, table: Table) -> BaseResponse | tuple[str, int]:
    """A changed mapping shows its preview; the Import button imports with it."""
    form = ImportMappingForm()
    form.set_columns(table)
    if not form.validate_on_submit():
        return _mapping_page(upload, table, form, None, INVALID)
    mapping = form.mapping()
    if request.form.get("action") != "import" or _wants_fragment():
        upload.mapping = mapping.as_json(table)  # the next visit starts from this choice
        db.session.commit()
        return _mapping_page(upload, table, form, build_preview(table, mapping))
    return _import(upload, table, form, mapping)


def _import(upload: DonationImport, table: Table, form: ImportMappingForm,
            mapping: Mapping) -> BaseResponse | tuple[str, int]:
    import_id = upload.id
    try:
        result = import_donations(upload, mapping, skip_errors=bool(form.skip_errors.data),
                                  confirmed_errors=confirmed_errors(request.form), by=current_actor())
    except AlreadyImported:
        return _already_imported(db.get_or_404(DonationImport, import_id))
    except ImportRefused as refused:  # beside the box to tick, or above the preview
        upload = db.get_or_404(DonationImport, import_id)
        preview = refused.preview or build_preview(table, mapping)
        import_error = None if refused.field else str(refused.message)
        if refused.field:
            show_error(refused, form)
        return _mapping_page(upload, table, form, preview, INVALID, import_error=import_error)
    flash(ngettext("%(num)d donation imported: it awaits thanks.", "%(num)d donations imported: they await thanks.",
                   result["imported"]), "success")
    if result["new_donors"]:
        flash(ngettext("%(num)d new donor was added: complete their details before thanking them.",
                       "%(num)d new donors were added: complete their details before thanking them.",
                       result["new_donors"]), "info")
    return redirect(url_for("donors.import_detail", import_id=import_id), code=303)


def _result_page(upload: DonationImport) -> str:
    result = upload.result or {}
    skipped = [{**entry, "messages": [describe(p["code"], p.get("params")) for p in entry.get("problems", [])]
                or [entry.get("message", "")]} for entry in result.get("skipped", [])]
    return render_template("donors/import_result.html", upload=upload, result=result, skipped=skipped,
                           donations=imported_donations(upload, RESULT_DONATIONS),
                           donation_count=imported_count(upload), events=audit.timeline(upload))


def _already_imported(upload: DonationImport) -> BaseResponse:
    message = _("This file has been imported already: nothing was imported again.")
    target = url_for("donors.import_detail", import_id=upload.id)
    flash(message, "info")
    if htmx:
        return make_response(redirect=target)
    return redirect(target, code=303)
