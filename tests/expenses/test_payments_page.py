"""The payments page shows a page of payees at a time, whoever has waited longest first, each
with all of their approved lines; its statements do not grow with the payees waiting."""

from __future__ import annotations

import re

from portal.blueprints.expenses.services import PAYEES_PER_PAGE


def payees_on(html: str) -> list[str]:
    return re.findall(r'<h2 id="payee-\d+">([^<·]+?) ·', html)


def test_payees_come_a_page_at_a_time_oldest_first_with_their_lines(
        client, login, make_user, make_funded_item, make_line, staff, finance, rates, count_statements):
    names = [f"Doctor {number:02d}" for number in range(PAYEES_PER_PAGE + 5)]
    items = [make_funded_item(beneficiary=make_user(roles=["doctor"], name=name)) for name in names]
    for item in items:  # each payee's first line first, so that the order is the order of waiting
        make_line(item=item, status="approved", approver=staff)
    make_line(item=items[0], status="approved", approver=staff, description="Hotel")  # a second line
    login(finance)
    first = client.get("/expenses/payments").get_data(as_text=True)
    assert payees_on(first) == names[:PAYEES_PER_PAGE]
    assert f"{len(names)} payees" in first and 'rel="next"' in first and "Page 1 of 2" in first
    assert first.count('name="line"') == PAYEES_PER_PAGE + 1  # every line of each payee shown
    second = client.get("/expenses/payments?page=2").get_data(as_text=True)
    assert payees_on(second) == names[PAYEES_PER_PAGE:]
    assert client.get("/expenses/payments?page=9").status_code == 200  # past the end: an empty page

    with count_statements() as many:
        client.get("/expenses/payments")
    with count_statements() as same:
        client.get("/expenses/payments?page=2")
    assert many.count == same.count
