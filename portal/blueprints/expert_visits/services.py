"""The rules of expert visits: planned → confirmed → completed | cancelled (planned may be
cancelled too). Each change is one transaction with its audit entry and its e-mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ... import audit
from ...accounts import invite
from ...duties import ensure_not_beneficiary
from ...errors import UserError
from ...extensions import db
from ...mail import queue_mail
from ...models import BudgetLine, Clinic, ExpertVisit, User, VisitActivity
from ...transactions import transaction
from ...urls import external_url

TRANSITIONS = {
    "confirm": ({"planned"}, "confirmed"),
    "complete": ({"confirmed"}, "completed"),
    "cancel": ({"planned", "confirmed"}, "cancelled"),
}
VISIT_CATEGORIES = ("travel", "visa", "accommodation", "other")


class VisitError(UserError):
    """A change to a visit the rules refuse, in words for the person."""


# A lost race (the visit's version moved under us) is said like a version seen out of date.
CHANGED_MEANWHILE = _l("Someone else changed this visit at the same moment. Reload to see it.")


def _overtaken(*args: Any, **kwargs: Any) -> VisitError:
    return VisitError(CHANGED_MEANWHILE)


def _link(visit: ExpertVisit) -> str:
    return external_url("expert_visits.detail", visit_id=visit.id)


def _set_budget(visit: ExpertVisit, lines: dict[str, tuple[int, str]]) -> None:
    """Staff set the visit's budget: what they budget is approved."""
    for category in VISIT_CATEGORIES:
        line = visit.budget_line(category)
        if category in lines and lines[category][0] > 0:
            amount, currency = lines[category]
            if line is None:
                line = BudgetLine(category=category)
                visit.budget_lines.append(line)
            line.requested_amount, line.requested_currency = amount, currency
            line.approved_amount, line.approved_currency = amount, currency
        elif line is not None:
            visit.budget_lines.remove(line)


@transaction(conflict=_overtaken)
def create_visit(values: dict[str, Any], lines: dict[str, tuple[int, str]], *, expert: User | None,
                 new_expert: tuple[str, str] | None, by: User) -> ExpertVisit:
    """Plan a visit for an existing expert, or invite a new one by name and e-mail. Planning
    never grants a role: an account that is not an expert's is refused until an administrator
    makes it one, and nobody plans a visit for themselves."""
    field = "expert_id" if expert is not None else "new_expert_email"  # a refusal is said beside it
    if expert is None:
        if new_expert is None:
            raise VisitError(_l("Choose the expert, or give a new expert's name and e-mail."), field)
        existing = User.by_email(new_expert[1])
        if existing is not None:
            _check_expert(existing, by=by, field=field)  # before an invitation is sent again
        expert = invite(new_expert[0], new_expert[1], "expert", by=by)
    _check_expert(expert, by=by, field=field)
    visit = ExpertVisit(status="planned", beneficiary=expert, **values)
    _set_budget(visit, lines)
    db.session.add(visit)
    db.session.flush()
    audit.record("visit_planned", visit, actor=by, to_state="planned")
    queue_mail(expert, "visit_status", visit=visit, state="planned", note=None, link=_link(visit))
    return visit


def _check_expert(expert: User, *, by: User, field: str) -> None:
    if expert.id == by.id:
        raise VisitError(_l("You cannot plan a visit for yourself: another member of staff must plan it."), field)
    if "expert" not in expert.roles:
        raise VisitError(_l("%(email)s already has an account, without the expert role. An administrator must "
                            "give that account the expert role first, on its page under Users.", email=expert.email),
                         field)


def _ensure_not_the_expert(visit: ExpertVisit, by: User) -> None:
    """The visit's expert neither decides on it nor records what it achieved."""
    ensure_not_beneficiary(visit, by, VisitError,
                           _l("You are the expert on this visit, so another member of staff must do this."))


@transaction(conflict=_overtaken)
def update_visit(visit: ExpertVisit, values: dict[str, Any], lines: dict[str, tuple[int, str]], *,
                 by: User, version: int | None) -> None:
    """Change a visit's details and budget while it is planned or confirmed."""
    _ensure_not_the_expert(visit, by)
    if version is not None and version != visit.version:
        raise VisitError(CHANGED_MEANWHILE)
    if visit.status in ("completed", "cancelled"):
        raise VisitError(_l("This visit is “%(state)s”, so it can no longer be changed.",
                            state=audit.state_label(visit, visit.status)))
    changed = sorted(key for key, value in values.items() if getattr(visit, key) != value)
    for key in changed:
        setattr(visit, key, values[key])
    _set_budget(visit, lines)
    outside = [a for a in visit.activities if not visit.arrival_on <= a.day <= visit.departure_on]
    if outside:
        raise VisitError(_l("Some activities fall outside the new dates; move them first."), "arrival_on")
    audit.record("visit_updated", visit, actor=by, details={"fields": changed})
    if {"arrival_on", "departure_on"} & set(changed):
        queue_mail(visit.expert, "visit_status", visit=visit, state="dates_changed", note=None, link=_link(visit))


