"""Staff keep donors and their gifts, thank them (one by one or all at once), claim Gift
Aid and say what the restricted gifts paid for."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from ... import audit, clock
from ...exports import spreadsheet
from ...extensions import db, htmx
from ...letters.views import send_letter
from ...models import (
    Acknowledgement,
    AcknowledgementBatch,
    Donation,
    DonationAllocation,
    Donor,
    FundedItem,
    GiftAidDeclaration,
)
from ...money import AmountError, format_minor, from_minor, to_minor
from ...page_cache import cached_page
from ...permissions import allow, can_access
from ...personal_data import start_export
from ...privacy import erase_and_report
from ...responses import INVALID, current_actor, form_page, safe_next, show_error
from ...tasks import resume_job
from . import claim_views, claims, import_views, services
from .forms import (
    AllocationForm,
    CancelDeclarationForm,
    DeclarationForm,
    DonationForm,
    DonorForm,
    RefundForm,
)
from .gift_aid import gift_aid_eligible, gift_aid_on, ineligibility
from .labels import CHANNEL_LABELS, CLAIM_STATE_LABELS, KIND_LABELS, LANGUAGE_LABELS, METHOD_LABELS, PREFERENCE_LABELS
from .letters import country_name
from .permissions import ROLES

bp = Blueprint("donors", __name__, url_prefix="/donors", template_folder="templates")
import_views.register(bp)  # /imports/new and /imports/<id>: the CSV import pages
claim_views.register(bp)  # /gift-aid …: claims, their schedules, aggregated entries
PER_PAGE = 50



@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"kind_label": KIND_LABELS.get, "method_label": METHOD_LABELS.get, "channel_label": CHANNEL_LABELS.get,
            "language_label": LANGUAGE_LABELS.get, "preference_label": PREFERENCE_LABELS.get,
            "gift_aid_eligible": gift_aid_eligible, "country_name": country_name,
            "claim_state_label": CLAIM_STATE_LABELS.get, "gift_aid_on": gift_aid_on}


# --- Donors ------------------------------------------------------------------------------

@bp.get("/")
@allow(*ROLES)
@cached_page
def index() -> str:
    q = request.args.get("q", "").strip()
    donors = services.search_donors(q, limit=PER_PAGE)
    if htmx.target == "donor-rows":
        return render_template("donors/_donor_rows.html", donors=donors, q=q)
    return render_template("donors/index.html", donors=donors, q=q, pending=services.pending_count(),
                           overdue=services.overdue_count())


@bp.get("/export.<any(csv, xlsx):fmt>")
@allow(*ROLES)
def export_donors(fmt: str) -> Response:
    """The donors the list's search finds (all without one): contact details, never the notes."""
    q = request.args.get("q", "").strip().lower()
    return spreadsheet(fmt, f"donors-{clock.today().isoformat()}", services.DONOR_COLUMNS, services.donor_rows(q))


@bp.route("/new", methods=["GET", "POST"])
@allow(*ROLES)
def new() -> BaseResponse | tuple[str, int] | str:
    form = DonorForm()
    if form.validate_on_submit():
        donor = Donor()
        form.apply(donor)
        services.save_donor(donor, by=current_actor(), created=True)
        flash(_("Donor %(name)s added.", name=donor.display_name), "success")
        return redirect(url_for("donors.detail", donor_id=donor.id), code=303)
    return form_page("donors/donor_form.html", form, donor=None)


@bp.route("/<int:donor_id>/edit", methods=["GET", "POST"])
@allow(*ROLES)
def edit(donor_id: int) -> BaseResponse | tuple[str, int] | str:
    donor = db.get_or_404(Donor, donor_id)
    form = DonorForm(obj=donor)
    if form.validate_on_submit():
        form.apply(donor)
        services.save_donor(donor, by=current_actor(), created=False)
        flash(_("Donor details saved."), "success")
        return redirect(url_for("donors.detail", donor_id=donor.id), code=303)
    return form_page("donors/donor_form.html", form, donor=donor)


