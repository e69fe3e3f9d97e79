"""Doctors apply and report back; staff review and decide inline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import audit, clock, permissions, storage
from ...duties import is_beneficiary
from ...errors import Invalid, UserError
from ...exports import spreadsheet
from ...extensions import db, htmx
from ...letters import missing_from_profile
from ...models import BUDGET_CATEGORIES, Application, ApplicationDocument, Conference
from ...models.types import utcnow
from ...money import CURRENCIES, AmountError, base_currency, rates_on, to_minor, total_in_base
from ...page_cache import cached_page
from ...permissions import allow, is_staff
from ...responses import INVALID, current_actor, form_page, safe_next, show_error
from ...search import matches_any
from . import services
from .forms import (
    ApplicationForm,
    ApproveForm,
    CancelForm,
    CommentForm,
    DeclineForm,
    DocumentForm,
    ReportForm,
    RequestChangesForm,
    ReturnReportForm,
    VisaForm,
    budget_lines,
    fill_budget,
)
from .labels import (
    DOCUMENT_KIND_LABELS,
    NEXT_STEPS,
    PARTICIPATION_LABELS,
    REPORT_STATE_LABELS,
    SHARING_LABELS,
    STATE_LABELS,
    VISA_OUTCOME_LABELS,
)
from .letters import PROFILE_NEEDED
from .permissions import ROLES, can_change_application, can_see_application

bp = Blueprint("applications", __name__, url_prefix="/applications", template_folder="templates")

PER_PAGE = 50
QUEUE_STATES = ("submitted", "changes_requested", "approved", "declined", "withdrawn", "cancelled", "completed")


@bp.context_processor
def _labels() -> dict[str, Any]:
    def label(table: dict[str, Any]) -> Any:
        return lambda key: str(table.get(key, "—")) if key else "—"

    return {
        "next_step": label(NEXT_STEPS), "participation_label": label(PARTICIPATION_LABELS),
        "document_kind_label": label(DOCUMENT_KIND_LABELS),
        "visa_outcome_label": label(VISA_OUTCOME_LABELS), "report_state_label": label(REPORT_STATE_LABELS),
        "sharing_label": label(SHARING_LABELS), "budget_categories": BUDGET_CATEGORIES, "now_utc": utcnow,
    }


def _application(application_id: int, *, change: bool = False) -> Application:
    """The application, if this user may see it (404 otherwise: no hint that it exists)."""
    application = db.session.get(Application, application_id)
    if application is None or not can_see_application(current_user, application):
        abort(404)
    if change and not can_change_application(current_user, application):
        abort(403)
    return application


def _requested_total(application: Application, rates: dict[str, Any]) -> int | None:
    return total_in_base([(line.requested_amount, line.requested_currency) for line in application.budget_lines],
                         rates)


# The doctor's side ----------------------------------------------------------------------

@bp.get("/")
@allow(*ROLES)
@cached_page
def index() -> Response | str:
    if not permissions.has_role(current_user, "doctor"):
        return redirect(url_for("applications.queue"))
    applications = db.session.scalars(
        select(Application).where(Application.beneficiary_id == current_user.id)
        .options(selectinload(Application.budget_lines))
        .order_by(Application.created_at.desc())
    ).all()
    return render_template("applications/index.html", applications=applications, rates=rates_on(),
                           requested_total=_requested_total)


def _conference_choices(search: str = "") -> list[SelectChoice]:
    """Confirmed conferences not yet over, and the doctor's own proposals."""
    query = (select(Conference)
             .where(or_(Conference.confirmed.is_(True), Conference.proposed_by_id == current_user.id),
                    Conference.end_date >= clock.today() - dt.timedelta(days=60))
             .order_by(Conference.start_date, Conference.name))
    if search:
        query = query.where(matches_any([Conference.name, Conference.city, Conference.country], search))
    choices = [SelectChoice(0, _("— choose a conference —"))]
    choices.extend(_conference_choice(c) for c in db.session.scalars(query.limit(200)))
    return choices


