"""Words as their reader expects them: the consulate's country is the consulate's, not the
city's; the doctor reads "you" on their own page; a month named alone is in the nominative."""

from __future__ import annotations

import html
import re


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_the_consulate_and_the_doctor_are_named_as_they_read(client, login, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, visa_country="Switzerland", visa_city="Moscow")
    login(doctor)
    page = text(client.get(f"/applications/{application.id}"))
    assert "the consulate of Switzerland in Moscow" in page and "Moscow, Switzerland" not in page
    assert "What you will bring back" in page
    client.post("/logout")
    login(make_user(roles=["staff"]))
    assert "What the doctor will bring back" in text(client.get(f"/applications/{application.id}"))


def test_the_budget_names_its_months_in_the_nominative(client, login, make_user):
    login(make_user(roles=["staff"], preferred_language="ru"))
    client.post("/language", data={"lang": "ru"})
    page = client.get("/expenses/budget").get_data(as_text=True)
    assert '<th scope="row">май</th>' in page and ">мая<" not in page
