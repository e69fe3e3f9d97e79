from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from ... import audit
from ... import conferences as conference_service
from ...extensions import db, htmx
from ...models import Clinic, Conference
from ...permissions import SIGNED_IN, allow, is_staff
from ...responses import INVALID, current_actor, form_page
from ...search import matches_any
from . import services
from .forms import ClinicForm, ConferenceForm

bp = Blueprint("catalogue", __name__, template_folder="templates")

PER_PAGE = 50


def _search(query: Any, columns: list[Any], q: str) -> Any:
    if not q:
        return query
    return query.where(matches_any(columns, q))


# Clinics ------------------------------------------------------------------------------

@bp.get("/clinics")
@allow("staff")
def clinics() -> str:
    q = (request.args.get("q") or "").strip()
    query = _search(select(Clinic).order_by(Clinic.name), [Clinic.name, Clinic.city, Clinic.country], q)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("catalogue/clinics.html", page=page, q=q)


@bp.route("/clinics/new", methods=["GET", "POST"], defaults={"clinic_id": None})
@bp.route("/clinics/<int:clinic_id>/edit", methods=["GET", "POST"])
@allow("staff")
def edit_clinic(clinic_id: int | None) -> Response | tuple[str, int] | str:
    clinic = (db.session.get(Clinic, clinic_id) or abort(404)) if clinic_id else None
    form = ClinicForm(obj=clinic)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in ClinicForm.FIELDS}
        try:
            clinic = services.save_clinic(clinic, values, by=current_actor())
        except services.DuplicateName:
            form.name.errors.append(_("A clinic with this name already exists."))
        else:
            flash(_("Clinic “%(name)s” saved.", name=clinic.name), "success")
            return redirect(url_for("catalogue.clinics"), code=303)
    return form_page("catalogue/clinic_form.html", form, clinic=clinic,
                     events=audit.timeline(clinic) if clinic else [])


# Conferences --------------------------------------------------------------------------

def _visible_conferences() -> Any:
    query = select(Conference)
    if not is_staff(current_user):
        query = query.where(or_(Conference.confirmed.is_(True), Conference.proposed_by_id == current_user.id))
    return query


@bp.get("/conferences")
@allow(SIGNED_IN)
def conferences() -> str:
    q = (request.args.get("q") or "").strip()
    show = request.args.get("show") or ""
    query = _search(_visible_conferences(),
                    [Conference.name, Conference.city, Conference.country, Conference.organiser], q)
    if show == "proposed":
        query = query.where(Conference.confirmed.is_(False))
    query = query.order_by(Conference.start_date.desc(), Conference.name)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("catalogue/conferences.html", page=page, q=q, show=show,
                           form=_new_conference_form())


def _new_conference_form(**kwargs: Any) -> ConferenceForm:
    form = ConferenceForm(**kwargs)
    if not is_staff(current_user):
        del form.confirmed
    return form


@bp.post("/conferences")
@allow(SIGNED_IN)
def add_conference() -> Response | tuple[str, int] | str:
    """Staff add a conference; anyone else proposes one for staff to confirm."""
    form = _new_conference_form()
    if not form.validate_on_submit():
        if htmx:
            return render_template("catalogue/_conference_form.html", form=form), INVALID
        return form_page("catalogue/conference_new.html", form)
    values = {name: getattr(form, name).data for name in ConferenceForm.FIELDS}
    conference = conference_service.save_conference(
        None, values, by=current_actor(),
        confirmed=form.confirmed.data if "confirmed" in form else None)
    message = (_("Conference “%(name)s” added.", name=conference.name) if conference.confirmed
               else _("Thank you: “%(name)s” has been proposed and the programme team will review it.",
                      name=conference.name))
    if htmx:
        # formdata=None: an empty form for the next conference, not the one just added.
        return render_template("catalogue/_conference_added.html", form=_new_conference_form(formdata=None),
                               conference=conference, message=message)
    flash(message, "success")
    return redirect(url_for("catalogue.conferences"), code=303)


@bp.get("/conferences/new")
@allow(SIGNED_IN)
def new_conference() -> str:
    return render_template("catalogue/conference_new.html", form=_new_conference_form())


@bp.route("/conferences/<int:conference_id>/edit", methods=["GET", "POST"])
@allow("staff")
def edit_conference(conference_id: int) -> Response | tuple[str, int] | str:
    conference = db.session.get(Conference, conference_id) or abort(404)
    form = ConferenceForm(obj=conference)
    del form.confirmed
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in ConferenceForm.FIELDS}
        conference_service.save_conference(conference, values, by=current_actor())
        flash(_("Conference “%(name)s” saved.", name=conference.name), "success")
        return redirect(url_for("catalogue.conferences"), code=303)
    return form_page("catalogue/conference_edit.html", form, conference=conference, editing=conference,
                     events=audit.timeline(conference))


@bp.post("/conferences/<int:conference_id>/confirm")
@allow("staff")
def confirm_conference(conference_id: int) -> Response | str:
    conference = db.session.get(Conference, conference_id) or abort(404)
    conference_service.confirm_conference(conference, by=current_actor())
    message = _("Conference “%(name)s” confirmed.", name=conference.name)
    if htmx:
        return render_template("catalogue/_conference_row.html", conference=conference, message=message)
    flash(message, "success")
    return redirect(url_for("catalogue.conferences"), code=303)