def _conference_choice(conference: Conference) -> SelectChoice:
    label = f"{conference.name} · {conference.city} · {conference.start_date:%d.%m.%Y}"
    return SelectChoice(conference.id, label if conference.confirmed else f"{label} ({_('proposed')})")


def _keep_current_choice(form: ApplicationForm, application: Application | None) -> None:
    """An application's conference stays selectable even once it is past or filtered out."""
    if application and not any(choice.value == application.conference_id for choice in form.conference_id.choices):
        form.conference_id.choices.append(_conference_choice(application.conference))


@bp.get("/conference-options")
@allow("doctor")
def conference_options() -> str:
    """Search as you type: the matching options for the conference list."""
    choices = _conference_choices((request.args.get("conference_search") or "").strip())
    selected = request.args.get("conference_id", type=int)
    return render_template("applications/_conference_options.html", choices=choices, selected=selected)


@bp.post("/estimate")
@allow(*ROLES)
def estimate() -> str:
    """The running total as the doctor types (htmx); the form page shows the same after submit."""
    form = ApplicationForm(meta={"csrf": False})
    return render_template("applications/_budget_total.html", totals=_totals_from(form))


def _totals_from(form: ApplicationForm) -> dict[str, Any]:
    """Per-currency sums of what was typed (unusable amounts left out) and their total in
    the base currency (None when a rate is missing)."""
    by_currency: dict[str, int] = {}
    for category in BUDGET_CATEGORIES:
        entry = form.budget[category]
        amount, currency = entry.amount.data, entry.currency.data
        if amount is None or currency not in CURRENCIES:
            continue
        try:
            minor = to_minor(amount, currency)
        except AmountError:
            continue
        by_currency[currency] = by_currency.get(currency, 0) + minor
    base = total_in_base([(minor, currency) for currency, minor in by_currency.items()], rates_on())
    return {"by_currency": by_currency, "base": base, "base_currency": base_currency()}


def _application_form(application: Application | None) -> ApplicationForm:
    form = ApplicationForm(obj=application)
    if request.method == "GET" and application is not None:
        fill_budget(form.budget, {line.category: (line.requested_amount, line.requested_currency)
                                  for line in application.budget_lines})
    form.conference_id.choices = _conference_choices((form.conference_search.data or "").strip()
                                                     if request.form.get("action") == "search" else "")
    _keep_current_choice(form, application)
    return form


def _save_application(form: ApplicationForm, application: Application | None) -> Application:
    values = {name: getattr(form, name).data for name in ApplicationForm.DETAIL_FIELDS}
    new_conference = None
    if form.proposes_conference():
        new_conference = {
            "name": form.new_conference_name.data, "city": form.new_conference_city.data,
            "country": form.new_conference_country.data, "start_date": form.new_conference_start.data,
            "end_date": form.new_conference_end.data, "website": form.new_conference_website.data or None,
            "organiser": None,
        }
    else:
        values["conference_id"] = form.conference_id.data
    upload = request.files.get(form.document.name)
    document = (form.document_kind.data, upload) if upload is not None and upload.filename else None
    return services.save_draft(application, values, budget_lines(form.budget), by=current_actor(),
                               new_conference=new_conference, document=document)


def _edit_page(form: ApplicationForm, application: Application | None) -> Response | tuple[str, int] | str:
    action = request.form.get("action")
    if request.method == "POST" and action == "search":  # searching without JavaScript: nothing saved
        return render_template("applications/form.html", form=form, application=application,
                               totals=_totals_from(form))
    if form.validate_on_submit():
        try:
            application = _save_application(form, application)  # a refusal answers 409 (portal.core)
        except Invalid as error:  # the document is not a PDF, JPEG or PNG: nothing was saved
            error.field = "document" if error.field == "file" else error.field
            show_error(error, form)
            return form_page("applications/form.html", form, application=application, totals=_totals_from(form))
        if action != "submit":
            flash(_("Your application has been saved as a draft."), "success")
        else:
            try:
                services.submit(application, by=current_actor())
            except services.Incomplete as error:  # the draft is kept: say what it still needs
                show_error(error)
            else:
                flash(_("Your application has been submitted. We will e-mail you when it is decided."), "success")
        return redirect(url_for("applications.detail", application_id=application.id), code=303)
    return form_page("applications/form.html", form, application=application, totals=_totals_from(form))


