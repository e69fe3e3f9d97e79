"""What the expert-visits module puts in the staff inbox: planned visits to confirm (in one
click), visits that have ended whose outcomes nobody has recorded, and invitations blocked by
details missing from the expert's profile."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import joinedload

from ... import clock
from ...extensions import db
from ...hookspecs import InboxItem, InboxKind
from ...letters import missing_for_staff, profile_incomplete, valid_letter_exists
from ...models import ExpertVisit, User
from . import services
from .letters import PROFILE_NEEDED

TO_CONFIRM, OUTCOMES = "expert_visits.to_confirm", "expert_visits.outcomes"
LETTERS_BLOCKED = "expert_visits.letters_blocked"


def _outcomes_due() -> ColumnElement[bool]:
    return and_(ExpertVisit.status.in_(("confirmed", "completed")), ExpertVisit.departure_on < clock.today(),
                ExpertVisit.patients_consulted.is_(None), ExpertVisit.doctors_trained.is_(None),
                ExpertVisit.operations_performed.is_(None), ExpertVisit.outcome_notes.is_(None))


def _letter_blocked() -> ColumnElement[bool]:
    """A funded visit still to come whose invitation cannot be issued: the expert's profile lacks
    what it certifies."""
    expert_incomplete = exists(select(User.id).where(User.id == ExpertVisit.beneficiary_id,
                                                     profile_incomplete(PROFILE_NEEDED)))
    return and_(ExpertVisit.is_funded(), ExpertVisit.arrival_on >= clock.today(), expert_incomplete,
                ~valid_letter_exists("invitation", ExpertVisit.id))


def _missing(visit: ExpertVisit) -> str:
    return _("Missing from the profile: %(fields)s", fields=", ".join(missing_for_staff(visit.expert, PROFILE_NEEDED)))


def _kind(key: str, label: Any, where: ColumnElement[bool], since: Any, limit: int, *, detail: Any = None,
          **extra: Any) -> InboxKind:
    visits = db.session.scalars(select(ExpertVisit).where(where)
                                .options(joinedload(ExpertVisit.beneficiary), joinedload(ExpertVisit.host_clinic))
                                .order_by(since, ExpertVisit.id).limit(limit)).all()
    count = db.session.scalar(select(func.count()).select_from(ExpertVisit).where(where)) or 0
    return InboxKind(key, "expert_visits", _l("Expert visits"), label, count,
                     [InboxItem(v.id, v.display_name, getattr(v, since.key),
                                url_for("expert_visits.detail", visit_id=v.id), version=v.version,
                                detail=detail(v) if detail else "") for v in visits],
                     url_for("expert_visits.index"), **extra)


def inbox_kinds(limit: int) -> list[InboxKind]:
    return [
        _kind(TO_CONFIRM, _l("Expert visits to confirm"), ExpertVisit.status == "planned", ExpertVisit.created_at,
              limit, action=_l("Confirm"), order=40),
        _kind(OUTCOMES, _l("Visit outcomes to record"), _outcomes_due(), ExpertVisit.departure_on, limit, order=41),
        _kind(LETTERS_BLOCKED, _l("Invitations blocked by missing details"), _letter_blocked(),
              ExpertVisit.created_at, limit, detail=_missing, order=42),
    ]


def act(user: Any, item_id: int, version: int | None) -> str:
    visit = db.get_or_404(ExpertVisit, item_id)
    services.move(visit, "confirm", by=user, version=version)
    return _("Visit confirmed: %(visit)s.", visit=visit.display_name)
