"""How visit states, activities and actions read, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ...hookspecs import LabelKey, timeline_labels
from ...models import ExpertVisit

SUBJECT = ExpertVisit.__tablename__  # what the audit trail records a visit under

STATE_LABELS = {"planned": lazy_pgettext("expert visit state", "planned"),
                "confirmed": lazy_pgettext("expert visit state", "confirmed"),
                "completed": lazy_pgettext("expert visit state", "completed"),
                "cancelled": lazy_pgettext("expert visit state", "cancelled")}

ACTIVITY_LABELS = {"consultation": _l("Consultation"), "lecture": _l("Lecture"),
                   "master_class": _l("Master class"), "joint_surgery": _l("Joint surgical operation")}

# The invitation letter names activities in both languages, whatever the reader's language.
ACTIVITY_NAMES_EN = {"consultation": "Consultation", "lecture": "Lecture", "master_class": "Master class",
                     "joint_surgery": "Joint surgical operation"}
ACTIVITY_NAMES_RU = {"consultation": "Консультация", "lecture": "Лекция", "master_class": "Мастер-класс",
                     "joint_surgery": "Совместная хирургическая операция"}

ACTION_LABELS = {
    "visit_planned": lazy_pgettext("expert visit action", "Visit planned"),
    "visit_updated": lazy_pgettext("expert visit action", "Visit changed"),
    "visit_confirm": lazy_pgettext("expert visit action", "Visit confirmed"),
    "visit_complete": lazy_pgettext("expert visit action", "Visit completed"),
    "visit_cancel": lazy_pgettext("expert visit action", "Visit cancelled"),
    "activity_added": lazy_pgettext("expert visit action", "Activity added"),
    "activity_changed": lazy_pgettext("expert visit action", "Activity changed"),
    "activity_removed": lazy_pgettext("expert visit action", "Activity removed"),
    "activity_moved": lazy_pgettext("expert visit action", "Activity moved"),
    "visit_outcomes": lazy_pgettext("expert visit action", "Outcomes recorded"),
}


def audit_labels() -> dict[LabelKey, Any]:
    """The visit's states and actions, for ``portal_labels``."""
    return timeline_labels(SUBJECT, states=STATE_LABELS, actions=ACTION_LABELS)