@bp.route("/new", methods=["GET", "POST"])
@allow("doctor")
def new() -> Response | tuple[str, int] | str:
    return _edit_page(_application_form(None), None)


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@allow("doctor")
def edit(application_id: int) -> Response | tuple[str, int] | str:
    application = _application(application_id, change=True)
    if application.status not in services.EDITABLE_STATES:
        abort(409, description=_("This application can no longer be edited."))
    return _edit_page(_application_form(application), application)


def _doctor_action(application_id: int, action: Any, message: str) -> Response:
    application = _application(application_id, change=True)
    try:
        action(application, by=current_actor())
    except services.Incomplete as error:
        show_error(error)
    else:
        flash(message, "success")
    return redirect(url_for("applications.detail", application_id=application.id), code=303)


@bp.post("/<int:application_id>/submit")
@allow("doctor")
def submit(application_id: int) -> Response:
    return _doctor_action(application_id, services.submit,
                          _("Your application has been submitted. We will e-mail you when it is decided."))


@bp.route("/<int:application_id>/withdraw", methods=["GET", "POST"])
@allow("doctor")
def withdraw(application_id: int) -> Response | str:
    """Withdrawing is asked first: the confirmation (a dialog for htmx, a page without JavaScript),
    then a post that says yes."""
    application = _application(application_id, change=True)
    if request.method == "GET" and application.status not in services.WITHDRAWABLE_STATES:
        abort(409, description=_("This application can no longer be withdrawn."))
    if application.status in services.WITHDRAWABLE_STATES and (
            request.method == "GET" or request.form.get("confirm") != "yes"):
        template = "applications/_withdraw_dialog.html" if htmx else "applications/withdraw.html"
        return render_template(template, application=application)
    return _doctor_action(application_id, services.withdraw, _("Your application has been withdrawn."))


# Detail, documents, comments ---------------------------------------------------------------

def _history(application: Application) -> list[dict[str, Any]]:
    """Audit entries and comments in one timeline; internal notes only for staff."""
    entries: list[dict[str, Any]] = [{"at": e.occurred_at, "who": e.actor_name, "event": e}
                                     for e in audit.timeline(application)]
    for comment in application.comments:
        if comment.internal and not is_staff(current_user):
            continue
        entries.append({"at": comment.created_at, "who": comment.author_name, "comment": comment})
    return sorted(entries, key=lambda entry: entry["at"])


def _decides(application: Application) -> bool:
    """Staff decide, except on their own application (the services refuse it too)."""
    return is_staff(current_user) and not is_beneficiary(application, current_user)


def decision_forms(application: Application, next_url: str | None = None) -> dict[str, Any]:
    """The staff forms for one application, prefixed so that many can share a page; without
    JavaScript each comes back to ``next_url`` (the page it is on, by default)."""
    prefix = f"a{application.id}"
    version = {"version": application.version,
               "next": next_url or (request.full_path if request.method == "GET" else None)}
    approve = ApproveForm(prefix=prefix, formdata=None, data=version)
    fill_budget(approve.approved, {line.category: (line.requested_amount, line.requested_currency)
                                   for line in application.budget_lines})
    return {
        "approve": approve,
        "changes": RequestChangesForm(prefix=prefix, formdata=None, data=version),
        "decline": DeclineForm(prefix=prefix, formdata=None, data=version),
        "cancel": CancelForm(prefix=prefix, formdata=None, data=version),
        "return_report": ReturnReportForm(prefix=prefix, formdata=None, data=version),
    }


@bp.get("/<int:application_id>")
@allow(*ROLES)
def detail(application_id: int) -> str:
    application = _application(application_id)
    return _detail_page(application)


