"""The Gift Aid pages: the claims and what waits for the next one, a claim with its lines and
schedule files, and aggregated entries (a gift's refund is on the gift's page, ``views``).

``register(bp)`` adds them to the donors blueprint; ``views.py`` calls it where it makes the
blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from ... import audit, clock
from ...extensions import db
from ...models import GiftAidAggregate, GiftAidClaim, GiftAidClaimLine
from ...money import format_minor, to_minor
from ...page_cache import cached_page
from ...permissions import allow, can_access
from ...responses import INVALID, current_actor, show_error
from . import claims
from .forms import AggregateForm, ClaimForm, PaidClaimForm, SubmitClaimForm
from .gift_aid import GIFT_AID_CURRENCY
from .permissions import ROLES
from .schedule import SCHEDULE_FORMATS, schedule_file
from .services import DonorError

CLAIMS_PER_PAGE = 50
LINES_PER_PAGE = 100
ENTRIES_SHOWN = 50


def register(bp: Blueprint) -> None:
    """Add the Gift Aid pages to the donors blueprint."""
    bp.add_url_rule("/gift-aid", "gift_aid", gift_aid)
    bp.add_url_rule("/gift-aid/claims", "create_claim", create_claim, methods=["POST"])
    bp.add_url_rule("/gift-aid/claims/<int:claim_id>", "claim", claim)
    bp.add_url_rule("/gift-aid/claims/<int:claim_id>/submit", "submit_claim", submit_claim, methods=["POST"])
    bp.add_url_rule("/gift-aid/claims/<int:claim_id>/paid", "claim_paid", claim_paid, methods=["POST"])
    bp.add_url_rule("/gift-aid/claims/<int:claim_id>/discard", "discard_claim", discard_claim, methods=["POST"])
    bp.add_url_rule("/gift-aid/lines/<int:line_id>/remove", "remove_claim_line", remove_claim_line,
                    methods=["POST"])
    bp.add_url_rule("/gift-aid/claims/<int:claim_id>/schedule-<int:part>.<any(ods, xlsx, csv):fmt>",
                    "claim_schedule", claim_schedule)
    bp.add_url_rule("/gift-aid/aggregates", "record_aggregate", record_aggregate, methods=["POST"])
    bp.add_url_rule("/gift-aid/aggregates/<int:entry_id>/remove", "remove_aggregate", remove_aggregate,
                    methods=["POST"])


def _overview(status: int = 200, **forms: Any) -> tuple[str, int]:
    today = clock.today()
    claim_form = forms.get("claim_form") or ClaimForm(formdata=None, data={"up_to": today})
    aggregate_form = forms.get("aggregate_form") or AggregateForm(prefix="entry", formdata=None)
    entries = db.session.scalars(claims.unclaimed_aggregates().limit(ENTRIES_SHOWN)).all()
    return render_template(
        "donors/gift_aid.html", claims=claims.claims_page(page=request.args.get("page", 1, type=int),
                                                          per_page=CLAIMS_PER_PAGE),
        waiting=claims.waiting(today), draft=claims.draft_claim(), claim_form=claim_form,
        aggregate_form=aggregate_form, entries=entries), status


@allow(*ROLES)
@cached_page
def gift_aid() -> tuple[str, int]:
    return _overview()


@allow(*ROLES)
def create_claim() -> BaseResponse | tuple[str, int]:
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            made = claims.create_claim(form.up_to.data, by=current_actor())
        except DonorError as error:
            show_error(error, form)
        else:
            flash(_("Draft claim %(reference)s made: %(amount)s of Gift Aid to claim.",
                    reference=made.reference, amount=format_minor(made.claimed, GIFT_AID_CURRENCY)), "success")
            return redirect(url_for("donors.claim", claim_id=made.id), code=303)
    return _overview(INVALID, claim_form=form)


def _claim_page(found: GiftAidClaim, status: int = 200, **forms: Any) -> tuple[str, int]:
    today = clock.today()
    return render_template(
        "donors/claim.html", claim=found, parts=claims.schedule_parts(found),
        formats=list(SCHEDULE_FORMATS),
        lines=claims.claim_lines(found, page=request.args.get("page", 1, type=int), per_page=LINES_PER_PAGE),
        adjustments=claims.carried_adjustments(found),
        submit_form=forms.get("submit_form") or SubmitClaimForm(formdata=None, data={"submitted_on": today}),
        paid_form=forms.get("paid_form") or PaidClaimForm(formdata=None, data={"paid_on": today}),
        events=audit.timeline(found)), status


@allow(*ROLES)
def claim(claim_id: int) -> tuple[str, int]:
    return _claim_page(db.get_or_404(GiftAidClaim, claim_id))


def _claim_step(claim_id: int, form: Any, form_name: str, step: Callable[[GiftAidClaim], None],
                done: Callable[[GiftAidClaim], str]) -> BaseResponse | tuple[str, int]:
    """A step of the claim's form ``form``: ``step`` changes it, ``done`` says so; a refusal is
    said beside the form's field, the claim's page shown again with what was typed."""
    found = db.get_or_404(GiftAidClaim, claim_id)
    if form.validate_on_submit():
        try:
            step(found)
        except DonorError as error:
            show_error(error, form)
        else:
            flash(done(found), "success")
            return redirect(url_for("donors.claim", claim_id=found.id), code=303)
    return _claim_page(db.get_or_404(GiftAidClaim, claim_id), INVALID, **{form_name: form})


@allow(*ROLES)
def submit_claim(claim_id: int) -> BaseResponse | tuple[str, int]:
    form = SubmitClaimForm()
    return _claim_step(
        claim_id, form, "submit_form",
        lambda found: claims.submit_claim(found, hmrc_reference=form.hmrc_reference.data,
                                          submitted_on=form.submitted_on.data, by=current_actor()),
        lambda found: _("Claim %(reference)s marked as submitted to HMRC.", reference=found.reference))


@allow(*ROLES)
def claim_paid(claim_id: int) -> BaseResponse | tuple[str, int]:
    form = PaidClaimForm()
    return _claim_step(
        claim_id, form, "paid_form",
        lambda found: claims.mark_paid(found, amount_received=to_minor(form.amount_received.data, GIFT_AID_CURRENCY),
                                       paid_on=form.paid_on.data, by=current_actor()),
        lambda found: _("Claim %(reference)s marked as paid.", reference=found.reference))


@allow(*ROLES)
def discard_claim(claim_id: int) -> BaseResponse:
    found = db.get_or_404(GiftAidClaim, claim_id)
    reference = found.reference
    try:
        claims.discard_claim(found, by=current_actor())
    except DonorError as error:
        show_error(error)
        return redirect(url_for("donors.claim", claim_id=claim_id), code=303)
    flash(_("Draft claim %(reference)s discarded: its gifts wait for the next claim.", reference=reference),
          "success")
    return redirect(url_for("donors.gift_aid"), code=303)


@allow(*ROLES)
def remove_claim_line(line_id: int) -> BaseResponse:
    line = db.get_or_404(GiftAidClaimLine, line_id)
    claim_id = line.claim_id
    try:
        claims.remove_line(line, by=current_actor())
    except DonorError as error:
        show_error(error)
    else:
        flash(_("Line taken out of the claim: it waits for the next claim."), "success")
    return redirect(url_for("donors.claim", claim_id=claim_id, _anchor="lines"), code=303)


@allow(*ROLES)
def claim_schedule(claim_id: int, part: int, fmt: str) -> Response:
    """Schedule file ``part`` of the claim, named by the claim's reference."""
    found = db.get_or_404(GiftAidClaim, claim_id)
    parts = claims.schedule_parts(found)
    if not can_access(current_user, found) or not 1 <= part <= parts:
        abort(404)
    body = schedule_file(fmt, claims.SCHEDULE_COLUMNS, claims.schedule_rows(found, part))
    name = f"gift-aid-schedule-{found.reference}-{part}-of-{parts}.{fmt}"
    return Response(body, mimetype=SCHEDULE_FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@allow(*ROLES)
def record_aggregate() -> BaseResponse | tuple[str, int]:
    form = AggregateForm(prefix="entry")
    if form.validate_on_submit():
        try:
            entry = claims.record_aggregate(
                description=form.description.data, received_on=form.received_on.data, gifts=form.gifts.data,
                total=to_minor(form.total.data, GIFT_AID_CURRENCY), by=current_actor())
        except DonorError as error:
            show_error(error, form)
        else:
            flash(_("Aggregated entry “%(description)s” of %(amount)s recorded.", description=entry.description,
                    amount=format_minor(entry.total, GIFT_AID_CURRENCY)), "success")
            return redirect(url_for("donors.gift_aid", _anchor="aggregated"), code=303)
    return _overview(INVALID, aggregate_form=form)


@allow(*ROLES)
def remove_aggregate(entry_id: int) -> BaseResponse:
    entry = db.get_or_404(GiftAidAggregate, entry_id)
    try:
        claims.remove_aggregate(entry, by=current_actor())
    except DonorError as error:
        show_error(error)
    else:
        flash(_("Aggregated entry removed."), "success")
    return redirect(url_for("donors.gift_aid", _anchor="aggregated"), code=303)
