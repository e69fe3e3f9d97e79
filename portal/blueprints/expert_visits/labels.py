"""How visit states, activities and actions read, in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ... import audit

STATE_LABELS = {"planned": _l("planned"), "confirmed": _l("confirmed"), "completed": _l("completed"),
                "cancelled": _l("cancelled")}

ACTIVITY_LABELS = {"consultation": _l("Consultation"), "lecture": _l("Lecture"),
                   "master_class": _l("Master class"), "joint_surgery": _l("Joint surgical operation")}

# The invitation letter names activities in both languages, whatever the reader's language.
ACTIVITY_NAMES_EN = {"consultation": "Consultation", "lecture": "Lecture", "master_class": "Master class",
                     "joint_surgery": "Joint surgical operation"}
ACTIVITY_NAMES_RU = {"consultation": "Консультация", "lecture": "Лекция", "master_class": "Мастер-класс",
                     "joint_surgery": "Совместная хирургическая операция"}

for action, label in {
    "visit_planned": _l("Visit planned"),
    "visit_updated": _l("Visit changed"),
    "visit_confirm": _l("Visit confirmed"),
    "visit_complete": _l("Visit completed"),
    "visit_cancel": _l("Visit cancelled"),
    "activity_added": _l("Activity added"),
    "activity_changed": _l("Activity changed"),
    "activity_removed": _l("Activity removed"),
    "activity_moved": _l("Activity moved"),
    "visit_outcomes": _l("Outcomes recorded"),
}.items():
    audit.describe(action, label, STATE_LABELS)
