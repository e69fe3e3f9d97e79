"""What restricted gifts paid for: never more than the gift, never more than the item's
approved budget (in pounds, at today's rates), only for funded items."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from portal.blueprints.donors import services
from portal.extensions import db
from portal.models import BudgetLine, DonationAllocation, ExpertVisit
from portal.money import rates_on


@pytest.fixture
def funded_application(make_application):
    """``funded_application(lines, status)``: an application whose approved budget is what it asked for."""

    def _create(lines=None, status="approved"):
        application = make_application(status=status, lines=lines or {"registration": (60000, "GBP"),
                                                                      "travel": (40000, "GBP")})
        for line in application.budget_lines:
            line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
        db.session.commit()
        return application

    return _create


def allocate(client, donation, item, amount):
    prefix = f"allocate{donation.id}-"
    return client.post(f"/donors/donations/{donation.id}/allocations",
                       data={f"{prefix}funded_item_id": str(item.id), f"{prefix}amount": amount})


def errors(response) -> list[str]:
    """The error messages shown next to the fields."""
    return re.findall(r'<p class="error" id="[^"]+">([^<]*)</p>', response.get_data(as_text=True))


def allocations(donation=None):
    query = select(DonationAllocation).order_by(DonationAllocation.id)
    if donation is not None:
        query = query.where(DonationAllocation.donation_id == donation.id)
    return db.session.scalars(query).all()


def test_staff_allocate_part_of_a_gift_and_see_it_on_the_gift_page(client, login, staff, make_donor, make_donation,
                                                                   funded_application):
    application = funded_application()  # £1,000 approved
    gift = make_donation(make_donor(), 50000)
    login(staff)
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert f'<option value="{application.id}">Application: {application.display_name}</option>' in page

    response = allocate(client, gift, application, "300.00")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/donors/donations/{gift.id}#allocations"
    (allocation,) = allocations(gift)
    assert (allocation.funded_item_id, allocation.amount, allocation.created_by_id) == (application.id, 30000,
                                                                                         staff.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Allocated £300.00 to Application: " in page  # the flash
    assert "Allocated £300.00 of £500.00." in page
    assert f"Application: {application.display_name}" in page

    assert allocate(client, gift, application, "200").status_code == 303  # the rest of it
    assert [a.amount for a in allocations(gift)] == [30000, 20000]
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert "Allocated £500.00 of £500.00." in page
    assert f'name="allocate{gift.id}-amount"' not in page  # nothing left to allocate


def test_more_than_is_left_of_the_gift_is_refused(client, login, staff, make_donor, make_donation,
                                                  funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000)
    login(staff)
    assert allocate(client, gift, application, "300").status_code == 303
    response = allocate(client, gift, application, "200.01")
    assert response.status_code == 422
    assert "Only £200.00 of this gift is left to allocate." in response.get_data(as_text=True)
    assert [a.amount for a in allocations(gift)] == [30000]

    other = funded_application()
    response = allocate(client, gift, other, "500")  # the limit is the gift's, whatever it pays for
    assert response.status_code == 422
    assert [a.amount for a in allocations()] == [30000]


def test_more_than_the_items_approved_budget_is_refused_counting_other_gifts(client, login, staff, make_donor,
                                                                            make_donation, funded_application):
    application = funded_application()  # £1,000 approved
    first = make_donation(make_donor(), 90000)
    services.allocate(first, application, 90000, by=staff)
    second = make_donation(make_donor(), 50000)
    login(staff)
    response = allocate(client, second, application, "100.01")
    assert response.status_code == 422
    assert "That is more than the approved budget: £100.00 of it is still unfunded." in response.get_data(as_text=True)
    assert allocations(second) == []

    assert allocate(client, second, application, "100").status_code == 303
    assert sum(a.amount for a in allocations()) == 100000  # exactly the budget
    response = allocate(client, second, application, "1")
    assert response.status_code == 422
    assert "£0.00 of it is still unfunded" in response.get_data(as_text=True)
    assert len(allocations()) == 2


def test_only_the_approved_amounts_count_not_what_was_asked(staff, make_donor, make_donation, funded_application):
    application = funded_application()
    application.budget_line("travel").approved_amount = 10000  # asked £400, approved £100
    db.session.commit()
    gift = make_donation(make_donor(), 100000)
    with pytest.raises(services.DonorError, match="£700.00 of it is still unfunded"):
        services.allocate(gift, application, 70001, by=staff)
    services.allocate(gift, application, 70000, by=staff)
    assert [a.amount for a in allocations(gift)] == [70000]


def test_across_currencies_the_budget_is_compared_in_pounds(staff, rates, make_donor, make_donation,
                                                            funded_application):
    # €1,100 approved = £935.00 at 0.85
    application = funded_application({"registration": (60000, "EUR"), "travel": (45000, "EUR"),
                                      "other": (5000, "EUR")})
    pounds = make_donation(make_donor(), 100000)
    with pytest.raises(services.DonorError, match="£935.00 of it is still unfunded"):
        services.allocate(pounds, application, 93501, by=staff)
    services.allocate(pounds, application, 50000, by=staff)  # £500
    euros = make_donation(make_donor(), 60000, currency="EUR")  # €600 = £510
    with pytest.raises(services.DonorError, match="£435.00 of it is still unfunded"):
        services.allocate(euros, application, 51200, by=staff)  # €512 = £435.20
    services.allocate(euros, application, 51176, by=staff)  # €511.76 = £434.996 → £435.00
    assert [(a.amount, a.donation.currency) for a in allocations()] == [(50000, "GBP"), (51176, "EUR")]
    with pytest.raises(services.DonorError):
        services.allocate(euros, application, 1, by=staff)  # €0.01 = £0.01: nothing left


def test_without_an_exchange_rate_nothing_is_allocated(staff, make_donor, make_donation, funded_application):
    application = funded_application({"registration": (60000, "EUR")})  # and no rates recorded
    gift = make_donation(make_donor(), 10000)
    with pytest.raises(services.DonorError, match="An exchange rate is missing"):
        services.allocate(gift, application, 1000, by=staff)
    assert allocations() == []


def test_an_unrestricted_gift_is_not_allocated(client, login, staff, make_donor, make_donation, funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000, restricted=False)
    with pytest.raises(services.DonorError, match="Only gifts restricted to the Educational Programme"):
        services.allocate(gift, application, 1000, by=staff)
    login(staff)
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert "Unrestricted" in page and f'name="allocate{gift.id}-amount"' not in page
    response = allocate(client, gift, application, "10")  # a page drawn before the gift was changed
    assert response.status_code == 422
    assert allocations() == []


def test_an_unrestricted_gift_says_why_it_was_not_allocated(client, login, staff, make_donor, make_donation,
                                                            funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000, restricted=False)
    login(staff)
    response = allocate(client, gift, application, "10")
    assert response.status_code == 422
    assert "Only gifts restricted to the Educational Programme are allocated." in response.get_data(as_text=True)


def test_an_application_that_is_not_funded_receives_nothing(client, login, staff, make_donor, make_donation,
                                                            funded_application):
    gift = make_donation(make_donor(), 50000)
    login(staff)
    for status in ("submitted", "draft", "rejected", "withdrawn"):
        item = funded_application(status=status)
        with pytest.raises(services.DonorError, match="Only approved applications and confirmed expert visits"):
            services.allocate(gift, item, 1000, by=staff)
        page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
        assert f'<option value="{item.id}">' not in page, status
        response = allocate(client, gift, item, "10")
        assert response.status_code == 422, status
        assert "Not a valid choice." in errors(response), status
    assert allocations() == []


def test_a_completed_application_and_a_confirmed_visit_can_receive_gifts(staff, make_user, make_clinic, make_donor,
                                                                        make_donation, funded_application):
    completed = funded_application(status="completed")
    visits = {}
    for status in ("planned", "confirmed"):
        visit = ExpertVisit(beneficiary=make_user(roles=["expert"]), host_clinic=make_clinic(), status=status,
                            arrival_on=dt.date(2026, 3, 1), departure_on=dt.date(2026, 3, 5), purpose="Lectures")
        visit.budget_lines.append(BudgetLine(category="travel", requested_amount=80000, requested_currency="GBP",
                                             approved_amount=80000, approved_currency="GBP"))
        db.session.add(visit)
        visits[status] = visit
    db.session.commit()
    assert {item.id for item in services.allocatable_items()} == {completed.id, visits["confirmed"].id}
    gift = make_donation(make_donor(), 100000)
    services.allocate(gift, completed, 10000, by=staff)
    services.allocate(gift, visits["confirmed"], 80000, by=staff)
    with pytest.raises(services.DonorError):
        services.allocate(gift, visits["planned"], 1000, by=staff)
    assert [a.funded_item_id for a in allocations()] == [completed.id, visits["confirmed"].id]


def test_removing_an_allocation_frees_the_gift_and_the_budget(client, login, staff, make_donor, make_donation,
                                                              funded_application):
    application = funded_application()  # £1,000 approved
    gift = make_donation(make_donor(), 100000)
    login(staff)
    assert allocate(client, gift, application, "1000").status_code == 303
    other = make_donation(make_donor(), 10000)
    assert allocate(client, other, application, "1").status_code == 422  # the budget is used up
    (allocation,) = allocations(gift)

    response = client.post(f"/donors/allocations/{allocation.id}/remove")
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/donations/{gift.id}#allocations"
    assert allocations() == []
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert "Allocation removed." in page and "Allocated £0.00 of £1,000.00." in page
    assert allocate(client, other, application, "100").status_code == 303  # the budget is free again
    assert allocate(client, gift, application, "900").status_code == 303  # and so is the gift
    assert db.session.scalar(select(func.sum(DonationAllocation.amount))) == 100000


def test_amounts_that_are_not_money_are_refused(client, login, staff, make_donor, make_donation, funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000)
    login(staff)
    for amount, message in [("10.001", "Too many decimal places for GBP."), ("0", "Enter the amount to allocate."),
                            ("-5", "Enter an amount greater than zero."), ("ten", "Enter the amount to allocate.")]:
        response = allocate(client, gift, application, amount)
        assert response.status_code == 422, amount
        assert errors(response) == [message], amount
    assert allocations() == []


def test_one_penny_is_an_amount_that_can_be_allocated(client, login, staff, make_donor, make_donation,
                                                      funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000)
    login(staff)
    response = allocate(client, gift, application, "0.01")
    assert response.status_code == 303, errors(response)  # not "Enter an amount greater than zero."
    assert [a.amount for a in allocations(gift)] == [1]


def test_a_gift_cannot_be_lowered_below_what_it_already_paid_for(client, login, staff, make_donor, make_donation,
                                                                 funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000, received_on=dt.date(2025, 5, 1))
    services.allocate(gift, application, 40000, by=staff)
    login(staff)
    response = client.post(f"/donors/donations/{gift.id}/edit", data={
        "edit-amount": "300", "edit-currency": "GBP", "edit-received_on": "2025-05-01",
        "edit-method": "bank_transfer", "edit-restricted": "y"})
    assert response.status_code == 422
    assert "More than that is already allocated: remove allocations first." in response.get_data(as_text=True)
    assert db.session.get(type(gift), gift.id).amount == 50000


def test_an_allocated_gift_cannot_become_unrestricted(client, login, staff, make_donor, make_donation,
                                                      funded_application):
    application = funded_application()
    gift = make_donation(make_donor(), 50000, received_on=dt.date(2025, 5, 1))
    services.allocate(gift, application, 40000, by=staff)
    login(staff)
    response = client.post(f"/donors/donations/{gift.id}/edit", data={  # "restricted" left unticked
        "edit-amount": "500", "edit-currency": "GBP", "edit-received_on": "2025-05-01",
        "edit-method": "bank_transfer"})
    gift = db.session.get(type(gift), gift.id)
    # An unrestricted gift may not pay for a funded item: either the change is refused or
    # the allocation goes; never an unrestricted gift that still pays for one.
    assert not (gift.restricted is False and allocations(gift)), response.status_code


def test_changing_an_allocated_gifts_currency_cannot_overfund_the_item(client, login, staff, rates, make_donor,
                                                                       make_donation, funded_application):
    application = funded_application({"registration": (100000, "EUR")})  # €1,000 approved = £850.00
    gift = make_donation(make_donor(), 100000, received_on=dt.date(2025, 5, 1), currency="EUR")
    services.allocate(gift, application, 100000, by=staff)  # all of it: €1,000 = £850.00
    login(staff)
    client.post(f"/donors/donations/{gift.id}/edit", data={  # "it came in pounds, not euros"
        "edit-amount": "1000", "edit-currency": "GBP", "edit-received_on": "2025-05-01",
        "edit-method": "bank_transfer", "edit-restricted": "y"})
    funded = services.allocated_in_base(application, rates_on())
    approved = services.approved_in_base(application, rates_on())
    assert funded <= approved, f"£{funded / 100:.2f} allocated to an item approved for £{approved / 100:.2f}"
