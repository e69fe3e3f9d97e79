"""The staff inbox: every module's waiting work in one list, oldest first, with the counts the
dashboard cards show; one-click actions in place (htmx) or by a plain post; an outside module's
items listed beside the built-in ones; a statement count that does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import hookimpl
from portal.extensions import db
from portal.hookspecs import InboxItem, InboxKind
from portal.models import Conference, Donation
from tests.fixtures.factories import many_donors

INBOX = "/inbox"


def rows(html: str) -> list[str]:
    """The inbox rows' ids, top to bottom."""
    return re.findall(r'<tr id="inbox-([\w-]+)">', html)


def card_count(html: str, title: str) -> int:
    found = re.search(rf"<h2>{re.escape(title)}</h2>\s*<p class=\"count\">(\d+)</p>", html)
    assert found, title
    return int(found.group(1))


class Archive:
    """An outside module: scanned forms waiting to be filed."""

    @hookimpl
    def portal_inbox(self, user, limit):
        items = [InboxItem(n, f"Scanned form {n}", dt.datetime(2020, 1, n, tzinfo=dt.UTC), f"/archive/{n}")
                 for n in (1, 2)][:limit]
        return [InboxKind("archive.to_file", "archive", _l("Archive"), _l("Forms to file"), 2, items, "/archive",
                          action=_l("File it"))]

    @hookimpl
    def portal_inbox_act(self, user, kind, item_id, version):
        return f"Form {item_id} filed." if kind == "archive.to_file" else None


@pytest.mark.parametrize("config_overrides", [{"EXTRA_MODULES": {"archive": Archive()}}])
def test_an_outside_module_puts_its_work_in_the_inbox_and_does_its_action(client, login, staff, config_overrides,
                                                                         make_application):
    make_application()
    login(staff)
    html = client.get(INBOX).get_data(as_text=True)
    assert rows(html)[:2] == ["archive-to_file-1", "archive-to_file-2"]  # 2020: the oldest of all
    assert "Scanned form 1" in html and "Forms to file (2)" in html and ">Archive</option>" in html
    answer = client.htmx_post("/inbox/archive.to_file/1", data={"next": INBOX})
    assert answer.status_code == 200 and "Form 1 filed." in answer.get_data(as_text=True)
    assert "<html" not in answer.get_data(as_text=True)
    assert client.post("/inbox/nobody.owns_this/1").status_code == 404


