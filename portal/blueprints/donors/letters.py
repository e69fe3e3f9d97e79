"""The donor's letters: a thank-you for their gifts and a statement of what they paid for.
Both are written in the donor's own language. The services issue them through these kinds
directly; the letter registry serves the generic routes (download, revoke, verify)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from babel import Locale
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import FORMAT_LOCALES, db
from ...hookspecs import LetterKind
from ...models import Acknowledgement, Application, Donation, DonationAllocation, Donor, ExpertVisit
from ...money import format_minor
from ...permissions import is_staff
from .gift_aid import GIFT_AID_CURRENCY, gift_aid_eligible, gift_aid_on

THANKS_KIND = "donation_thanks"
IMPACT_KIND = "donor_impact"


def _staff(user: Any, subject: Any) -> bool:
    return is_staff(user)


def _donor_letter(key: str, title: Any, template: str, model: Any, subject_type: str, facts: Any, missing: Any,
                  language_of: Any, public_fields: tuple[tuple[str, Any], ...]) -> LetterKind:
    """Staff issue and revoke donor letters; the donor reads them in their own language."""
    return LetterKind(key=key, title=title, template=template, subject_type=subject_type,
                      load=lambda subject_id: db.session.get(model, subject_id), facts=facts, missing=missing,
                      can_download=_staff, can_revoke=_staff, language_of=language_of, public_fields=public_fields)


def thanks_letter() -> LetterKind:
    return _donor_letter(THANKS_KIND, _l("Thank-you letter"), "donors/letters/thanks.html", Acknowledgement,
                         "acknowledgement", thanks_facts, lambda acknowledgement: [],
                         lambda acknowledgement: acknowledgement.donor.language,
                         (("holder", _l("Written to")), ("event", _l("Thanks for gifts of")),
                          ("dates", _l("Gifts received on"))))


def _impact_missing(donor: Donor) -> list[Any]:
    allocated = db.session.scalar(select(DonationAllocation.id).join(Donation)
                                  .where(Donation.donor_id == donor.id).limit(1))
    if allocated is None:
        return [_l("none of this donor's gifts is allocated to a funded application or visit yet")]
    return []


def impact_letter() -> LetterKind:
    return _donor_letter(IMPACT_KIND, _l("Impact statement"), "donors/letters/impact.html", Donor, "donor",
                         impact_facts, _impact_missing, lambda donor: donor.language,
                         (("holder", _l("Written for")), ("event", _l("What it reports"))))


# What the letters say -------------------------------------------------------------------

def country_name(code: str, language: str | None = None) -> str:
    """The country's name in ``language`` (default: the reader's)."""
    locale = Locale.parse(FORMAT_LOCALES.get(language, language)) if language else get_locale()
    return (locale.territories if locale else {}).get(code, code)


def postal_address(donor: Donor) -> list[str]:
    """The envelope's lines: the country last, in capitals, for a letter posted abroad."""
    lines = donor.address_lines()
    if donor.country != "GB":
        lines.append(country_name(donor.country, donor.language).upper())
    return lines


def thanks_facts(acknowledgement: Acknowledgement) -> dict[str, Any]:
    """What a thank-you letter says, formatted in the donor's language."""
    donor = acknowledgement.donor
    with force_locale(FORMAT_LOCALES.get(donor.language, donor.language)):
        claimed = {d.id: gift_aid_on(d.net_amount) for d in acknowledgement.donations if gift_aid_eligible(d)}
        gifts = [{"amount": format_minor(d.amount, d.currency), "date": format_date(d.received_on, "long"),
                  "gift_aid": d.id in claimed, "restricted": d.restricted, "campaign": d.campaign or ""}
                 for d in acknowledgement.donations]
        gift_aid_amount = format_minor(sum(claimed.values()), GIFT_AID_CURRENCY)
    return {
        "holder": donor.full_name, "kind": donor.kind, "title": donor.title or "",
        "first_name": donor.first_name or "", "last_name": donor.last_name or "",
        "address": postal_address(donor) if acknowledgement.channel == "post" else [],
        "event": ", ".join(gift["amount"] for gift in gifts),
        "dates": ", ".join(gift["date"] for gift in gifts),
        "gifts": gifts, "gift_aid": sum(claimed.values()) > 0, "gift_aid_amount": gift_aid_amount,
        "gift_aid_partly": bool(claimed) and len(claimed) < len(gifts),
        "impact": acknowledgement.impact,
    }


def impact_facts(donor: Donor) -> dict[str, Any]:
    """What the donor's gifts paid for, without personal data beyond initials and specialty."""
    allocations = db.session.scalars(
        select(DonationAllocation).join(Donation).where(Donation.donor_id == donor.id)
        .order_by(DonationAllocation.funded_item_id, DonationAllocation.id)).all()
    items: list[dict[str, Any]] = []
    with force_locale(FORMAT_LOCALES.get(donor.language, donor.language)):
        for item_id, group in groupby(allocations, key=lambda a: a.funded_item_id):
            shares = list(group)
            item = shares[0].funded_item
            entry: dict[str, Any] = {
                "kind": item.kind,
                "amounts": [format_minor(a.amount, a.donation.currency) for a in shares],
                "specialty": (item.beneficiary.specialty if item.beneficiary else None) or "",
            }
            if isinstance(item, Application):
                entry.update(initials=initials(item.beneficiary.name if item.beneficiary else ""),
                             conference=item.conference.name, city=item.conference.city,
                             dates=format_date(item.conference.start_date, "LLLL yyyy"))
            elif isinstance(item, ExpertVisit):
                entry.update(clinic=item.host_clinic.name_ru if donor.language == "ru" and item.host_clinic.name_ru
                             else item.host_clinic.name, city=item.host_clinic.city,
                             dates=format_date(item.arrival_on, "LLLL yyyy"),
                             activities=[a.kind for a in item.activities],
                             patients=item.patients_consulted, trained=item.doctors_trained,
                             operations=item.operations_performed)
            entry["id"] = item_id
            items.append(entry)
        event = _("Impact statement: %(count)d funded items", count=len(items))
    return {"holder": donor.full_name, "event": event, "dates": "", "items": items,
            "kind": donor.kind, "first_name": donor.first_name or "", "last_name": donor.last_name or "",
            "title": donor.title or ""}


TITLE_WORDS = {"dr", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "sir", "dame", "доктор", "д-р", "проф",
               "профессор"}


def initials(name: str) -> str:
    """"Dr Daria Ivanova" → "D. I.": a title is a title, never an initial."""
    words = [part for part in name.split() if part.rstrip(".").lower() not in TITLE_WORDS]
    return " ".join(f"{part[0]}." for part in words if part[:1].isalpha())