def _letter_needs(application: Application) -> list[Any]:
    """What the doctor's profile still lacks for the visa letter, told to them from the start
    (not only once the application is approved and the letter cannot be issued)."""
    if application.beneficiary_id != current_user.id or not application.visa_needed or application.status in (
            "declined", "withdrawn", "cancelled", "completed"):
        return []
    return missing_from_profile(application.doctor, PROFILE_NEEDED)


def _detail_page(application: Application, **forms: Any) -> str:
    rates = rates_on()
    context = {
        "application": application,
        "history": _history(application),
        "rates": rates,
        "requested_total": _requested_total(application, rates),
        "approved_total": total_in_base([(line.approved_amount, line.approved_currency)
                                         for line in application.budget_lines
                                         if line.approved_amount is not None and line.approved_currency is not None],
                                        rates),
        "can_change": can_change_application(current_user, application),
        "report_due": services.report_due(application),
        "withdrawable": services.WITHDRAWABLE_STATES,
        "letter_needs": _letter_needs(application),
        "document_form": forms.get("document_form") or DocumentForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "visa_form": forms.get("visa_form") or VisaForm(formdata=None, data={
            "appointment_on": application.visa_appointment_on, "outcome": application.visa_outcome or ""}),
        "forms": forms.get("decision") or (decision_forms(application) if _decides(application) else {}),
    }
    return render_template("applications/detail.html", **context)


@bp.post("/<int:application_id>/documents")
@allow("doctor")
def upload_document(application_id: int) -> Response | tuple[str, int]:
    application = _application(application_id, change=True)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.add_document(application, form.kind.data, request.files.get(form.file.name), by=current_actor())
        except Invalid as error:
            show_error(error, form)
        else:
            flash(_("The document has been added."), "success")
            return redirect(url_for("applications.detail", application_id=application.id) + "#documents", code=303)
    return _detail_page(application, document_form=form), INVALID


def _document(application: Application, document_id: int) -> ApplicationDocument:
    document = db.session.get(ApplicationDocument, document_id)
    if document is None or document.application_id != application.id:
        abort(404)
    return document


@bp.get("/<int:application_id>/documents/<int:document_id>")
@allow(*ROLES)
def download_document(application_id: int, document_id: int) -> Response:
    application = _application(application_id)  # the permission check for the file
    document = _document(application, document_id)
    return storage.send_stored(document.file, of=document)


@bp.post("/<int:application_id>/documents/<int:document_id>/delete")
@allow("doctor")
def delete_document(application_id: int, document_id: int) -> Response:
    application = _application(application_id, change=True)
    services.remove_document(application, _document(application, document_id), by=current_actor())
    flash(_("The document has been removed."), "success")
    return redirect(url_for("applications.detail", application_id=application.id) + "#documents", code=303)


@bp.post("/<int:application_id>/comments")
@allow(*ROLES)
def comment(application_id: int) -> Response | tuple[str, int]:
    application = _application(application_id)
    form = CommentForm()
    if form.validate_on_submit():
        internal = bool(form.internal.data) and is_staff(current_user)
        services.add_comment(application, form.body.data, internal=internal, by=current_actor())
        flash(_("Internal note saved.") if internal else _("Comment sent."), "success")
        return redirect(url_for("applications.detail", application_id=application.id) + "#history", code=303)
    return _detail_page(application, comment_form=form), INVALID


@bp.post("/<int:application_id>/visa")
@allow("doctor")
def visa(application_id: int) -> Response | tuple[str, int]:
    application = _application(application_id, change=True)
    form = VisaForm()
    if form.validate_on_submit():
        services.record_visa(application, form.appointment_on.data, form.outcome.data or None, by=current_actor())
        flash(_("Visa details saved."), "success")
        return redirect(url_for("applications.detail", application_id=application.id), code=303)
    return _detail_page(application, visa_form=form), INVALID


# Staff decisions ------------------------------------------------------------------------

