"""Staff plan visits and their programme; experts see their own visit and its letter."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from icalendar import Calendar, Event
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from ... import audit, clock
from ...duties import is_beneficiary
from ...exports import spreadsheet
from ...extensions import db, htmx
from ...models import ExpertVisit, User, UserRole, VisitActivity
from ...page_cache import cached_page
from ...permissions import allow, is_staff
from ...responses import INVALID, current_actor, form_page, show_error
from . import services
from .forms import ActivityForm, OutcomesForm, TransitionForm, VisitForm
from .labels import ACTIVITY_LABELS, STATE_LABELS
from .permissions import ROLES, can_see_visit

bp = Blueprint("expert_visits", __name__, url_prefix="/visits", template_folder="templates")



@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"activity_label": lambda kind: str(ACTIVITY_LABELS.get(kind, kind)), "visit_states": STATE_LABELS}


def _visit(visit_id: int) -> ExpertVisit:
    visit = db.session.get(ExpertVisit, visit_id)
    if visit is None or not can_see_visit(current_user, visit):
        abort(404)
    return visit


@bp.get("/")
@allow(*ROLES)
@cached_page
def index() -> str:
    query = select(ExpertVisit).order_by(ExpertVisit.arrival_on.desc())
    if not is_staff(current_user):
        query = query.where(ExpertVisit.beneficiary_id == current_user.id)
    return render_template("expert_visits/index.html", visits=db.session.scalars(query.limit(200)).all())


@bp.get("/visits.<any(csv, xlsx):fmt>")
@allow("staff")
def export(fmt: str) -> Response:
    """Every visit with its outcomes, and their totals."""
    return spreadsheet(fmt, f"expert-visits-{clock.today().isoformat()}", services.VISIT_COLUMNS,
                       services.visit_rows())


def _visit_form(visit: ExpertVisit | None) -> VisitForm:
    form = VisitForm(obj=visit)
    experts = db.session.scalars(select(User).join(UserRole).where(UserRole.role == "expert").order_by(User.name))
    form.expert_id.choices = [SelectChoice(0, _("— a new expert (below) —"))] + [
        SelectChoice(e.id, f"{e.name} <{e.email}>") for e in experts]
    form.host_clinic_id.choices = [SelectChoice(c.id, f"{c.name} ({c.city})") for c in services.clinic_choices()]
    if visit is not None and request.method == "GET":
        form.expert_id.data = visit.beneficiary_id
        form.fill_budget(visit)
        form.version.data = str(visit.version)
    return form


@bp.route("/new", methods=["GET", "POST"])
@allow("staff")
def new() -> BaseResponse | tuple[str, int] | str:
    form = _visit_form(None)
    if form.validate_on_submit():
        expert = db.session.get(User, form.expert_id.data) if form.expert_id.data else None
        new_expert = None
        if expert is None:
            if not (form.new_expert_name.data and form.new_expert_email.data):
                form.new_expert_email.errors.append(_("Choose an expert, or give a new expert's name and e-mail."))
                return form_page("expert_visits/form.html", form, visit=None)
            new_expert = (form.new_expert_name.data, form.new_expert_email.data)
        values = {name: getattr(form, name).data for name in VisitForm.DETAIL_FIELDS}
        try:
            visit = services.create_visit(values, form.lines(), expert=expert, new_expert=new_expert,
                                          by=current_actor())
        except services.VisitError as error:  # said beside the expert it is about
            show_error(error, form)
            return form_page("expert_visits/form.html", form, visit=None)
        flash(_("Visit planned. The expert has been e-mailed."), "success")
        return redirect(url_for("expert_visits.detail", visit_id=visit.id), code=303)
    return form_page("expert_visits/form.html", form, visit=None)


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@allow("staff")
def edit(visit_id: int) -> BaseResponse | tuple[str, int] | str:
    visit = _visit(visit_id)
    form = _visit_form(visit)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in VisitForm.DETAIL_FIELDS}
        try:
            services.update_visit(visit, values, form.lines(), by=current_actor(),
                                  version=int(form.version.data) if (form.version.data or "").isdigit() else None)
        except services.VisitError as error:
            show_error(error, form)
            return form_page("expert_visits/form.html", form, visit=visit)
        flash(_("Visit saved."), "success")
        return redirect(url_for("expert_visits.detail", visit_id=visit.id), code=303)
    return form_page("expert_visits/form.html", form, visit=visit)


def _agenda(visit: ExpertVisit) -> list[tuple[dt.date, list[VisitActivity]]]:
    return [(day, list(items)) for day, items in groupby(visit.activities, key=lambda a: a.day)]


def _detail_context(visit: ExpertVisit, **extra: Any) -> dict[str, Any]:
    return {"visit": visit, "agenda": _agenda(visit), "activity_form": extra.pop("activity_form", None)
            or ActivityForm(formdata=None, data={"day": visit.arrival_on}),
            "transition_form": TransitionForm(formdata=None, data={"version": visit.version}),
            "outcomes_form": extra.pop("outcomes_form", None) or OutcomesForm(obj=visit),
            "edit_form_for": lambda activity: ActivityForm(prefix=f"a{activity.id}", formdata=None, obj=activity),
            "events": audit.timeline(visit) if is_staff(current_user) else [], "editable":
            is_staff(current_user) and visit.status in ("planned", "confirmed"),
            # the expert on the visit is not offered the decisions on it, even as staff
            "decides": is_staff(current_user) and not is_beneficiary(visit, current_user), **extra}


@bp.get("/<int:visit_id>")
@allow(*ROLES)
def detail(visit_id: int) -> str:
    return render_template("expert_visits/detail.html", **_detail_context(_visit(visit_id)))


def _programme(visit: ExpertVisit, status: int = 200, **extra: Any) -> tuple[str, int] | BaseResponse:
    if htmx:
        return render_template("expert_visits/_programme.html", **_detail_context(visit, **extra)), status
    if status == 200:
        return redirect(url_for("expert_visits.detail", visit_id=visit.id) + "#programme", code=303)
    return render_template("expert_visits/detail.html", **_detail_context(visit, **extra)), status


@bp.post("/<int:visit_id>/activities", defaults={"activity_id": None})
@bp.post("/<int:visit_id>/activities/<int:activity_id>")
@allow("staff")
def save_activity(visit_id: int, activity_id: int | None) -> tuple[str, int] | BaseResponse:
    visit = _visit(visit_id)
    activity = _activity(visit, activity_id) if activity_id else None
    form = ActivityForm(prefix=f"a{activity_id}" if activity_id else "")
    if form.validate_on_submit():
        try:
            services.save_activity(visit, activity, {name: getattr(form, name).data for name in ActivityForm.FIELDS},
                                   by=current_actor())
        except services.VisitError as error:
            show_error(error, form)
        else:
            return _programme(visit, message=_("Programme saved."))
    return _programme(visit, INVALID, activity_form=form)


def _activity(visit: ExpertVisit, activity_id: int) -> VisitActivity:
    activity = db.session.get(VisitActivity, activity_id)
    if activity is None or activity.visit_id != visit.id:
        abort(404)
    return activity


@bp.post("/<int:visit_id>/activities/<int:activity_id>/delete")
@allow("staff")
def delete_activity(visit_id: int, activity_id: int) -> tuple[str, int] | BaseResponse:
    visit = _visit(visit_id)
    services.remove_activity(visit, _activity(visit, activity_id), by=current_actor())  # a refusal: 409
    return _programme(visit, message=_("Activity removed."))


@bp.post("/<int:visit_id>/activities/<int:activity_id>/<any(up, down):direction>")
@allow("staff")
def move_activity(visit_id: int, activity_id: int, direction: str) -> tuple[str, int] | BaseResponse:
    visit = _visit(visit_id)
    services.shift_activity(visit, _activity(visit, activity_id), -1 if direction == "up" else 1,
                            by=current_actor())
    return _programme(visit)


@bp.post("/<int:visit_id>/<any(confirm, complete, cancel):action>")
@allow("staff")
def transition(visit_id: int, action: str) -> BaseResponse:
    visit = _visit(visit_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    services.move(visit, action, by=current_actor(), version=version, note=form.note.data or None)
    flash(_("The visit is now %(state)s.", state=STATE_LABELS[visit.status]), "success")
    return redirect(url_for("expert_visits.detail", visit_id=visit.id), code=303)


@bp.post("/<int:visit_id>/outcomes")
@allow("staff")
def outcomes(visit_id: int) -> tuple[str, int] | BaseResponse:
    visit = _visit(visit_id)
    form = OutcomesForm()
    if form.validate_on_submit():
        services.record_outcomes(visit, {name: getattr(form, name).data for name in OutcomesForm.FIELDS},
                                 by=current_actor())
        flash(_("Outcomes saved."), "success")
        return redirect(url_for("expert_visits.detail", visit_id=visit.id), code=303)
    return render_template("expert_visits/detail.html", **_detail_context(visit, outcomes_form=form)), INVALID


@bp.get("/<int:visit_id>/programme.ics")
@allow(*ROLES)
def calendar(visit_id: int) -> Response:
    """The programme as an iCalendar file: one event per activity."""
    visit = _visit(visit_id)
    cal = Calendar()
    cal.add("prodid", "-//Programme Portal//Expert visit//EN")
    cal.add("version", "2.0")
    for activity in visit.activities:
        event = Event()
        event.add("uid", f"visit-{visit.id}-activity-{activity.id}@programme-portal")
        event.add("summary", f"{ACTIVITY_LABELS[activity.kind]}: {activity.title}")
        if activity.starts_at:
            event.add("dtstart", dt.datetime.combine(activity.day, activity.starts_at))
            end = activity.ends_at or (dt.datetime.combine(activity.day, activity.starts_at)
                                       + dt.timedelta(hours=1)).time()
            event.add("dtend", dt.datetime.combine(activity.day, end))
        else:
            event.add("dtstart", activity.day)
        event.add("location", ", ".join(filter(None, [activity.place, visit.host_clinic.name,
                                                      visit.host_clinic.city])))
        if activity.participants:
            event.add("description", activity.participants)
        event.add("dtstamp", dt.datetime.now(dt.UTC))
        cal.add_component(event)
    return Response(cal.to_ical(), mimetype="text/calendar", headers={
        "Content-Disposition": f"attachment; filename=visit-{visit.id}.ics"})
