"""The bilingual invitation letter: what it certifies about a confirmed visit."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...hookspecs import LetterKind
from ...letters import missing_from_profile
from ...models import ExpertVisit
from ...permissions import is_staff
from .labels import ACTIVITY_NAMES_EN, ACTIVITY_NAMES_RU
from .permissions import can_see_visit

# What the invitation says the charity covers; "other" costs are not the consulate's business.
COVERED = ("travel", "visa", "accommodation")
# What the expert's profile must hold for the invitation (the inbox lists the letters this blocks).
PROFILE_NEEDED = ("passport_full_name", "nationality", "passport_number", "passport_expiry")


def _missing(visit: ExpertVisit) -> list[Any]:
    """What the letter needs first; its Russian half is wholly Russian, so each text has its Russian."""
    needed: list[Any] = []
    if not visit.is_funded():
        needed.append(_l("the visit must be confirmed"))
    clinic = visit.host_clinic
    if not visit.purpose_ru:
        needed.append(_l("the purpose of the visit in Russian"))
    if not clinic.name_ru or (clinic.address and not clinic.address_ru):
        needed.append(_l("the host clinic's name and address in Russian (under Clinics)"))
    if any(not activity.title_ru for activity in visit.activities):
        needed.append(_l("a Russian title for every activity in the programme"))
    return needed + missing_from_profile(visit.expert, PROFILE_NEEDED)


def _dates(visit: ExpertVisit, locale: str) -> tuple[str, str]:
    with force_locale(locale):
        return format_date(visit.arrival_on, "long"), format_date(visit.departure_on, "long")


def _facts(visit: ExpertVisit) -> dict[str, Any]:
    expert, clinic = visit.expert, visit.host_clinic
    arrival_en, departure_en = _dates(visit, "en_GB")
    arrival_ru, departure_ru = _dates(visit, "ru")
    return {
        "holder": expert.passport_full_name,
        "nationality": expert.nationality,
        "passport_number": expert.passport_number,
        "specialty": expert.specialty,
        "purpose": visit.purpose,
        "purpose_ru": visit.purpose_ru,
        "clinic": clinic.name,
        "clinic_ru": clinic.name_ru,
        "clinic_address": clinic.address,
        "clinic_address_ru": clinic.address_ru,
        "clinic_city": clinic.city,
        "event": f"{clinic.name}, {clinic.city}",
        "dates": f"{arrival_en} – {departure_en}",
        "arrival": arrival_en, "departure": departure_en, "arrival_ru": arrival_ru, "departure_ru": departure_ru,
        "activities": [{"day": a.day.isoformat(), "day_en": _dates_one(a.day, "en_GB"),
                        "day_ru": _dates_one(a.day, "ru"), "kind_en": ACTIVITY_NAMES_EN[a.kind],
                        "kind_ru": ACTIVITY_NAMES_RU[a.kind], "title": a.title, "title_ru": a.title_ru}
                       for a in visit.activities],
        "covered": [line.category for line in visit.budget_lines
                    if line.category in COVERED and line.approved_amount],
    }


def _dates_one(day: Any, locale: str) -> str:
    with force_locale(locale):
        return format_date(day, "d MMMM")


def invitation_letter() -> LetterKind:
    return LetterKind(
        key="invitation",
        title=_l("Invitation letter"),
        template="expert_visits/letters/invitation.html",
        subject_type="funded_item",
        load=lambda subject_id: db.session.get(ExpertVisit, subject_id),
        facts=_facts,
        missing=_missing,
        can_download=can_see_visit,
        can_revoke=lambda user, visit: is_staff(user),
        language="en",
        funded_item_id=lambda visit: visit.id,
        holder=lambda visit: visit.expert,
        personal_facts=("passport_number", "passport_expiry"),
    )