def _allocation_form(donation: Donation, form: AllocationForm | None = None) -> AllocationForm:
    form = form or AllocationForm(prefix=f"allocate{donation.id}")
    form.funded_item_id.choices = [SelectChoice(0, _("— choose —"))] + [
        SelectChoice(item.id, _item_label(item)) for item in services.allocatable_items()]
    return form


def _item_label(item: Any) -> str:
    kind = _("Application") if item.kind == "application" else _("Expert visit")
    return f"{kind}: {item.display_name}"


def _donor_page(donor: Donor, status: int = 200, **forms: Any) -> tuple[str, int]:
    donations = db.session.scalars(
        select(Donation).where(Donation.donor_id == donor.id)
        .options(selectinload(Donation.acknowledgement).selectinload(Acknowledgement.letter))
        .order_by(Donation.received_on.desc(), Donation.id.desc())).all()
    acknowledgements = db.session.scalars(
        select(Acknowledgement).where(Acknowledgement.donor_id == donor.id)
        .options(selectinload(Acknowledgement.donations), selectinload(Acknowledgement.letter))
        .order_by(Acknowledgement.id.desc())).all()
    context = {
        "declaration_form": DeclarationForm(prefix="declaration", formdata=None),
        "donation_form": DonationForm(prefix="donation", formdata=None),
        **forms,
    }
    today = clock.today()
    cancel_forms = {d.id: CancelDeclarationForm(prefix=f"cancel{d.id}", formdata=None, data={"cancelled_on": today})
                    for d in donor.declarations if d.cancelled_on is None}
    if "cancel_form" in forms:
        cancel_forms[forms["cancel_form_id"]] = forms["cancel_form"]
    return render_template(
        "donors/detail.html", donor=donor, donations=donations, acknowledgements=acknowledgements,
        cancel_forms=cancel_forms, claimed=claims.donor_claims(donor),
        events=audit.timeline(donor), **context), status


@bp.get("/<int:donor_id>")
@allow(*ROLES)
def detail(donor_id: int) -> tuple[str, int]:
    return _donor_page(db.get_or_404(Donor, donor_id))


@bp.post("/<int:donor_id>/data-export")
@allow("admin")
def data_export(donor_id: int) -> BaseResponse:
    """Everything the portal holds about this donor, as a ZIP written in the background."""
    return start_export(db.get_or_404(Donor, donor_id))


@bp.post("/<int:donor_id>/erase")
@allow("admin")
def erase(donor_id: int) -> BaseResponse:
    """The donor's personal details replaced by a pseudonym (or, while HMRC may ask about their
    Gift Aid, the day that will happen set); their gifts and money stay."""
    donor = db.get_or_404(Donor, donor_id)
    return erase_and_report(donor, url_for("donors.detail", donor_id=donor.id))


@bp.post("/<int:donor_id>/declarations")
@allow(*ROLES)
def declare(donor_id: int) -> BaseResponse | tuple[str, int]:
    donor = db.get_or_404(Donor, donor_id)
    form = DeclarationForm(prefix="declaration")
    if form.validate_on_submit():
        try:
            services.declare_gift_aid(donor, made_on=form.made_on.data, covers_past=form.covers_past.data,
                                      covers_future=form.covers_future.data, by=current_actor())
        except services.DonorError as error:
            show_error(error, form)
        else:
            flash(_("Gift Aid declaration recorded."), "success")
            return redirect(url_for("donors.detail", donor_id=donor.id, _anchor="gift-aid"), code=303)
    return _donor_page(donor, INVALID, declaration_form=form)


