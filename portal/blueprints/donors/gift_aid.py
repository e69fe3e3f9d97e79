"""Which gifts Gift Aid is claimed on, and what it is worth: the rules the services, pages,
claims and letters share, in Python (one gift) and in SQL (a claim's thousands).

A gift qualifies when it is an individual's, in pounds sterling, not wholly refunded, covered
by a declaration that stands on its date, and the benefit the donor received for it is within
HMRC's limits: 25 % of the first £100 of the gift, then 5 % of the rest, and at most £2,500 of
benefits to the donor in a tax year (6 April to 5 April).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Donation, Donor, GiftAidDeclaration, TaxYear
from ...money import format_minor

GIFT_AID_CURRENCY = "GBP"
GIFT_AID_RATE = 25  # per cent of the gift: basic-rate tax on the gift grossed up (20 / 80)
BENEFIT_FULL_RATE_UP_TO = 10_000  # pence: 25 % of the first £100 of a gift …
BENEFIT_FULL_RATE, BENEFIT_REST_RATE = 25, 5  # … then 5 % of the rest
BENEFITS_A_YEAR = 250_000  # pence: £2,500 of benefits to one donor in a tax year
AGGREGATE_GIFT_LIMIT = 2_000  # pence: gifts of £20 or less may be added together …
AGGREGATE_LINE_LIMIT = 100_000  # … up to £1,000 a line of the schedule


def gift_aid_on(amount: int) -> int:
    """The Gift Aid on ``amount`` pence of gifts: 25 %, in whole pence (rounded down)."""
    return amount * GIFT_AID_RATE // 100


def benefit_limit(amount: int) -> int:
    """The most a donor may receive for a gift of ``amount`` pence, in pence (rounded down)."""
    if amount <= BENEFIT_FULL_RATE_UP_TO:
        return amount * BENEFIT_FULL_RATE // 100
    return (BENEFIT_FULL_RATE_UP_TO * BENEFIT_FULL_RATE + (amount - BENEFIT_FULL_RATE_UP_TO) * BENEFIT_REST_RATE) // 100


def _within_limit(benefit: Any, amount: Any) -> Any:
    """``benefit <= benefit_limit(amount)`` exactly (no rounding), for numbers or SQL columns."""
    full = BENEFIT_FULL_RATE_UP_TO * BENEFIT_FULL_RATE
    return (benefit * 100 <= amount * BENEFIT_FULL_RATE, benefit * 100 <= full + (amount - BENEFIT_FULL_RATE_UP_TO)
            * BENEFIT_REST_RATE)


def tax_year_of(day: dt.date) -> int:
    """The tax year ``day`` is in, by the year it starts: 5 April 2025 is in 2024, 6 April in 2025."""
    return day.year if (day.month, day.day) >= (4, 6) else day.year - 1


CLAIM_WITHIN_YEARS = 4  # HMRC: a claim is made within four years of the end of the gift's (tax) year


def claimable_from(today: dt.date) -> dt.date:
    """The earliest gift a claim made on ``today`` may hold: the first day of the tax year that
    ended less than four years ago (the charity's accounting year taken as the tax year)."""
    return dt.date(tax_year_of(today) - CLAIM_WITHIN_YEARS, 4, 6)


def benefits_in_year(donation: Donation) -> int:
    """The donor's benefits in the tax year of ``donation``, on their gifts up to and including it."""
    other = aliased(Donation)
    return int(db.session.scalar(select(func.coalesce(func.sum(other.benefit_value), 0)).where(
        other.donor_id == donation.donor_id, other.benefit_value > 0,
        TaxYear(other.received_on) == tax_year_of(donation.received_on),
        or_(other.received_on < donation.received_on,
            and_(other.received_on == donation.received_on, other.id <= donation.id)))) or 0)


def ineligibility(donation: Donation) -> str | None:
    """Why Gift Aid cannot be claimed on this gift, in words for staff; None when it can."""
    donor = donation.donor
    if donor.kind != "individual":
        return _("Gift Aid is claimed only on gifts from individuals.")
    if donation.currency != GIFT_AID_CURRENCY:
        return _("Gift Aid is claimed only on gifts in pounds sterling.")
    if donation.net_amount <= 0:
        return _("The whole gift was refunded.")
    if not any(declaration.covers(donation.received_on) for declaration in donor.declarations):
        return _("No Gift Aid declaration covers the day of this gift.")
    benefit = donation.benefit_value or 0
    if benefit:
        up_to_100, over_100 = _within_limit(benefit, donation.net_amount)
        if not (up_to_100 if donation.net_amount <= BENEFIT_FULL_RATE_UP_TO else over_100):
            return _("The donor received a benefit worth %(benefit)s: more than HMRC allows for a gift of "
                     "%(amount)s (%(limit)s).", benefit=format_minor(benefit, donation.currency),
                     amount=format_minor(donation.net_amount, donation.currency),
                     limit=format_minor(benefit_limit(donation.net_amount), donation.currency))
        year = benefits_in_year(donation)
        if year > BENEFITS_A_YEAR:
            return _("The donor's benefits in this tax year come to %(total)s: more than HMRC's limit of "
                     "%(limit)s a year.", total=format_minor(year, donation.currency),
                     limit=format_minor(BENEFITS_A_YEAR, GIFT_AID_CURRENCY))
    return None


def gift_aid_eligible(donation: Donation) -> bool:
    """Whether Gift Aid can be claimed on this gift (``ineligibility`` has no reason)."""
    return ineligibility(donation) is None


def _over_the_yearly_benefits() -> Any:
    """The ids of gifts whose donor's benefits in the tax year, counted up to and including the
    gift, pass ``BENEFITS_A_YEAR``: one uncorrelated query (a running sum over the gifts that
    brought a benefit), so a claim's thousands of rows do not each ask again."""
    running = func.sum(Donation.benefit_value).over(
        partition_by=(Donation.donor_id, TaxYear(Donation.received_on)),
        order_by=(Donation.received_on, Donation.id))
    gifts = select(Donation.id, running.label("so_far")).where(Donation.benefit_value > 0).subquery()
    return select(gifts.c.id).where(gifts.c.so_far > BENEFITS_A_YEAR)


def eligible_in_sql() -> ColumnElement[bool]:
    """``gift_aid_eligible`` as a condition on a query of donations joined to their donors."""
    net = Donation.amount - Donation.refunded_amount
    up_to_100, over_100 = _within_limit(Donation.benefit_value, net)
    covered = (select(GiftAidDeclaration.id)
               .where(GiftAidDeclaration.donor_id == Donation.donor_id,
                      GiftAidDeclaration.covers_in_sql(Donation.received_on)).exists())
    return and_(Donor.kind == "individual", Donation.currency == GIFT_AID_CURRENCY, net > 0, covered,
                or_(Donation.benefit_value == 0,
                    and_(or_(and_(net <= BENEFIT_FULL_RATE_UP_TO, up_to_100),
                             and_(net > BENEFIT_FULL_RATE_UP_TO, over_100)),
                         Donation.id.not_in(_over_the_yearly_benefits()))))
