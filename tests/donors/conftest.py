"""Donors: a donor factory and gifts recorded the way staff record them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from portal.extensions import db
from portal.models import Donation, Donor, GiftAidDeclaration

_counter = itertools.count(1)


@pytest.fixture
def make_donor(app):
    """``make_donor(declared_on=date, **fields)``: an individual in London by default."""

    def _create(declared_on: dt.date | None = None, **overrides) -> Donor:
        n = next(_counter)
        values = {"kind": "individual", "title": "Mr", "first_name": "John", "last_name": f"Donor{n}",
                  "email": f"donor{n}@example.org", "house": f"{n}", "address": "High Street\nLondon",
                  "postcode": "SW1A 1AA", "country": "GB", "language": "en", "contact_preference": "email"}
        values.update(overrides)
        donor = Donor(**values)
        donor.refresh_search_name()
        if declared_on:
            donor.declarations.append(GiftAidDeclaration(made_on=declared_on))
        db.session.add(donor)
        db.session.commit()
        return donor

    return _create


@pytest.fixture
def make_donation(app):
    """``make_donation(donor, amount_minor, received_on, **fields)``, pending."""

    def _create(donor: Donor, amount: int = 5000, received_on: dt.date | None = None, **overrides) -> Donation:
        values = {"currency": "GBP", "method": "bank_transfer", "restricted": True,
                  "received_on": received_on or dt.date.today() - dt.timedelta(days=1)}
        values.update(overrides)
        donation = Donation(donor=donor, amount=amount, **values)
        db.session.add(donation)
        db.session.commit()
        return donation

    return _create