@bp.post("/declarations/<int:declaration_id>/cancel")
@allow(*ROLES)
def cancel_declaration(declaration_id: int) -> BaseResponse | tuple[str, int]:
    declaration = db.get_or_404(GiftAidDeclaration, declaration_id)
    form = CancelDeclarationForm(prefix=f"cancel{declaration.id}")
    if form.validate_on_submit():
        try:
            services.cancel_gift_aid(declaration, on=form.cancelled_on.data, reason=form.reason.data,
                                     by=current_actor())
        except services.DonorError as error:
            show_error(error)
        else:
            flash(_("Gift Aid declaration cancelled."), "success")
        return redirect(url_for("donors.detail", donor_id=declaration.donor_id, _anchor="gift-aid"), code=303)
    return _donor_page(declaration.donor, INVALID, cancel_form=form, cancel_form_id=declaration.id)


def _donation_values(form: DonationForm) -> dict[str, Any]:
    """What the donation form says, as the model's values (the form checked the decimals)."""
    values = {name: getattr(form, name).data for name in DonationForm.FIELDS}
    values.update(campaign=values["campaign"] or None, notes=values["notes"] or None,
                  amount=to_minor(form.amount.data, form.currency.data), reference=form.reference.data or None,
                  benefit_value=to_minor(form.benefit_value.data or Decimal(0), form.currency.data),
                  benefit_description=values["benefit_description"] or None)
    return values


@bp.post("/<int:donor_id>/donations")
@allow(*ROLES)
def record_donation(donor_id: int) -> BaseResponse | tuple[str, int]:
    donor = db.get_or_404(Donor, donor_id)
    form = DonationForm(prefix="donation")
    if form.validate_on_submit():
        try:
            donation = services.record_donation(donor, _donation_values(form), by=current_actor())
        except services.DonorError as error:
            show_error(error, form)
        else:
            flash(_("Donation of %(amount)s recorded: it awaits thanks.",
                    amount=format_minor(donation.amount, donation.currency)), "success")
            return redirect(url_for("donors.detail", donor_id=donor.id, _anchor="donations"), code=303)
    return _donor_page(donor, INVALID, donation_form=form)


# --- Donations ---------------------------------------------------------------------------

@bp.get("/donations")
@allow(*ROLES)
@cached_page
def donations() -> str:
    status = request.args.get("status", "pending")
    q = request.args.get("q", "").strip()
    query = services.donations_query(status, q).options(selectinload(Donation.acknowledgement).selectinload(
        Acknowledgement.letter), selectinload(Donation.donor).selectinload(Donor.declarations))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    pending = services.pending_count()
    batches = db.session.scalars(select(AcknowledgementBatch).order_by(AcknowledgementBatch.id.desc()).limit(5)).all()
    return render_template("donors/donations.html", page=page, status=status, q=q, pending=pending,
                           batches=batches, overdue=services.overdue_count())


@bp.get("/donations.<any(csv, xlsx):fmt>")
@allow(*ROLES)
def export_donations(fmt: str) -> Response:
    """The donations list's gifts with its filters, a total per currency closing the file."""
    rows = services.donation_rows(request.args.get("status", "pending"), request.args.get("q", "").strip())
    return spreadsheet(fmt, f"donations-{clock.today().isoformat()}", services.DONATION_COLUMNS, rows)