def _decision(application_id: int, form_class: type, decide: Any, message: str) -> Response | tuple[str, int] | str:
    """Run a staff decision; answer the queue row (htmx) or go back where the form was."""
    application = _application(application_id)
    form = form_class(prefix=f"a{application.id}")
    if form.validate_on_submit():
        try:
            decide(application, form)
        except services.Incomplete as missing:  # beside its box (a proposed conference to confirm)
            show_error(missing, form)
        except UserError as error:
            # htmx swaps no 409 answer, so the error box (portal.js) says why this was refused
            if not htmx or isinstance(error, services.OwnApplication):
                raise
            return _row(application, message=str(error.message), conflict=True), error.status
        else:
            if not htmx:
                flash(message, "success")
                return redirect(safe_next(form.next.data, "applications.queue"), code=303)
            return _row(application, message=message)
        application = _application(application_id)  # the refused transaction rolled back
    forms = {**decision_forms(application), _form_key(form): form}
    if not htmx:
        return _detail_page(application, decision=forms), INVALID
    return _row(application, forms=forms, open_form=_form_key(form)), INVALID


def _form_key(form: Any) -> str:
    return {ApproveForm: "approve", RequestChangesForm: "changes", DeclineForm: "decline", CancelForm: "cancel",
            ReturnReportForm: "return_report"}[type(form)]


def _row(application: Application, forms: dict[str, Any] | None = None, **context: Any) -> str:
    """The queue row after a decision made through htmx, with its message; with ``forms`` (a
    refused form and its errors) its decisions are open, otherwise each loads when opened."""
    return render_template("applications/_queue_row.html", application=application,
                           total=_requested_total(application, rates_on()), forms=forms, **context)


DECISION_KEYS = {"submitted": ("approve", "changes", "decline"), "approved": ("cancel",)}


@bp.app_template_global()
def decision_keys(application: Application) -> tuple[str, ...]:
    """The decisions open to staff on ``application`` now (its forms' keys), in order."""
    return DECISION_KEYS.get(application.status, ())


@bp.get("/<int:application_id>/decision/<key>")
@allow("staff")
def decision_form(application_id: int, key: str) -> str:
    """One decision form of a queue row, loaded when staff open it (htmx)."""
    application = _application(application_id)
    if key not in decision_keys(application):
        abort(409, description=_("This application cannot be decided that way now."))
    if not _decides(application):
        abort(403)
    forms = decision_forms(application, next_url=url_for("applications.queue"))
    return render_template("applications/_decision_form.html", application=application, forms=forms, key=key)


@bp.post("/<int:application_id>/approve")
@allow("staff")
def approve(application_id: int) -> Response | tuple[str, int] | str:
    return _decision(application_id, ApproveForm,
                     lambda a, f: services.approve(a, budget_lines(f.approved), by=current_actor(),
                                                   version=f.version_number(),
                                                   confirm_conference=bool(f.confirm_conference.data)),
                     _("Application approved. The doctor has been told."))


@bp.post("/<int:application_id>/request-changes")
@allow("staff")
def request_changes(application_id: int) -> Response | tuple[str, int] | str:
    return _decision(application_id, RequestChangesForm,
                     lambda a, f: services.request_changes(a, f.comment.data, by=current_actor(),
                                                           version=f.version_number()),
                     _("Changes requested. The doctor has been told."))


@bp.post("/<int:application_id>/decline")
@allow("staff")
def decline(application_id: int) -> Response | tuple[str, int] | str:
    return _decision(application_id, DeclineForm,
                     lambda a, f: services.decline(a, f.reason.data, by=current_actor(), version=f.version_number()),
                     _("Application declined. The doctor has been told."))


@bp.post("/<int:application_id>/cancel")
@allow("staff")
def cancel(application_id: int) -> Response | tuple[str, int] | str:
    return _decision(application_id, CancelForm,
                     lambda a, f: services.cancel(a, f.reason.data, by=current_actor(), version=f.version_number()),
                     _("Application cancelled; its amounts are released."))


# The queue ---------------------------------------------------------------------------------

