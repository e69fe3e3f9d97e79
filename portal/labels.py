"""Names of roles and states as people read them, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "doctor": _l("Doctor"),
    "expert": _l("Expert"),
    "staff": _l("Staff"),
    "finance": _l("Finance"),
    "admin": _l("Administrator"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def budget_category_label(category: str) -> str:
    return str(BUDGET_CATEGORY_LABELS.get(category, category))


BUDGET_CATEGORY_LABELS = {
    "registration": _l("Registration"),
    "travel": _l("Travel"),
    "accommodation": _l("Accommodation"),
    "visa": _l("Visa"),
    "other": _l("Other"),
}