def test_staff_see_every_kind_oldest_first_with_the_dashboards_counts(client, login, staff, make_application,
                                                                     make_conference, make_user):
    old = make_application(submitted_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    new = make_application(submitted_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC))
    proposal = make_conference(confirmed=False, name="Proposed Congress", proposed_by_id=make_user().id)
    proposal.created_at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    many_donors(3)
    db.session.commit()
    login(staff)
    html = client.get(INBOX).get_data(as_text=True)
    order = rows(html)
    assert order.index(f"applications-to_decide-{old.id}") < order.index(f"catalogue-proposals-{proposal.id}") \
        < order.index(f"applications-to_decide-{new.id}")
    gifts = db.session.scalars(select(Donation.id).order_by(Donation.id)).all()
    assert {f"donors-to_thank-{g}" for g in gifts} <= set(order)

    dashboard = client.get("/").get_data(as_text=True)
    assert card_count(dashboard, "Applications to review") == 2
    assert card_count(dashboard, "Donations awaiting thanks") == 3
    assert card_count(dashboard, "Proposed conferences") == 1
    assert "Applications to decide (2)" in html and "Gifts awaiting thanks (3)" in html
    assert "Proposed conferences to confirm (1)" in html

    only_donors = client.get(f"{INBOX}?module=donors").get_data(as_text=True)
    assert {r.split("-")[0] for r in rows(only_donors)} == {"donors"}
    fragment = client.get(f"{INBOX}?kind=applications.to_decide", headers={"HX-Request": "true",
                                                                           "HX-Target": "inbox-list"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert rows(fragment.get_data(as_text=True)) == [f"applications-to_decide-{old.id}",
                                                     f"applications-to_decide-{new.id}"]
    assert rows(client.get(f"{INBOX}?kind=no.such<script>").get_data(as_text=True)) == order  # unknown: all


def test_a_gift_is_thanked_and_a_proposal_confirmed_from_the_inbox(client, login, staff, make_conference,
                                                                   make_user):
    donor_gift = many_donors(1)[0].donations[0]
    proposal = make_conference(confirmed=False, name="Proposed Congress", proposed_by_id=make_user().id)
    login(staff)
    answer = client.htmx_post(f"/inbox/donors.to_thank/{donor_gift.id}", data={"next": INBOX})
    row = answer.get_data(as_text=True)
    assert answer.status_code == 200 and row.startswith('<tr class="done">') and "Thanked by e-mail: letter" in row
    assert db.session.get(Donation, donor_gift.id).acknowledgement_id is not None
    again = client.htmx_post(f"/inbox/donors.to_thank/{donor_gift.id}", data={"next": INBOX})
    assert again.status_code == 422 and "This gift has already been acknowledged." in again.get_data(as_text=True)

    plain = client.post(f"/inbox/catalogue.proposals/{proposal.id}", data={"next": f"{INBOX}?module=catalogue"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"{INBOX}?module=catalogue"
    assert db.session.get(Conference, proposal.id).confirmed
    page = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "Conference “Proposed Congress” confirmed." in page and "Nothing waits for you." in page
    assert client.post("/inbox/donors.to_thank/999999").status_code == 404
    hostile = client.post(f"/inbox/catalogue.proposals/{proposal.id}", data={"next": "//evil.example/"})
    assert hostile.headers["Location"] == INBOX  # never elsewhere


def test_who_sees_what(client, login, make_user, make_application, finance):
    make_application()
    many_donors(1)
    doctor = make_user(roles=["doctor"])
    login(doctor)
    assert client.get(INBOX).status_code == 403
    assert client.post("/inbox/donors.to_thank/1").status_code == 403
    client.post("/logout")
    login(finance)
    html = client.get(INBOX).get_data(as_text=True)
    assert "Approved lines to pay (0)" in html and "Gifts awaiting thanks" not in html
    assert "Applications to decide" not in html
    assert client.post("/inbox/donors.to_thank/1").status_code == 404  # not finance's to do


def test_the_inbox_sends_as_many_statements_for_sixty_items_as_for_three(client, login, staff, make_application,
                                                                        make_conference, count_statements):
    login(staff)

    def fill(count: int) -> None:
        for _ in range(count):
            make_application()
            make_conference(confirmed=False)
        many_donors(count)

    fill(3)
    with count_statements() as few:
        client.get(INBOX)
    fill(57)
    with count_statements() as many:
        page = client.get(INBOX).get_data(as_text=True)
    assert len(rows(page)) == 50  # the oldest fifty of 180
    assert many.count == few.count


def test_letters_blocked_by_missing_details_wait_in_the_inbox_until_the_profile_is_complete(
        client, login, staff, make_user, make_application, make_clinic):
    from portal.models import ExpertVisit

    clinic = make_clinic()
    incomplete = make_user(roles=["doctor"], name="Anna Petrova", nationality="Russian")
    complete = make_user(roles=["doctor"], name="Ivan Sokolov", passport_full_name="IVAN SOKOLOV",
                         nationality="Russian", passport_number="751234567", passport_expiry=dt.date(2031, 1, 1),
                         position="Haematologist", clinic_id=clinic.id)
    blocked = make_application(doctor=incomplete, status="approved")
    make_application(doctor=complete, status="approved")
    make_application(doctor=make_user(roles=["doctor"]), status="submitted")  # not funded: no letter is due
    expert = make_user(roles=["expert"], name="Prof. Jane Doe", passport_full_name="JANE DOE", nationality="British",
                       passport_expiry=dt.date(2030, 5, 1))  # no passport number
    visit = ExpertVisit(beneficiary=expert, host_clinic_id=clinic.id, status="confirmed", purpose="Master class",
                        arrival_on=dt.date.today() + dt.timedelta(days=30),
                        departure_on=dt.date.today() + dt.timedelta(days=35))
    db.session.add(visit)
    db.session.commit()

    login(staff)
    html = client.get(INBOX).get_data(as_text=True)
    assert "Visa letters blocked by missing details (1)" in html
    assert "Invitations blocked by missing details (1)" in html
    assert f"applications-letters_blocked-{blocked.id}" in rows(html)
    row = re.search(rf'<tr id="inbox-applications-letters_blocked-{blocked.id}">(.*?)</tr>', html, re.S)[1]
    assert ("Missing from the profile: full name as in the passport, passport number, passport expiry date, "
            "position, clinic") in row
    visit_row = re.search(rf'<tr id="inbox-expert_visits-letters_blocked-{visit.id}">(.*?)</tr>', html, re.S)[1]
    assert "Missing from the profile: passport number" in visit_row

    incomplete.passport_full_name, incomplete.passport_number = "ANNA PETROVA", "759876543"
    incomplete.passport_expiry, incomplete.position, incomplete.clinic_id = dt.date(2030, 1, 1), "Surgeon", clinic.id
    expert.passport_number = "530000001"
    db.session.commit()
    html = client.get(INBOX).get_data(as_text=True)
    assert "letters_blocked" not in " ".join(rows(html))
    assert "Visa letters blocked by missing details (0)" in html
    assert "Invitations blocked by missing details (0)" in html
