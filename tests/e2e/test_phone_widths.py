"""Every page a doctor, an expert and a member of staff opens fits a 360 px phone: nothing wider
than the screen, so nothing needs sideways scrolling (tables fold into labelled cards)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Browser

from portal.extensions import db
from portal.models import ExpertVisit
from tests.fixtures.factories import many_donors

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}

# The widest thing on the page, for the failure message.
WIDEST = """() => {
  const limit = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit + 1);
  const leaf = wide.filter(e => ![...e.children].some(c => wide.includes(c)));
  return {scroll: document.documentElement.scrollWidth, inner: limit,
          widest: leaf.slice(0, 3).map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)};
}"""


def test_every_page_fits_a_360_px_phone(live_server: Any, browser: Browser, browser_context_args: dict[str, Any],
                                        sign_in: Any, make_user: Any, make_application: Any, make_clinic: Any,
                                        make_conference: Any) -> None:
    clinic = make_clinic(name="Dmitry Rogachev National Medical Research Centre of Paediatric Haematology")
    doctor = make_user(roles=["doctor"], name="Dr Anna Sokolova", clinic_id=clinic.id)
    expert = make_user(roles=["expert"], name="Prof. James Whitfield")
    staff = make_user(roles=["staff"], name="Emma Clarke")
    conference = make_conference(name="International Congress on Paediatric Haematology and Oncology Practice")
    application = make_application(doctor=doctor, conference=conference, status="submitted",
                                   lines={"registration": (72000, "EUR"), "travel": (45000, "EUR"),
                                          "accommodation": (60000, "EUR")})
    visit = ExpertVisit(beneficiary=expert, host_clinic_id=clinic.id, status="confirmed", purpose="Master classes",
                        arrival_on=dt.date.today() + dt.timedelta(days=20),
                        departure_on=dt.date.today() + dt.timedelta(days=25))
    db.session.add(visit)
    donors = many_donors(3)
    db.session.commit()
    pages = {
        doctor.email: ["/", "/applications/", "/applications/new", f"/applications/{application.id}", "/profile",
                       "/conferences", "/expenses/", "/privacy"],
        expert.email: ["/", "/visits/", f"/visits/{visit.id}", "/profile"],
        staff.email: ["/", "/inbox", "/applications/review", f"/applications/{application.id}", "/expenses/review",
                      "/expenses/budget", "/donors/", "/donors/donations", f"/donors/{donors[0].id}", "/visits/",
                      f"/visits/{visit.id}", "/impact", "/history", "/conferences", "/clinics"],
    }
    too_wide = []
    for email, paths in pages.items():
        context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
        page = context.new_page()
        sign_in(page, email)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            found = page.evaluate(WIDEST)
            if found["scroll"] > found["inner"]:
                too_wide.append((email.split("@")[0], path, found))
            if path == f"/applications/{application.id}":  # the budget keeps its Requested/Approved headings
                assert page.locator(".table.budget thead").first.is_visible(), path
            if path == "/applications/review":  # rows are cards, each value under its column's name
                assert page.locator(f"#application-{application.id} td[data-label]").count() >= 3
                assert page.locator("details.filters-disclosure[open]").count() == 0  # filters folded away
        context.close()
    assert too_wide == [], "\n".join(map(str, too_wide))
