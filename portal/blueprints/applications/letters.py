"""The visa-support letter: what it certifies about an approved application."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...hookspecs import LetterKind
from ...labels import budget_category_label
from ...letters import missing_from_profile
from ...models import Application
from ...permissions import is_staff
from .labels import PARTICIPATION_LABELS
from .permissions import can_see_application

# What a consulate is told the programme pays for; "other" costs are not its business.
CERTIFIED_CATEGORIES = ("registration", "travel", "accommodation", "visa")
# What the doctor's profile must hold for the letter (the inbox lists the letters this blocks).
PROFILE_NEEDED = ("passport_full_name", "nationality", "passport_number", "passport_expiry", "position", "clinic")


def _missing(application: Application) -> list[Any]:
    needed: list[Any] = []
    if not application.is_funded():
        needed.append(_l("the application must be approved"))
    if not application.visa_needed:
        needed.append(_l("the application must say that a visa is needed, and at which consulate"))
    return needed + missing_from_profile(application.doctor, PROFILE_NEEDED)


def _facts(application: Application) -> dict[str, Any]:
    doctor, conference = application.doctor, application.conference
    with force_locale("en_GB"):  # the letter is in English, whoever asks for it
        start, end = format_date(conference.start_date, "long"), format_date(conference.end_date, "long")
        covered = [{"category": line.category, "label": budget_category_label(line.category),
                    "amount": line.approved_amount, "currency": line.approved_currency}
                   for line in application.budget_lines
                   if line.category in CERTIFIED_CATEGORIES and line.approved_amount]
        participation = str(PARTICIPATION_LABELS[application.participation])
    return {
        "holder": doctor.passport_full_name,
        "passport_number": doctor.passport_number,
        "nationality": doctor.nationality,
        "passport_expiry": doctor.passport_expiry.isoformat() if doctor.passport_expiry else None,
        "position": doctor.position,
        "specialty": doctor.specialty,
        "clinic": doctor.clinic.name if doctor.clinic else None,
        "clinic_city": doctor.clinic.city if doctor.clinic else None,
        "clinic_country": doctor.clinic.country if doctor.clinic else None,
        "event": conference.name,
        "organiser": conference.organiser,
        "event_city": conference.city,
        "event_country": conference.country,
        "start": start,
        "end": end,
        "dates": f"{start} – {end}",
        "participation": participation,
        "consulate_country": application.visa_country,
        "consulate_city": application.visa_city,
        "covered": covered,
    }


def visa_support_letter() -> LetterKind:
    return LetterKind(
        key="visa_support",
        title=_l("Visa-support letter"),
        template="applications/letters/visa_support.html",
        subject_type="funded_item",
        load=lambda subject_id: db.session.get(Application, subject_id),
        facts=_facts,
        missing=_missing,
        can_download=can_see_application,
        can_revoke=lambda user, application: is_staff(user),
        language="en",
        funded_item_id=lambda application: application.id,
        holder=lambda application: application.doctor,
        personal_facts=("passport_number", "passport_expiry"),
    )