@transaction(conflict=_overtaken)
def move(visit: ExpertVisit, action: str, *, by: User, version: int | None, note: str | None = None) -> None:
    """Confirm, complete or cancel the visit; the expert is e-mailed."""
    _ensure_not_the_expert(visit, by)
    allowed_from, to_state = TRANSITIONS[action]
    if version is not None and version != visit.version:
        raise VisitError(CHANGED_MEANWHILE)
    if visit.status not in allowed_from:
        raise VisitError(_l("This visit is “%(state)s”, so that is no longer possible.",
                            state=audit.state_label(visit, visit.status)))
    from_state, visit.status = visit.status, to_state
    audit.record(f"visit_{action}", visit, actor=by, from_state=from_state, to_state=to_state, note=note)
    queue_mail(visit.expert, "visit_status", visit=visit, state=to_state, note=note, link=_link(visit))


def _editable(visit: ExpertVisit) -> None:
    if visit.status in ("completed", "cancelled"):
        raise VisitError(_l("This visit is “%(state)s”, so its programme can no longer be changed.",
                            state=audit.state_label(visit, visit.status)))


def _check_day(visit: ExpertVisit, day: dt.date) -> None:
    if not visit.arrival_on <= day <= visit.departure_on:
        raise VisitError(_l("The day must fall within the visit (%(start)s – %(end)s).",
                            start=visit.arrival_on.isoformat(), end=visit.departure_on.isoformat()), "day")


@transaction(conflict=_overtaken)
def save_activity(visit: ExpertVisit, activity: VisitActivity | None, values: dict[str, Any], *,
                  by: User) -> VisitActivity:
    """Add an activity to the visit's programme, or change one."""
    _editable(visit)
    _check_day(visit, values["day"])
    created = activity is None
    if activity is None:
        same_day = [a.position for a in visit.activities if a.day == values["day"]]
        activity = VisitActivity(position=max(same_day, default=-1) + 1)
        visit.activities.append(activity)
    for key, value in values.items():
        setattr(activity, key, value)
    db.session.flush()
    audit.record("activity_added" if created else "activity_changed", visit, actor=by,
                 details={"activity": activity.id, "title": activity.title})
    return activity


@transaction(conflict=_overtaken)
def remove_activity(visit: ExpertVisit, activity: VisitActivity, *, by: User) -> None:
    """Take an activity off the programme."""
    _editable(visit)
    visit.activities.remove(activity)
    audit.record("activity_removed", visit, actor=by, details={"title": activity.title})


@transaction(conflict=_overtaken)
def shift_activity(visit: ExpertVisit, activity: VisitActivity, step: int, *, by: User) -> None:
    """Move an activity one place up (-1) or down (+1) within its day."""
    _editable(visit)
    same_day = sorted((a for a in visit.activities if a.day == activity.day), key=lambda a: (a.position, a.id))
    index = same_day.index(activity)
    other = index + step
    if 0 <= other < len(same_day):
        same_day[index], same_day[other] = same_day[other], same_day[index]
        for position, item in enumerate(same_day):
            item.position = position
        audit.record("activity_moved", visit, actor=by, details={"title": activity.title, "step": step})


@transaction(conflict=_overtaken)
def record_outcomes(visit: ExpertVisit, values: dict[str, Any], *, by: User) -> None:
    """What the visit achieved (patients seen, doctors trained …)."""
    _ensure_not_the_expert(visit, by)
    if not visit.is_funded():
        raise VisitError(_l("Outcomes are recorded once the visit is confirmed."))
    for key, value in values.items():
        setattr(visit, key, value)
    audit.record("visit_outcomes", visit, actor=by, details={k: v for k, v in values.items() if k != "outcome_notes"})


def clinic_choices() -> list[Clinic]:
    """The clinics a visit can be hosted by, by name."""
    return list(db.session.scalars(db.select(Clinic).order_by(Clinic.name)))


VISIT_COLUMNS = ["visit", "status", "expert", "clinic", "city", "arrival", "departure", "patients_consulted",
                 "doctors_trained", "operations_performed"]


def visit_rows() -> Iterator[list[Any]]:
    """Every expert visit, latest first, as export rows (streamed), then the outcomes' totals."""
    query = (select(ExpertVisit.id, ExpertVisit.status, User.name, Clinic.name, Clinic.city, ExpertVisit.arrival_on,
                    ExpertVisit.departure_on, ExpertVisit.patients_consulted, ExpertVisit.doctors_trained,
                    ExpertVisit.operations_performed)
             .select_from(ExpertVisit).join(Clinic, Clinic.id == ExpertVisit.host_clinic_id)
             .outerjoin(User, User.id == ExpertVisit.beneficiary_id)
             .order_by(ExpertVisit.arrival_on.desc(), ExpertVisit.id.desc()))
    totals = [0, 0, 0]
    rows = db.session.connection().execution_options(stream_results=True).execute(query)
    for batch in rows.partitions(1000):
        for visit_id, status, expert, clinic, city, arrival, departure, *outcomes in batch:
            totals = [total + (value or 0) for total, value in zip(totals, outcomes, strict=True)]
            yield [visit_id, status, expert or "", clinic, city, arrival.isoformat(), departure.isoformat(),
                   *("" if value is None else value for value in outcomes)]
    yield ["total", "", "", "", "", "", "", *totals]