def _donation_page(donation: Donation, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The gift's page: its details and edit form, allocations, Gift Aid, refunds and history."""
    edit_form = forms.pop("edit_form", None)
    if edit_form is None and donation.pending:
        edit_form = DonationForm(prefix="edit", formdata=None, obj=donation)
        edit_form.amount.data = from_minor(donation.amount, donation.currency)  # obj= gave the minor units
        edit_form.benefit_value.data = from_minor(donation.benefit_value, donation.currency)
    refund_form = forms.pop("refund_form", None)
    if refund_form is None and donation.net_amount > 0:
        refund_form = RefundForm(prefix="refund", formdata=None, data={"refunded_on": clock.today()})
    line = claims.claim_line_of(donation)
    return render_template(
        "donors/donation.html", donation=donation, edit_form=edit_form,
        allocation_form=forms.pop("allocation_form", None) or (_allocation_form(donation) if donation.restricted
                                                               else None),
        not_eligible=ineligibility(donation), line=line, refund_form=refund_form,
        events=audit.timeline(donation)), status


@bp.get("/donations/<int:donation_id>")
@allow(*ROLES)
def donation(donation_id: int) -> tuple[str, int]:
    return _donation_page(db.get_or_404(Donation, donation_id))


@bp.post("/donations/<int:donation_id>/edit")
@allow(*ROLES)
def edit_donation(donation_id: int) -> BaseResponse | tuple[str, int]:
    donation = db.get_or_404(Donation, donation_id)
    form = DonationForm(prefix="edit")
    if not donation.pending:
        flash(_("This gift has been acknowledged: its letter stands as sent."), "error")
        return redirect(url_for("donors.donation", donation_id=donation.id), code=303)
    if form.validate_on_submit():
        try:
            services.change_donation(donation, _donation_values(form), by=current_actor())
        except services.DonorError as error:  # rolled back: the page shows the gift as it stands
            show_error(error, form)
        else:
            flash(_("Donation saved."), "success")
            return redirect(url_for("donors.donation", donation_id=donation.id), code=303)
    return _donation_page(donation, INVALID, edit_form=form)


@bp.post("/donations/<int:donation_id>/acknowledge")
@allow(*ROLES)
def acknowledge(donation_id: int) -> BaseResponse | tuple[str, int] | str:
    donation = db.get_or_404(Donation, donation_id)
    try:
        acknowledgement = services.acknowledge([donation], by=current_actor())
    except services.DonorError as error:
        message = show_error(error)  # flashed for the page, or said in the cell (htmx)
        if htmx:
            return render_template("donors/_thanks_cell.html", donation=donation, message=message)
    else:
        message = _("Thanked %(channel)s: letter %(reference)s.",
                    channel=CHANNEL_LABELS[acknowledgement.channel], reference=acknowledgement.letter.reference)
        if htmx:  # the cell answers; the page's other parts that count gifts refresh on this event
            response = make_response(render_template("donors/_thanks_cell.html", donation=donation, message=message))
            response.headers["HX-Trigger"] = "donation-thanked"
            return response
        flash(message, "success")
    back = request.form.get("next")
    return redirect(safe_next(back) if back else url_for("donors.donation", donation_id=donation_id), code=303)


@bp.post("/acknowledge-all")
@allow(*ROLES)
def acknowledge_all() -> BaseResponse:
    job = services.start_thanking(by=current_actor())
    if job is None:
        flash(_("Every gift has been acknowledged already."), "info")
        return redirect(url_for("donors.donations"), code=303)
    return redirect(url_for("donors.batch", batch_id=services.batch_of(job).id), code=303)


@bp.get("/batches/<int:batch_id>")
@allow(*ROLES)
def batch(batch_id: int) -> str:
    """The batch: its progress while its job runs (htmx polls the body), then its letters."""
    found = db.get_or_404(AcknowledgementBatch, batch_id)
    job = found.job
    acknowledgements = [] if job is not None and job.state != "done" else db.session.scalars(
        select(Acknowledgement).where(Acknowledgement.batch_id == found.id)
        .options(selectinload(Acknowledgement.donations), selectinload(Acknowledgement.letter))
        .order_by(Acknowledgement.id)).all()
    context = {"batch": found, "job": job, "acknowledgements": acknowledgements,
               "summary": services.batch_summary(found) if job is not None and job.state == "done" else None,
               "post_count": sum(1 for a in acknowledgements if a.channel == "post")}
    if htmx.target == "batch-body":
        return render_template("donors/_batch_body.html", **context)
    return render_template("donors/batch.html", **context)


@bp.post("/batches/<int:batch_id>/resume")
@allow(*ROLES)
def resume_batch(batch_id: int) -> BaseResponse:
    found = db.get_or_404(AcknowledgementBatch, batch_id)
    if found.job is None or found.job.state != "failed":
        abort(409, _("This batch is not stopped: there is nothing to resume."))
    job = resume_job(found.job, by=current_actor())
    return redirect(url_for("donors.batch", batch_id=services.batch_of(job).id), code=303)


@bp.get("/batches/<int:batch_id>/post.pdf")
@allow(*ROLES)
def batch_post_pdf(batch_id: int) -> Response:
    found = db.get_or_404(AcknowledgementBatch, batch_id)
    letters = services.post_letters(found)
    if not letters or not can_access(current_user, found):
        abort(404)
    response = Response(services.merged_pdf(letters), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="thanks-by-post-batch-{found.id}.pdf"'
    return response


@bp.get("/acknowledgements/<int:acknowledgement_id>/letter.pdf")
@allow(*ROLES)
def acknowledgement_letter(acknowledgement_id: int) -> BaseResponse:
    acknowledgement = db.get_or_404(Acknowledgement, acknowledgement_id)
    if acknowledgement.letter is None:
        abort(404)
    return send_letter(acknowledgement.letter)


# --- Allocations -------------------------------------------------------------------------

@bp.post("/donations/<int:donation_id>/allocations")
@allow(*ROLES)
def allocate(donation_id: int) -> BaseResponse | tuple[str, int]:
    donation = db.get_or_404(Donation, donation_id)
    form = _allocation_form(donation, AllocationForm(prefix=f"allocate{donation.id}"))
    if form.validate_on_submit():
        item = db.session.get(FundedItem, form.funded_item_id.data)
        try:
            amount = to_minor(form.amount.data, donation.currency)
        except AmountError:
            form.amount.errors.append(_("Too many decimal places for %(currency)s.", currency=donation.currency))
        else:
            if item is None:
                form.funded_item_id.errors.append(_("Choose the application or visit this gift paid for."))
            else:
                try:
                    services.allocate(donation, item, amount, by=current_actor())
                except services.DonorError as error:
                    show_error(error, form)
                else:
                    flash(_("Allocated %(amount)s to %(item)s.",
                            amount=format_minor(amount, donation.currency), item=_item_label(item)),
                          "success")
                    return redirect(url_for("donors.donation", donation_id=donation.id, _anchor="allocations"),
                                    code=303)
    return _donation_page(db.get_or_404(Donation, donation_id), INVALID, allocation_form=form)


@bp.post("/allocations/<int:allocation_id>/remove")
@allow(*ROLES)
def remove_allocation(allocation_id: int) -> BaseResponse:
    allocation = db.get_or_404(DonationAllocation, allocation_id)
    donation_id = allocation.donation_id
    services.remove_allocation(allocation, by=current_actor())
    flash(_("Allocation removed."), "success")
    return redirect(url_for("donors.donation", donation_id=donation_id, _anchor="allocations"), code=303)


@bp.post("/donations/<int:donation_id>/refund")
@allow(*ROLES)
def refund_donation(donation_id: int) -> BaseResponse | tuple[str, int]:
    """Record part or all of a gift given back: a claimed gift's Gift Aid is adjusted."""
    donation = db.get_or_404(Donation, donation_id)
    form = RefundForm(prefix="refund")
    if form.validate_on_submit():
        try:
            amount = to_minor(form.amount.data, donation.currency)
        except AmountError:
            form.amount.errors.append(_("Too many decimal places for %(currency)s.", currency=donation.currency))
        else:
            try:
                claims.refund_donation(donation, amount=amount, refunded_on=form.refunded_on.data,
                                       reason=form.reason.data, by=current_actor())
            except services.DonorError as error:
                show_error(error, form)
            else:
                flash(_("Refund of %(amount)s recorded.", amount=format_minor(amount, donation.currency)), "success")
                return redirect(url_for("donors.donation", donation_id=donation.id, _anchor="refunds"), code=303)
    return _donation_page(db.get_or_404(Donation, donation_id), INVALID, refund_form=form)
