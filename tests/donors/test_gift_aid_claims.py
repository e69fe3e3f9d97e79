"""Gift Aid claims: a gift is claimed once, whatever the periods and whoever makes the claim;
a submitted claim never changes; HMRC's benefit and aggregation limits at their edges; a
refund after submission is taken off the next claim, to the penny."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.blueprints.donors import claims, services
from portal.blueprints.donors.gift_aid import (
    benefit_limit,
    claimable_from,
    eligible_in_sql,
    gift_aid_eligible,
    ineligibility,
)
from portal.blueprints.donors.privacy import erase
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Donation,
    Donor,
    GiftAidAdjustment,
    GiftAidAggregate,
    GiftAidClaim,
    GiftAidClaimLine,
)
from tests.fixtures.concurrency import at_once

DECLARED = dt.date(2020, 1, 1)


@pytest.fixture
def donor(make_donor):
    return make_donor(declared_on=DECLARED, title="Mrs", first_name="Jane", last_name="Smith-Jones", house="12",
                      postcode="sw1a 1aa")


def claimed_ids(claim: GiftAidClaim) -> list[int]:
    return list(db.session.scalars(select(GiftAidClaimLine.donation_id).where(
        GiftAidClaimLine.claim_id == claim.id, GiftAidClaimLine.donation_id.is_not(None))
        .order_by(GiftAidClaimLine.donation_id)))


def submit(claim: GiftAidClaim, staff, reference: str = "HMRC-1") -> None:
    claims.submit_claim(claim, hmrc_reference=reference, submitted_on=clock.today(), by=staff)


def test_a_claim_freezes_the_eligible_unclaimed_gifts_up_to_its_day(staff, donor, make_donor, make_donation):
    today = clock.today()
    early = make_donation(donor, 2500, today - dt.timedelta(days=40))
    late = make_donation(donor, 4000, today - dt.timedelta(days=5), sponsored_event=True)
    make_donation(donor, 1000, today - dt.timedelta(days=5), currency="EUR")  # not sterling
    make_donation(make_donor(), 3000, today - dt.timedelta(days=6))  # no declaration
    claim = claims.create_claim(today - dt.timedelta(days=10), by=staff)
    assert claimed_ids(claim) == [early.id]
    assert (claim.status, claim.lines_count, claim.total, claim.gift_aid, claim.claimed) == ("draft", 1, 2500, 625, 625)
    [line] = db.session.scalars(select(GiftAidClaimLine).where(GiftAidClaimLine.claim_id == claim.id))
    # As HMRC asks: a title of four letters at most, no hyphen in a surname, the postcode in capitals.
    assert (line.title, line.first_name, line.last_name, line.house, line.postcode, line.amount) == (
        "Mrs", "Jane", "Smith Jones", "12", "SW1A 1AA", 2500)
    submit(claim, staff)
    second = claims.create_claim(today, by=staff)
    assert claimed_ids(second) == [late.id]  # the overlapping period takes only what the first did not
    assert db.session.scalar(select(GiftAidClaimLine.sponsored).where(GiftAidClaimLine.claim_id == second.id))
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "gift_aid_claims")).all() \
        == ["gift_aid_claim_created", "gift_aid_claim_submitted", "gift_aid_claim_created"]


def test_overlapping_claims_never_hold_a_gift_twice(staff, donor, make_donation):
    today = clock.today()
    gifts = [make_donation(donor, 1000 + n, today - dt.timedelta(days=n * 3)) for n in range(30)]
    seen: list[int] = []
    for up_to in (today - dt.timedelta(days=60), today - dt.timedelta(days=30), today - dt.timedelta(days=45),
                  today):
        try:
            claim = claims.create_claim(up_to, by=staff)
        except services.DonorError as error:
            assert "is waiting to be claimed" in str(error.message)  # nothing new up to an earlier day
            continue
        seen += claimed_ids(claim)
        submit(claim, staff)
    # A gift recorded late, with a date inside a period already claimed, goes into the next claim.
    straggler = make_donation(donor, 777, today - dt.timedelta(days=50))
    seen += claimed_ids(claims.create_claim(today, by=staff))
    assert sorted(seen) == sorted([gift.id for gift in gifts] + [straggler.id])


def test_gifts_past_hmrcs_four_years_are_never_claimed_and_are_counted_apart(client, login, staff, donor,
                                                                           make_donation):
    first_day = claimable_from(clock.today())  # 6 April, four tax years back
    assert (first_day.month, first_day.day) == (4, 6) and clock.today().year - first_day.year in (4, 5)
    donor.declarations[0].made_on = first_day  # its four years back reach the gift before
    db.session.commit()
    oldest = make_donation(donor, 3000, first_day)
    make_donation(donor, 4000, first_day - dt.timedelta(days=1))  # its tax year ended over four years ago
    assert claims.waiting(clock.today()).too_old_total == 4000
    login(staff)
    page = client.get("/donors/gift-aid").get_data(as_text=True)
    assert "Too old to claim" in page and "1 gift: £40.00" in page
    assert claimed_ids(claims.create_claim(clock.today(), by=staff)) == [oldest.id]


def test_the_database_holds_a_gift_in_one_claim_line_at_most(staff, donor, make_donation):
    gift = make_donation(donor, 2500, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    submit(claim, staff)
    other = GiftAidClaim(up_to=clock.today(), status="submitted")
    db.session.add(other)
    db.session.flush()
    db.session.add(GiftAidClaimLine(claim_id=other.id, donation_id=gift.id, donation_date=gift.received_on,
                                    amount=gift.amount))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(GiftAidClaim(up_to=clock.today()))  # and two drafts cannot stand together
    db.session.flush()
    db.session.add(GiftAidClaim(up_to=clock.today()))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


ROUNDS = 12
STAFF = 4


def _make_claim(client, token: str) -> tuple[int, str]:
    response = client.post("/donors/gift-aid/claims", headers={"X-CSRFToken": token},
                           data={"csrf_token": token, "up_to": clock.today().isoformat()})
    return response.status_code, response.get_data(as_text=True)


def test_staff_making_claims_at_the_same_moment_never_claim_a_gift_twice(signed_in_clients, staff, donor,
                                                                         make_donation):
    clients = signed_in_clients(STAFF)
    expected: set[int] = set()
    for round_number in range(1, ROUNDS + 1):
        expected |= {make_donation(donor, 100 * round_number + n, clock.today()).id for n in range(5)}
        db.session.commit()  # the test holds no transaction while the staff act
        answers = at_once([functools.partial(_make_claim, client, token) for client, token in clients])
        statuses = sorted(status for status, _ in answers)
        assert statuses == [303] + [422] * (STAFF - 1), f"round {round_number}: {statuses}"
        for status, body in answers:
            if status == 422:
                assert "is still a draft: submit or discard it before making another." in body
        db.session.expire_all()
        draft = claims.draft_claim()
        assert draft is not None and draft.lines_count == 5
        submit(draft, staff, f"R{round_number}")
    lines = db.session.scalars(select(GiftAidClaimLine.donation_id)).all()
    assert len(lines) == len(set(lines)) == len(expected) and set(lines) == expected


def test_a_submitted_claim_never_changes(client, login, staff, donor, make_donation):
    gift = make_donation(donor, 10000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    [line] = db.session.scalars(select(GiftAidClaimLine).where(GiftAidClaimLine.claim_id == claim.id))
    submit(claim, staff)
    frozen = (claim.lines_count, claim.total, claim.gift_aid, claim.adjustment)

    with pytest.raises(services.DonorError, match="has been submitted"):
        claims.remove_line(line, by=staff)
    with pytest.raises(services.DonorError, match="has been submitted"):
        claims.discard_claim(claim, by=staff)
    with pytest.raises(services.DonorError, match="in Gift Aid claim"):
        services.change_donation(gift, {"amount": 5000}, by=staff)
    donor.last_name, donor.postcode = "Changed", "E1 6AN"  # the donor moves: the claim stays as sent
    services.save_donor(donor, by=staff, created=False)
    claims.refund_donation(gift, amount=10000, refunded_on=clock.today(), reason="Paid twice", by=staff)

    login(staff)
    assert client.post(f"/donors/gift-aid/lines/{line.id}/remove").status_code == 303
    assert client.post(f"/donors/gift-aid/claims/{claim.id}/discard").status_code == 303
    db.session.expire_all()
    claim = db.session.get(GiftAidClaim, claim.id)
    assert (claim.lines_count, claim.total, claim.gift_aid, claim.adjustment) == frozen
    line = db.session.get(GiftAidClaimLine, line.id)
    assert (line.last_name, line.postcode, line.amount) == ("Smith Jones", "SW1A 1AA", 10000)


def test_a_draft_can_lose_lines_or_be_discarded_and_its_gifts_wait_again(staff, donor, make_donation):
    first, second = make_donation(donor, 2000, clock.today()), make_donation(donor, 3000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    line = db.session.scalar(select(GiftAidClaimLine).where(GiftAidClaimLine.donation_id == first.id))
    claims.remove_line(line, by=staff)
    assert (claim.lines_count, claim.total, claim.gift_aid) == (1, 3000, 750)
    claims.discard_claim(claim, by=staff)
    assert db.session.scalar(select(func.count()).select_from(GiftAidClaim)) == 0
    again = claims.create_claim(clock.today(), by=staff)
    assert claimed_ids(again) == [first.id, second.id]


# --- Benefits ------------------------------------------------------------------------------

def _eligible(make_donation, donor, amount: int, benefit: int, day: dt.date | None = None) -> bool:
    """Whether the gift is eligible, as the letters ask it (Python) and a claim (SQL): they agree."""
    gift = make_donation(donor, amount, day or dt.date(2024, 5, 1), benefit_value=benefit)
    in_python = gift_aid_eligible(gift)
    in_sql = gift.id in set(db.session.scalars(select(Donation.id).join(Donor).where(eligible_in_sql())))
    assert in_python == in_sql, (amount, benefit, in_python, in_sql)
    return in_python


@pytest.mark.parametrize(("amount", "benefit", "eligible"), [
    (10000, 2500, True),  # £100: 25 % is £25.00
    (10000, 2501, False),
    (4, 1, True),  # 25 % of 4p is exactly 1p
    (3, 1, False),  # 25 % of 3p is less than 1p
    (20000, 3000, True),  # £200: £25 + 5 % of £100
    (20000, 3001, False),
    (10001, 2500, True),  # just over £100: £25 and 5 % of a penny
    (10020, 2501, True),  # 5 % of 20p is 1p
    (10019, 2501, False),
    (5_000_000, 250_000, True),  # £50,000: within the 5 % and the year's £2,500
])
def test_the_benefit_limits_at_their_edges(make_donation, donor, amount, benefit, eligible):
    assert _eligible(make_donation, donor, amount, benefit) is eligible
    assert (benefit <= benefit_limit(amount)) is eligible


def test_benefits_over_2500_in_a_tax_year_make_the_gift_that_passes_them_ineligible(make_donation, donor):
    assert _eligible(make_donation, donor, 5_000_000, 249_999, dt.date(2024, 4, 6))  # the first day of 2024-25
    assert _eligible(make_donation, donor, 10000, 1, dt.date(2025, 4, 5))  # the last day: £2,500.00 exactly
    assert not _eligible(make_donation, donor, 10000, 1, dt.date(2025, 4, 5))  # one penny more
    assert _eligible(make_donation, donor, 10000, 2500, dt.date(2025, 4, 6))  # a new tax year starts afresh
    gift = make_donation(donor, 10000, dt.date(2025, 4, 4), benefit_value=2)
    assert "more than HMRC's limit of £2,500.00 a year" in ineligibility(gift)
    assert _eligible(make_donation, donor, 10000, 0, dt.date(2025, 4, 5))  # a gift without a benefit still counts


def test_the_reason_a_gift_is_ineligible_is_shown_on_its_page(client, login, staff, donor, make_donation):
    gift = make_donation(donor, 10000, dt.date(2024, 5, 1), benefit_value=2600, benefit_description="Gala dinner")
    login(staff)
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert "The donor received a benefit worth £26.00: more than HMRC allows for a gift of £100.00 (£25.00)." in page
    assert "Gala dinner" in page


# --- Aggregated entries -------------------------------------------------------------------

def _aggregate(client, gifts: str, total: str, description: str = "Concert collection 12 May"):
    return client.post("/donors/gift-aid/aggregates", data={
        "entry-description": description, "entry-received_on": clock.today().isoformat(),
        "entry-gifts": gifts, "entry-total": total})


def test_aggregated_entries_cap_at_1000_pounds_a_line(client, login, staff):
    login(staff)
    assert _aggregate(client, "50", "1000.00").status_code == 303
    response = _aggregate(client, "60", "1000.01")
    assert response.status_code == 422
    assert "One aggregated line can be at most £1,000.00" in response.get_data(as_text=True)
    response = _aggregate(client, "49", "1000.00")  # one of them was more than £20
    assert response.status_code == 422 and "Only gifts of £20.00 or less can be added together" in \
        response.get_data(as_text=True)
    response = _aggregate(client, "5", "50", description="x" * 36)
    assert response.status_code == 422 and 'value="' + "x" * 36 in response.get_data(as_text=True)  # kept
    assert db.session.scalars(select(GiftAidAggregate.total)).all() == [100000]
    db.session.add(GiftAidAggregate(description="Direct", received_on=clock.today(), gifts=100, total=100001))
    with pytest.raises(IntegrityError):  # the database says the same
        db.session.flush()
    db.session.rollback()


def test_an_aggregated_entry_goes_into_the_schedules_aggregated_column(client, login, staff, donor, make_donation):
    make_donation(donor, 2500, clock.today())
    login(staff)
    _aggregate(client, "12", "180.50")
    claim = claims.create_claim(clock.today(), by=staff)
    assert (claim.lines_count, claim.total) == (2, 20550)
    rows = list(claims.schedule_rows(claim, 1))
    entry = next(row for row in rows if row[6])
    assert entry[1:6] == ["", "", "", "", ""] and entry[6] == "Concert collection 12 May"
    assert str(entry[9]) == "180.50"
    with pytest.raises(services.DonorError, match="is in a claim"):
        claims.remove_aggregate(db.session.scalars(select(GiftAidAggregate)).one(), by=staff)


# --- Refunds ------------------------------------------------------------------------------

def test_a_refund_after_submission_is_taken_off_the_next_claim_exactly(client, login, staff, donor, make_donation):
    big, odd = make_donation(donor, 10000, clock.today()), make_donation(donor, 1001, clock.today())
    first = claims.create_claim(clock.today(), by=staff)
    assert (first.total, first.gift_aid) == (11001, 2750)
    submit(first, staff)

    login(staff)
    response = client.post(f"/donors/donations/{big.id}/refund", data={
        "refund-amount": "40.00", "refund-refunded_on": clock.today().isoformat(), "refund-reason": "Card chargeback"})
    assert response.status_code == 303
    claims.refund_donation(odd, amount=1001, refunded_on=clock.today(), reason="Returned", by=staff)
    adjustments = db.session.scalars(select(GiftAidAdjustment).order_by(GiftAidAdjustment.id)).all()
    assert [(a.amount, a.gift_aid, a.carried_into_id) for a in adjustments] == [(4000, 1000, None), (1001, 250, None)]

    newer = make_donation(donor, 2000, clock.today())
    second = claims.create_claim(clock.today(), by=staff)
    assert claimed_ids(second) == [newer.id]
    # 25 % of the £50.01 given back, rounded down: £12.50 over-claimed, taken off the £5.00 claimed.
    assert (second.total, second.gift_aid, second.adjustment, second.claimed) == (2000, 500, 1250, -750)
    db.session.refresh(first)
    assert (first.total, first.gift_aid, first.adjustment) == (11001, 2750, 0)  # the first claim as HMRC has it
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "donation_refunded")
                                .order_by(AuditEvent.id)).all()
    assert [(e.subject_id, e.details["adjustment"], e.note) for e in events] == [
        (big.id, 1000, "Card chargeback"), (odd.id, 250, "Returned")]
    page = client.get(f"/donors/gift-aid/claims/{second.id}").get_data(as_text=True)
    assert "Adjustment to previous claims" in page and "<strong>-£7.50</strong>" in page


def test_a_refund_while_a_draft_waits_is_carried_into_it(staff, donor, make_donation):
    claimed = make_donation(donor, 8000, clock.today())
    submit(claims.create_claim(clock.today(), by=staff), staff)
    newer = make_donation(donor, 4000, clock.today())
    draft = claims.create_claim(clock.today(), by=staff)
    claims.refund_donation(claimed, amount=8000, refunded_on=clock.today(), reason="Refunded", by=staff)
    claims.refund_donation(newer, amount=1000, refunded_on=clock.today(), reason="Smaller", by=staff)
    db.session.refresh(draft)
    # The submitted gift: £20 of Gift Aid taken off the draft; the draft's own gift: its line shrinks.
    assert (draft.total, draft.gift_aid, draft.adjustment) == (3000, 750, 2000)
    with pytest.raises(services.DonorError, match="left to refund"):
        claims.refund_donation(claimed, amount=1, refunded_on=clock.today(), reason="Again", by=staff)
    claims.discard_claim(draft, by=staff)  # its adjustments wait for the next claim
    assert db.session.scalar(select(func.count()).select_from(GiftAidAdjustment).where(
        GiftAidAdjustment.carried_into_id.is_(None))) == 1


def test_two_refunds_at_once_never_give_back_more_than_the_gift(signed_in_clients, staff, donor, make_donation):
    clients = signed_in_clients(2)
    for _round in range(8):
        gift = make_donation(donor, 10000, clock.today())
        db.session.commit()

        def refund(client, token, gift_id=gift.id):
            return client.post(f"/donors/donations/{gift_id}/refund", headers={"X-CSRFToken": token}, data={
                "csrf_token": token, "refund-amount": "60.00", "refund-refunded_on": clock.today().isoformat(),
                "refund-reason": "Twice"}).status_code

        statuses = sorted(at_once([functools.partial(refund, client, token) for client, token in clients]))
        assert statuses == [303, 422]
        db.session.expire_all()
        assert db.session.get(Donation, gift.id).refunded_amount == 6000


# --- What staff see -----------------------------------------------------------------------

def test_the_donor_page_shows_what_was_claimed_and_when(client, login, staff, donor, make_donation):
    make_donation(donor, 5000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    submit(claim, staff, "XQ123")
    login(staff)
    page = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    claimed = page.split('id="claimed"', 1)[1].split("</section>", 1)[0]
    assert claim.reference in claimed and "£12.50" in claimed and "submitted" in claimed


def test_the_claim_pages_are_for_staff_only(client, login, make_user, staff, donor, make_donation):
    make_donation(donor, 5000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    urls = ["/donors/gift-aid", f"/donors/gift-aid/claims/{claim.id}",
            f"/donors/gift-aid/claims/{claim.id}/schedule-1.ods"]
    login(make_user(roles=["doctor"]))
    assert [client.get(url).status_code for url in urls] == [403, 403, 403]
    assert client.post("/donors/gift-aid/claims", data={"up_to": clock.today().isoformat()}).status_code == 403


def test_erasing_a_donor_pseudonymises_their_claim_lines_and_keeps_the_money(staff, donor, make_donation):
    make_donation(donor, 5000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    erase(donor, "Former donor #1")
    db.session.commit()
    [line] = db.session.scalars(select(GiftAidClaimLine).where(GiftAidClaimLine.claim_id == claim.id))
    assert (line.title, line.first_name, line.last_name, line.house, line.postcode, line.amount) == (
        "", "", "Former donor #1", "", "", 5000)


def test_a_refund_at_the_moment_a_claim_is_made_or_submitted_is_counted_once(signed_in_clients, staff, donor,
                                                                             make_donation):
    """Either the refund comes first (the claim takes the smaller gift) or the claim does (the
    draft's line shrinks, or the submitted claim's adjustment records it): never both, never neither."""
    (maker, maker_token), (refunder, refunder_token) = signed_in_clients(2)
    for round_number in range(10):
        gift = make_donation(donor, 10000, clock.today())
        gift_id = gift.id
        if round_number % 2:  # the race is with submitting a draft that holds the gift
            draft = claims.create_claim(clock.today(), by=staff)
            act = functools.partial(maker.post, f"/donors/gift-aid/claims/{draft.id}/submit",
                                    headers={"X-CSRFToken": maker_token},
                                    data={"csrf_token": maker_token, "hmrc_reference": f"R{round_number}",
                                          "submitted_on": clock.today().isoformat()})
        else:  # the race is with making the claim
            act = functools.partial(_make_claim, maker, maker_token)
        db.session.commit()
        refund = functools.partial(refunder.post, f"/donors/donations/{gift_id}/refund",
                                   headers={"X-CSRFToken": refunder_token},
                                   data={"csrf_token": refunder_token, "refund-amount": "30.00",
                                         "refund-refunded_on": clock.today().isoformat(), "refund-reason": "Race"})
        at_once([act, refund])
        db.session.expire_all()
        line = db.session.scalar(select(GiftAidClaimLine).where(GiftAidClaimLine.donation_id == gift_id))
        claim = db.session.get(GiftAidClaim, line.claim_id)
        adjusted = db.session.scalar(select(func.coalesce(func.sum(GiftAidAdjustment.amount), 0))
                                     .where(GiftAidAdjustment.line_id == line.id))
        assert db.session.get(Donation, gift_id).refunded_amount == 3000
        assert (line.amount, adjusted) in {(7000, 0), (10000, 3000)}, (round_number, line.amount, adjusted)
        assert claim.total == db.session.scalar(select(func.sum(GiftAidClaimLine.amount))
                                                .where(GiftAidClaimLine.claim_id == claim.id))
        if claim.status == "draft":
            submit(claim, staff, f"S{round_number}")


def test_submitting_and_paying_refuse_bad_input_beside_the_field_and_keep_what_was_typed(client, login, staff, donor,
                                                                                         make_donation):
    make_donation(donor, 4000, clock.today())
    claim = claims.create_claim(clock.today(), by=staff)
    login(staff)
    url = f"/donors/gift-aid/claims/{claim.id}"
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    response = client.post(f"{url}/submit", data={"hmrc_reference": "", "submitted_on": clock.today().isoformat()})
    assert response.status_code == 422 and "Enter the reference HMRC gave the claim." in response.get_data(as_text=True)
    response = client.post(f"{url}/submit", data={"hmrc_reference": "AB\x0012", "submitted_on": yesterday})
    assert response.status_code == 400  # a NUL never reaches a form
    response = client.post(f"{url}/submit", data={"hmrc_reference": "XK-77", "submitted_on": yesterday})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "it cannot have been submitted before." in page and 'value="XK-77"' in page
    assert client.post(f"{url}/paid", data={"amount_received": "10.00", "paid_on": clock.today().isoformat()}
                       ).status_code == 422  # not submitted yet
    # An invisible or direction-changing character never reaches what is quoted back to HMRC.
    client.post(f"{url}/submit", data={"hmrc_reference": "XK\u200b-77\u202e",
                                       "submitted_on": clock.today().isoformat()})
    response = client.post(f"{url}/paid", data={"amount_received": "10.001", "paid_on": clock.today().isoformat()})
    assert response.status_code == 422 and "Too many decimal places for GBP." in response.get_data(as_text=True)
    response = client.post(f"{url}/paid", data={"amount_received": "9.50", "paid_on": yesterday})
    assert response.status_code == 422 and "HMRC cannot have paid it before." in response.get_data(as_text=True)
    assert client.post(f"{url}/paid", data={"amount_received": "9.50", "paid_on": clock.today().isoformat()}
                       ).status_code == 303
    db.session.refresh(claim)
    assert (claim.status, claim.hmrc_reference, claim.amount_received) == ("paid", "XK-77", 950)
    page = client.get(url).get_data(as_text=True)
    assert "-£0.50 different from the claim" in page
