"""Gift Aid declarations: which gifts they cover, and how staff record and cancel them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.blueprints.donors import services
from portal.blueprints.donors.gift_aid import eligible_in_sql
from portal.extensions import db
from portal.models import AuditEvent, Donation, Donor, GiftAidDeclaration

MADE_ON = dt.date(2024, 6, 10)
WINDOW_START = dt.date(2020, 6, 10)  # four years before


def declare(donor, made_on=MADE_ON, **fields):
    declaration = GiftAidDeclaration(donor=donor, made_on=made_on, **fields)
    db.session.add(declaration)
    db.session.commit()
    return declaration


def eligible(make_donation, donor, day, **fields):
    """Whether a gift on ``day`` is eligible, as the letters ask it (Python) and as the claim
    page and its export ask it (SQL): the two must agree."""
    gift = make_donation(donor, 2500, day, **fields)
    in_python = services.gift_aid_eligible(gift)
    in_sql = gift.id in set(db.session.scalars(select(Donation.id).join(Donor).where(eligible_in_sql())))
    assert in_python == in_sql, (day, in_python, in_sql)
    return in_python


# --- Which gifts a declaration covers ------------------------------------------------------

def covered(make_donation, donor, expected):
    """{day: eligible?} for a gift on each day of ``expected``, to compare with it."""
    return {day: eligible(make_donation, donor, day) for day in expected}


def test_a_full_declaration_covers_four_years_back_and_the_future(make_donor, make_donation):
    donor = make_donor(declared_on=MADE_ON)
    expected = {
        WINDOW_START - dt.timedelta(days=1): False,  # more than four years before
        WINDOW_START: True,  # exactly four years before: the first day covered
        dt.date(2022, 1, 1): True,
        MADE_ON: True,
        dt.date(2025, 9, 1): True,  # and every gift after
    }
    assert covered(make_donation, donor, expected) == expected


def test_a_cancelled_declaration_still_covers_gifts_received_before_the_cancellation(make_donor, make_donation):
    donor = make_donor()
    declare(donor, made_on=dt.date(2024, 1, 1), cancelled_on=dt.date(2025, 3, 1), cancelled_reason="No longer pays tax")
    expected = {
        dt.date(2024, 3, 1): True,
        dt.date(2025, 2, 28): True,  # the day before the cancellation takes effect
        dt.date(2025, 3, 1): False,  # from the cancellation date on, nothing
        dt.date(2025, 6, 1): False,
    }
    assert covered(make_donation, donor, expected) == expected


def test_a_declaration_for_future_gifts_only_does_not_reach_back(make_donor, make_donation):
    donor = make_donor()
    declare(donor, covers_past=False, covers_future=True)
    expected = {MADE_ON - dt.timedelta(days=1): False, dt.date(2022, 1, 1): False, MADE_ON: True,
                dt.date(2025, 1, 1): True}
    assert covered(make_donation, donor, expected) == expected


def test_a_declaration_for_past_gifts_only_does_not_cover_later_ones(make_donor, make_donation):
    donor = make_donor()
    declare(donor, covers_past=True, covers_future=False)
    expected = {WINDOW_START - dt.timedelta(days=1): False, WINDOW_START: True, MADE_ON - dt.timedelta(days=1): True,
                MADE_ON + dt.timedelta(days=1): False, dt.date(2025, 1, 1): False}
    assert covered(make_donation, donor, expected) == expected


def test_an_organisation_is_never_eligible_even_with_a_declaration_on_file(make_donor, make_donation):
    company = make_donor(kind="organisation", title=None, first_name=None, last_name=None,
                         organisation_name="Acme Widgets Ltd")
    declare(company, made_on=dt.date(2024, 1, 1))  # recorded before the rules were tightened, say
    assert eligible(make_donation, company, dt.date(2024, 5, 1)) is False


def test_only_sterling_gifts_are_eligible(make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    assert eligible(make_donation, donor, dt.date(2024, 5, 1), currency="GBP") is True
    assert eligible(make_donation, donor, dt.date(2024, 5, 1), currency="EUR") is False
    assert eligible(make_donation, donor, dt.date(2024, 5, 1), currency="USD") is False


def test_no_declaration_no_gift_aid(make_donor, make_donation):
    donor = make_donor()
    assert eligible(make_donation, donor, dt.date(2024, 5, 1)) is False


def test_a_later_declaration_covers_gifts_after_an_earlier_one_was_cancelled(make_donor, make_donation):
    donor = make_donor()
    declare(donor, made_on=dt.date(2022, 1, 1), cancelled_on=dt.date(2023, 1, 1))
    declare(donor, made_on=dt.date(2024, 1, 1), covers_past=False)
    assert eligible(make_donation, donor, dt.date(2022, 6, 1)) is True  # the first one, before it was cancelled
    assert eligible(make_donation, donor, dt.date(2023, 6, 1)) is False  # between the two
    assert eligible(make_donation, donor, dt.date(2024, 6, 1)) is True  # the second one


def test_a_declaration_made_on_29_february(make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 2, 29))
    expected = {
        dt.date(2020, 2, 28): False,
        dt.date(2020, 2, 29): True,  # four years before 29 February 2024 is 29 February 2020
        dt.date(2024, 2, 29): True,
        dt.date(2024, 3, 1): True,
    }
    assert covered(make_donation, donor, expected) == expected


def test_29_february_in_a_year_whose_fourth_year_before_is_not_a_leap_year(make_donor, make_donation):
    declaration = GiftAidDeclaration(made_on=dt.date(2104, 2, 29), covers_past=True, covers_future=True)
    assert declaration.window_start() == dt.date(2100, 2, 28)  # 2100 is not a leap year
    assert declaration.covers(dt.date(2100, 2, 28)) and not declaration.covers(dt.date(2100, 2, 27))
    donor = make_donor(declared_on=dt.date(2104, 2, 29))  # and the database agrees
    expected = {dt.date(2100, 2, 27): False, dt.date(2100, 2, 28): True, dt.date(2100, 3, 1): True}
    assert covered(make_donation, donor, expected) == expected


# --- Recording and cancelling on the donor's page ------------------------------------------

DECLARATION = {"declaration-made_on": "2025-01-15", "declaration-covers_past": "y",
               "declaration-covers_future": "y"}


def declarations_of(donor):
    return db.session.scalars(select(GiftAidDeclaration).where(GiftAidDeclaration.donor_id == donor.id)).all()


def test_staff_record_a_declaration_on_the_donor_page(client, login, staff, make_donor, make_donation):
    donor = make_donor()
    gift = make_donation(donor, 2500, dt.date(2023, 5, 1))
    login(staff)
    page = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert 'name="declaration-made_on"' in page and "No declaration: gifts are not Gift-Aided." in page

    response = client.post(f"/donors/{donor.id}/declarations", data=DECLARATION)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/donors/{donor.id}#gift-aid"
    (declaration,) = declarations_of(donor)
    assert (declaration.made_on, declaration.covers_past, declaration.covers_future) == (
        dt.date(2025, 1, 15), True, True)
    assert declaration.created_by_id == staff.id and declaration.cancelled_on is None
    assert services.gift_aid_eligible(gift)  # 2023 is within four years of the declaration

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gift Aid declaration recorded." in html
    assert "15 Jan 2025" in html and "in force" in html
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "gift_aid_declared")) is not None


def test_an_unticked_box_means_the_declaration_does_not_cover_that_side(client, login, staff, make_donor,
                                                                       make_donation):
    donor = make_donor()
    before = make_donation(donor, 2500, dt.date(2024, 12, 1))
    after = make_donation(donor, 2500, dt.date(2025, 2, 1))
    login(staff)
    response = client.post(f"/donors/{donor.id}/declarations",
                           data={"declaration-made_on": "2025-01-15", "declaration-covers_future": "y"})
    assert response.status_code == 303
    (declaration,) = declarations_of(donor)
    assert declaration.covers_past is False and declaration.covers_future is True
    assert not services.gift_aid_eligible(before) and services.gift_aid_eligible(after)


def test_a_declaration_dated_in_the_future_is_refused_next_to_the_field(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    response = client.post(f"/donors/{donor.id}/declarations",
                           data={**DECLARATION, "declaration-made_on": tomorrow.isoformat()})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="declaration-made_on-error">This date is in the future.</p>' in html
    assert f'value="{tomorrow.isoformat()}"' in html  # what was typed stays
    assert declarations_of(donor) == []


def test_a_declaration_without_a_date_or_covering_nothing_is_refused(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    response = client.post(f"/donors/{donor.id}/declarations", data={"declaration-made_on": ""})
    assert response.status_code == 422
    assert "Enter the date the declaration was made." in response.get_data(as_text=True)

    response = client.post(f"/donors/{donor.id}/declarations", data={"declaration-made_on": "2025-01-15"})
    assert response.status_code == 422
    assert "A declaration covers past gifts, future gifts or both." in response.get_data(as_text=True)
    assert declarations_of(donor) == []


def test_an_organisation_cannot_make_a_declaration(client, login, staff, make_donor):
    company = make_donor(kind="organisation", title=None, first_name=None, last_name=None,
                         organisation_name="Acme Widgets Ltd")
    login(staff)
    response = client.post(f"/donors/{company.id}/declarations", data=DECLARATION)
    assert response.status_code == 422
    assert declarations_of(company) == []
    assert "Only individuals can make a Gift Aid declaration." in response.get_data(as_text=True)


def test_staff_cancel_a_declaration_and_later_gifts_are_no_longer_eligible(client, login, staff, make_donor,
                                                                          make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    declaration = donor.declarations[0]
    before = make_donation(donor, 2500, dt.date(2025, 2, 28))
    after = make_donation(donor, 2500, dt.date(2025, 3, 1))
    assert services.gift_aid_eligible(before) and services.gift_aid_eligible(after)
    login(staff)
    prefix = f"cancel{declaration.id}-"
    page = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert f'name="{prefix}cancelled_on"' in page

    response = client.post(f"/donors/declarations/{declaration.id}/cancel",
                           data={f"{prefix}cancelled_on": "2025-03-01", f"{prefix}reason": "No longer a taxpayer"})
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/{donor.id}#gift-aid"
    declaration = db.session.get(GiftAidDeclaration, declaration.id)
    assert declaration.cancelled_on == dt.date(2025, 3, 1) and declaration.cancelled_reason == "No longer a taxpayer"
    assert services.gift_aid_eligible(before) and not services.gift_aid_eligible(after)

    html = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "Gift Aid declaration cancelled." in html
    assert "cancelled from 1 Mar 2025: No longer a taxpayer" in html
    assert f'name="{prefix}cancelled_on"' not in html  # nothing left to cancel
    assert "not eligible" in client.get(f"/donors/donations/{after.id}").get_data(as_text=True)


def test_cancelling_needs_a_date_and_happens_once(client, login, staff, make_donor):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    declaration = donor.declarations[0]
    prefix = f"cancel{declaration.id}-"
    login(staff)
    response = client.post(f"/donors/declarations/{declaration.id}/cancel", data={f"{prefix}cancelled_on": ""})
    assert response.status_code == 422
    assert "Enter the date the cancellation takes effect." in response.get_data(as_text=True)
    assert db.session.get(GiftAidDeclaration, declaration.id).cancelled_on is None

    assert client.post(f"/donors/declarations/{declaration.id}/cancel",
                       data={f"{prefix}cancelled_on": "2025-03-01"}).status_code == 303
    response = client.post(f"/donors/declarations/{declaration.id}/cancel",
                           data={f"{prefix}cancelled_on": "2025-06-01"}, follow_redirects=True)
    assert "This declaration was already cancelled on 1 Mar 2025." in response.get_data(as_text=True)
    assert db.session.get(GiftAidDeclaration, declaration.id).cancelled_on == dt.date(2025, 3, 1)


def test_only_staff_record_declarations(app, client, login, make_user, make_donor):
    donor = make_donor()
    login(make_user(roles=["doctor"]))
    assert client.post(f"/donors/{donor.id}/declarations", data=DECLARATION).status_code == 403
    assert declarations_of(donor) == []
