"""Claims with receipts, inline decisions per line, payments, rates, direct costs, budget."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from ... import bank, clock, storage
from ...errors import UserError
from ...exports import spreadsheet
from ...extensions import db, htmx
from ...forms import VersionedForm
from ...labels import budget_category_label
from ...models import (
    BUDGET_CATEGORIES,
    LINE_STATES,
    ExchangeRate,
    ExpenseClaim,
    ExpenseLine,
    FundedItem,
)
from ...money import CURRENCIES, base_currency, from_minor, to_minor
from ...page_cache import cached_page
from ...permissions import allow, has_role
from ...responses import INVALID, current_actor, form_page, safe_next, show_error
from . import services
from .budget import chart_bars, current_budget_year, year_figures
from .forms import (
    METHOD_LABELS,
    AnswerForm,
    ApproveLineForm,
    BudgetForm,
    DirectCostForm,
    LineForm,
    PaymentForm,
    QueryLineForm,
    RateForm,
    RatesImportForm,
    RejectLineForm,
    category_choices,
)
from .permissions import CLAIMANTS, ROLES, can_see_claim

bp = Blueprint("expenses", __name__, url_prefix="/expenses", template_folder="templates")

PER_PAGE = 50
REVIEWERS = ("staff", "finance")



@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"method_label": lambda m: str(METHOD_LABELS.get(m, m)), "base": base_currency()}


# The claimant's side -------------------------------------------------------------------------

@bp.get("/")
@allow(*ROLES)
@cached_page
def index() -> str:
    mine = db.session.scalars(
        select(ExpenseClaim).where(ExpenseClaim.claimant_id == current_user.id, ExpenseClaim.direct.is_(False))
        .options(selectinload(ExpenseClaim.lines)).order_by(ExpenseClaim.id.desc())).all()
    claimable = db.session.scalars(
        select(FundedItem).where(FundedItem.beneficiary_id == current_user.id,
                                 FundedItem.is_funded())
        .order_by(FundedItem.id.desc())).all() if has_role(current_user, *CLAIMANTS) else []
    return render_template("expenses/index.html", claims=mine, claimable=claimable)


@bp.post("/claims")
@allow(*CLAIMANTS)
def open_claim() -> BaseResponse:
    item = db.session.get(FundedItem, request.form.get("funded_item_id", type=int) or 0)
    if item is None or item.beneficiary_id != current_user.id:
        abort(404)
    claim = services.open_claim(item, by=current_actor())  # a refusal answers 409 (portal.core)
    return redirect(url_for("expenses.claim", claim_id=claim.id), code=303)


def _claim(claim_id: int) -> ExpenseClaim:
    claim = db.session.get(ExpenseClaim, claim_id)
    if claim is None or not can_see_claim(current_user, claim):
        abort(404)
    return claim


def _line(line_id: int) -> ExpenseLine:
    line = db.session.get(ExpenseLine, line_id)
    if line is None or not can_see_claim(current_user, line.claim):
        abort(404)
    return line


def _line_form(claim: ExpenseClaim, **kwargs: Any) -> LineForm:
    form = LineForm(**kwargs)
    form.category.choices = category_choices(services.claimable_categories(claim.funded_item))
    return form


def _remaining(claim: ExpenseClaim) -> list[dict[str, Any]]:
    """Per category: approved, already approved or paid, and what is left, in GBP."""
    rows = []
    for category in services.claimable_categories(claim.funded_item):
        cap, used = services.category_usage(claim.funded_item, category)
        rows.append({"category": category, "cap": cap, "used": used,
                     "left": None if cap is None else cap - used})
    return rows


def _claim_context(claim: ExpenseClaim, form: LineForm | None = None, **extra: Any) -> dict[str, Any]:
    return {"claim": claim, "form": form or _line_form(claim), "remaining": _remaining(claim),
            "duplicates": services.duplicate_receipts(claim.lines) if has_role(current_user, *REVIEWERS) else set(),
            "answer_form_for": lambda line: AnswerForm(prefix=f"l{line.id}", formdata=None),
            "is_claimant": claim.claimant_id == current_user.id,
            "editable": claim.submitted_at is None and claim.claimant_id == current_user.id, **extra}


@bp.get("/claims/<int:claim_id>")
@allow(*ROLES)
def claim(claim_id: int) -> str:
    return render_template("expenses/claim.html", **_claim_context(_claim(claim_id)))


@bp.post("/claims/<int:claim_id>/lines")
@allow(*CLAIMANTS)
def add_line(claim_id: int) -> BaseResponse | tuple[str, int] | str:
    claim = _claim(claim_id)
    if claim.claimant_id != current_user.id:
        abort(403)
    form = _line_form(claim)
    if form.validate_on_submit():
        try:
            services.add_line(claim, form.values(), request.files.get(form.receipt.name), by=current_actor())
        except UserError as error:  # beside the receipt or the category it is about
            show_error(error, form)
        else:
            if htmx:
                return render_template("expenses/_claim_lines.html", **_claim_context(
                    claim, _line_form(claim, formdata=None), message=_("Line added.")))
            flash(_("Line added."), "success")
            return redirect(url_for("expenses.claim", claim_id=claim.id), code=303)
    if htmx:
        return render_template("expenses/_claim_lines.html", **_claim_context(claim, form)), INVALID
    return render_template("expenses/claim.html", **_claim_context(claim, form)), INVALID


@bp.post("/lines/<int:line_id>/delete")
@allow(*CLAIMANTS)
def delete_line(line_id: int) -> BaseResponse | str:
    line = _line(line_id)
    claim = line.claim
    if claim.claimant_id != current_user.id:
        abort(403)
    services.remove_line(line, by=current_actor())
    if htmx:
        return render_template("expenses/_claim_lines.html", **_claim_context(claim, message=_("Line removed.")))
    flash(_("Line removed."), "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id), code=303)


@bp.post("/claims/<int:claim_id>/submit")
@allow(*CLAIMANTS)
def submit(claim_id: int) -> BaseResponse:
    claim = _claim(claim_id)
    if claim.claimant_id != current_user.id:
        abort(403)
    try:
        services.submit_claim(claim, by=current_actor())
    except UserError as error:
        show_error(error)
    else:
        flash(_("Your claim has been submitted. We will e-mail you about each line."), "success")
    return redirect(url_for("expenses.claim", claim_id=claim.id), code=303)


@bp.post("/lines/<int:line_id>/answer")
@allow(*CLAIMANTS)
def answer(line_id: int) -> BaseResponse | tuple[str, int]:
    line = _line(line_id)
    form = AnswerForm(prefix=f"l{line.id}")
    if form.validate_on_submit():
        try:
            services.answer_query(line, form.answer.data, request.files.get(form.receipt.name), by=current_actor())
        except storage.UploadRejected as error:  # any other refusal answers 409 (portal.core)
            show_error(error, form)
        else:
            flash(_("Thank you: your answer has been sent."), "success")
            return redirect(url_for("expenses.claim", claim_id=line.claim_id), code=303)
    return render_template("expenses/claim.html", **_claim_context(line.claim, answer_forms={line.id: form})), INVALID


@bp.get("/lines/<int:line_id>/receipt")
@allow(*ROLES)
def receipt(line_id: int) -> BaseResponse:
    line = _line(line_id)  # the permission check for the file
    if line.receipt is None:
        abort(404)
    return storage.send_stored(line.receipt, of=line)


# The review queue ---------------------------------------------------------------------------

def _filters() -> dict[str, Any]:
    args = request.args
    status = args.get("status", "submitted")
    category = args.get("category") or ""
    return {
        "status": status if status in LINE_STATES or status == "all" else "submitted",
        "q": (args.get("q") or "").strip(),
        "funded_item_id": args.get("funded_item_id", type=int),
        "category": category if category in BUDGET_CATEGORIES else "",
        "older_than": args.get("older_than", type=int),
        "year": args.get("year", type=int),
    }


def decision_forms(line: ExpenseLine, next_url: str | None) -> dict[str, Any]:
    data = {"version": line.version, "next": next_url}
    prefix = f"l{line.id}"
    return {"approve": ApproveLineForm(prefix=prefix, formdata=None, data=data),
            "reject": RejectLineForm(prefix=prefix, formdata=None, data=data),
            "query": QueryLineForm(prefix=prefix, formdata=None, data=data)}


@bp.get("/review")
@allow(*REVIEWERS)
@cached_page
def queue() -> str:
    filters = _filters()
    page = db.paginate(services.lines_query(filters), per_page=PER_PAGE, error_out=False)
    return render_template("expenses/queue.html", page=page, filters=filters, states=LINE_STATES,
                           duplicates=services.duplicate_receipts(page.items), decision_forms=decision_forms,
                           categories=BUDGET_CATEGORIES, next_url=request.full_path)


def _decide(line_id: int, form_class: type[VersionedForm], decide: Any,
            message: str) -> BaseResponse | tuple[str, int] | str:
    line = _line(line_id)
    form = form_class(prefix=f"l{line.id}")
    key = {ApproveLineForm: "approve", RejectLineForm: "reject", QueryLineForm: "query"}[form_class]
    if form.validate_on_submit():
        try:
            decide(line, form)
        except UserError as error:
            line = _line(line_id)
            if not htmx:
                if error.status != INVALID:
                    raise  # 409 (portal.core)
                show_error(error)
                return redirect(safe_next(form.next.data, "expenses.queue"), code=303)
            if isinstance(error, services.NeedsOverride):  # the form stays open, with what was typed
                form.override_reason.errors = [str(error.message)]
            forms = {**decision_forms(line, form.next.data), key: form}
            # 422 whatever the refusal: htmx swaps it, so the row shows the message in place.
            return _row(line, forms, message=str(error.message), error=True, open_form=key), INVALID
        if not htmx:
            flash(message, "success")
            return redirect(safe_next(form.next.data, "expenses.queue"), code=303)
        return _row(line, decision_forms(line, form.next.data), message=message)
    if not htmx:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(safe_next(form.next.data, "expenses.queue"), code=303)
    return _row(line, {**decision_forms(line, form.next.data), key: form}, open_form=key), INVALID


def _row(line: ExpenseLine, forms: dict[str, Any], **context: Any) -> str:
    return render_template("expenses/_line_row.html", line=line, forms=forms,
                           duplicates=services.duplicate_receipts([line]), **context)


@bp.post("/lines/<int:line_id>/approve")
@allow("staff")
def approve(line_id: int) -> BaseResponse | tuple[str, int] | str:
    return _decide(line_id, ApproveLineForm, lambda line, f: services.approve_line(
        line, by=current_actor(), version=f.version_number(), override_reason=f.override_reason.data),
        _("Line approved."))


@bp.post("/lines/<int:line_id>/reject")
@allow("staff")
def reject(line_id: int) -> BaseResponse | tuple[str, int] | str:
    return _decide(line_id, RejectLineForm, lambda line, f: services.reject_line(
        line, f.reason.data, by=current_actor(), version=f.version_number()), _("Line rejected."))


@bp.post("/lines/<int:line_id>/query")
@allow("staff")
def query(line_id: int) -> BaseResponse | tuple[str, int] | str:
    return _decide(line_id, QueryLineForm, lambda line, f: services.query_line(
        line, f.question.data, by=current_actor(), version=f.version_number()), _("Question sent to the claimant."))


@bp.get("/review.csv")
@allow(*REVIEWERS)
def export() -> Response:
    """The queue's lines with its filters, for the accounts; a total row closes the file."""
    return Response(stream_with_context(services.lines_csv(_filters())), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=expense-lines-{clock.today().isoformat()}.csv"})


# Payments ----------------------------------------------------------------------------------

@bp.get("/payments.<any(csv, xlsx):fmt>")
@allow("finance")
def export_payments(fmt: str) -> Response:
    """Every payment made, and their total."""
    return spreadsheet(fmt, f"payments-{clock.today().isoformat()}", services.PAYMENT_COLUMNS,
                       services.payment_rows())


@bp.get("/payments/bank.csv")
@allow("finance")
def bank_file() -> Response:
    """Everyone ready to be paid, with their bank details and the amount: for the bank."""
    return spreadsheet("csv", f"bank-payments-{clock.today().isoformat()}", services.BANK_FILE_COLUMNS,
                       services.bank_file_rows())


def _ready_to_pay(posted: PaymentForm | None = None, group_key: int | None = None) -> dict[str, Any]:
    """This page of payees (``?page=``): their approved lines grouped by claimant, each group
    with its own payment form; what the payments page shows."""
    page, groups = services.ready_to_pay(request.args.get("page", 1, type=int))
    for group in groups:
        group["bank"] = bank.masked(bank.details_of(group["claimant"])) if group["claimant"] else ""
        group["form"] = posted if posted is not None and group["key"] == group_key else PaymentForm(
            prefix=f"p{group['key']}", formdata=None,
            data={"amount": from_minor(group["total"], base_currency()), "paid_on": clock.today()})
    return {"page": page, "groups": groups, "recent": services.recent_payments()}


@bp.get("/payments")
@allow("finance")
@cached_page
def payments() -> str:
    return render_template("expenses/payments.html", **_ready_to_pay())


@bp.post("/payments")
@allow("finance")
def record_payment() -> BaseResponse | tuple[str, int]:
    group_key = request.form.get("group", type=int) or 0
    form = PaymentForm(prefix=f"p{group_key}")
    ids = [int(value) for value in request.form.getlist("line") if value.isdigit()]
    lines = db.session.scalars(select(ExpenseLine).where(ExpenseLine.id.in_(ids))).all() if ids else []
    if form.validate_on_submit():
        try:
            payment = services.pay(list(lines), paid_on=form.paid_on.data, method=form.method.data,
                                   reference=form.reference.data, amount_gbp=to_minor(form.amount.data,
                                                                                       base_currency()),
                                   by=current_actor())
        except UserError as error:
            show_error(error)
        else:
            flash(ngettext("Payment %(reference)s recorded for %(num)d line.",
                           "Payment %(reference)s recorded for %(num)d lines.", len(payment.lines),
                           reference=payment.reference), "success")
            return redirect(url_for("expenses.payments"), code=303)
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return render_template("expenses/payments.html", **_ready_to_pay(form, group_key), chosen=set(ids),
                           posted_group=group_key), INVALID


# Rates, direct costs, budget --------------------------------------------------------------------

@bp.route("/rates", methods=["GET", "POST"])
@allow("finance")
def rates() -> BaseResponse | tuple[str, int] | str:
    form, import_form = RateForm(), RatesImportForm(formdata=None)
    if form.validate_on_submit():
        services.add_rate(form.currency.data, form.rate.data, form.valid_from.data, by=current_actor())
        flash(_("Rate saved."), "success")
        return redirect(url_for("expenses.rates"), code=303)
    return form_page("expenses/rates.html", form, import_form=import_form, errors=[],
                     rates=db.session.scalars(select(ExchangeRate).order_by(
                         ExchangeRate.valid_from.desc(), ExchangeRate.currency).limit(200)).all())


@bp.post("/rates/import")
@allow("finance")
def import_rates() -> BaseResponse | tuple[str, int]:
    import_form = RatesImportForm()
    upload = request.files.get(import_form.file.name)
    errors: list[str] = []
    if not import_form.validate_on_submit() or upload is None or not upload.filename:
        errors = [_("Choose a CSV file.")]
    else:
        rows, errors = services.parse_rates_csv(upload.read(1024 * 1024), CURRENCIES)
        if not errors and not rows:
            errors = [_("The file has no rates.")]
        if not errors:
            count = services.import_rates(rows, by=current_actor())
            flash(ngettext("%(num)d rate imported.", "%(num)d rates imported.", count), "success")
            return redirect(url_for("expenses.rates"), code=303)
    return render_template("expenses/rates.html", form=RateForm(formdata=None), import_form=import_form,
                           errors=errors, rates=db.session.scalars(select(ExchangeRate).order_by(
                               ExchangeRate.valid_from.desc()).limit(200)).all()), INVALID


def _item_label(item: FundedItem) -> str:
    return f"{item.display_name} · {item.beneficiary.name}" if item.beneficiary else item.display_name


@bp.route("/direct", methods=["GET", "POST"])
@allow("staff")
def direct_cost() -> BaseResponse | tuple[str, int] | str:
    items = db.session.scalars(select(FundedItem).where(FundedItem.is_funded())
                               .order_by(FundedItem.id.desc()).limit(300)).all()
    form = DirectCostForm()
    form.funded_item_id.choices = [SelectChoice(item.id, _item_label(item)) for item in items]
    form.category.choices = [SelectChoice(c, budget_category_label(c)) for c in BUDGET_CATEGORIES]
    if form.validate_on_submit():
        item = db.session.get(FundedItem, form.funded_item_id.data) or abort(404)
        try:
            services.record_direct_cost(item, form.values(), request.files.get(form.receipt.name), by=current_actor())
        except UserError as error:  # beside the invoice or the currency it is about
            show_error(error, form)
        else:
            flash(_("Direct cost recorded."), "success")
            return redirect(url_for("expenses.direct_cost"), code=303)
    return form_page("expenses/direct.html", form)


@bp.route("/budget", methods=["GET", "POST"])
@allow(*REVIEWERS)
@cached_page
def budget() -> BaseResponse | tuple[str, int] | str:
    year = request.args.get("year", type=int) or current_budget_year()
    form = BudgetForm(data={"year": year})
    if request.method == "POST":
        if not has_role(current_user, "admin"):
            abort(403)
        form = BudgetForm()
        if form.validate_on_submit():
            services.set_budget(form.year.data, to_minor(form.amount.data, base_currency()), by=current_actor())
            flash(_("Budget saved."), "success")
            return redirect(url_for("expenses.budget", year=form.year.data), code=303)
    figures = year_figures(year)
    # A column label names the month on its own: the stand-alone form (май, not мая).
    months = get_month_names("abbreviated", context="stand-alone", locale=get_locale())
    return form_page("expenses/budget.html", form, figures=figures, chart=chart_bars(figures["months"]),
                     month_names=months)