def _queue_filters() -> dict[str, Any]:
    args = request.args
    status = args.get("status", "submitted")
    return {
        "status": status if status in QUEUE_STATES or status == "all" else "submitted",
        "conference_id": args.get("conference_id", type=int),
        "clinic_id": args.get("clinic_id", type=int),
        "date_from": _date_arg("date_from"),
        "date_to": _date_arg("date_to"),
        "q": (args.get("q") or "").strip(),
        "sort": args.get("sort") if args.get("sort") in services.QUEUE_SORTS else "oldest",
    }


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/review")
@allow("staff")
@cached_page
def queue() -> str:
    filters = _queue_filters()
    page = services.queue_page(filters, per_page=PER_PAGE, after=request.args.get("after", type=int),
                               before=request.args.get("before", type=int),
                               number=request.args.get("page", 1, type=int))
    rates = rates_on()
    return render_template(
        "applications/queue.html", page=page, filters=filters, rates=rates,
        totals={a.id: _requested_total(a, rates) for a in page.items},
        conferences=services.queue_conferences(), clinics=services.clinics(),
        states=QUEUE_STATES, state_labels=STATE_LABELS, sorts=services.QUEUE_SORTS,
        decision_forms=decision_forms,
    )


@bp.get("/review.<any(csv, xlsx):fmt>")
@allow("staff")
def export_queue(fmt: str) -> Response:
    """The review queue's applications with its filters and order, and how many."""
    return spreadsheet(fmt, f"applications-{clock.today().isoformat()}", services.QUEUE_COLUMNS,
                       services.queue_rows(_queue_filters()))


# Post-conference report -----------------------------------------------------------------

@bp.route("/<int:application_id>/report", methods=["GET", "POST"])
@allow(*ROLES)
def report(application_id: int) -> Response | tuple[str, int] | str:
    application = _application(application_id)
    existing = application.report
    can_write = (can_change_application(current_user, application) and services.report_due(application)
                 and not (existing and existing.status in ("submitted", "accepted")))
    form = ReportForm(obj=existing)
    if request.method == "POST":
        if not can_write:
            abort(409, description=_("The report cannot be changed now."))
        if form.validate_on_submit():
            values = {name: getattr(form, name).data for name in ("learned", "shared_by", "shared_on",
                                                                   "colleagues_reached")}
            try:
                services.submit_report(application, values, request.files.get(form.certificate.name),
                                       by=current_actor())
            except Invalid as error:  # the certificate is missing or not a PDF, JPEG or PNG
                show_error(error, form)
            else:
                flash(_("Thank you: your report has been sent to the programme team."), "success")
                return redirect(url_for("applications.detail", application_id=application.id), code=303)
    return form_page("applications/report.html", form, application=application, can_write=can_write,
                     forms=decision_forms(application) if is_staff(current_user) else {})


@bp.get("/<int:application_id>/report/certificate")
@allow(*ROLES)
def certificate(application_id: int) -> Response:
    application = _application(application_id)
    if application.report is None or application.report.certificate is None:
        abort(404)
    return storage.send_stored(application.report.certificate, of=application.report)


@bp.post("/<int:application_id>/report/accept")
@allow("staff")
def accept_report(application_id: int) -> Response:
    application = _application(application_id)
    form = ReturnReportForm(prefix=f"a{application.id}")
    services.accept_report(application, by=current_actor(), version=form.version_number())
    flash(_("Report accepted: the application is completed."), "success")
    return redirect(url_for("applications.detail", application_id=application.id), code=303)


@bp.post("/<int:application_id>/report/return")
@allow("staff")
def return_report(application_id: int) -> Response | tuple[str, int] | str:
    application = _application(application_id)
    form = ReturnReportForm(prefix=f"a{application.id}")
    if form.validate_on_submit():
        services.return_report(application, form.comment.data, by=current_actor())
        flash(_("The report has been sent back to the doctor."), "success")
        return redirect(url_for("applications.detail", application_id=application.id), code=303)
    return form_page("applications/report.html", ReportForm(obj=application.report), application=application,
                     can_write=False, forms={**decision_forms(application), "return_report": form})
