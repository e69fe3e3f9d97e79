"""A doctor applies: draft, submit, errors that keep the input, proposing a conference."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, Conference, OutboxMessage


def form_data(conference_id, **overrides):
    data = {
        "conference_id": str(conference_id), "purpose": "To learn the latest in paediatric leukaemia care.",
        "expected_benefit": "A seminar for the haematology department.", "participation": "poster",
        "visa_needed": "y", "visa_country": "Austria", "visa_city": "Moscow",
        "budget-registration-amount": "650.00", "budget-registration-currency": "EUR",
        "budget-travel-amount": "420.50", "budget-travel-currency": "EUR",
        "budget-accommodation-amount": "", "budget-accommodation-currency": "EUR",
        "budget-visa-amount": "80", "budget-visa-currency": "GBP",
        "budget-other-amount": "", "budget-other-currency": "EUR",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_a_doctor_saves_a_draft_then_submits(client, login, make_user, make_conference, rates):
    doctor = make_user(roles=["doctor"], preferred_language="ru")
    conference = make_conference(name="EHA Congress")
    login(doctor)
    response = client.post("/applications/new", data=form_data(conference.id))
    assert response.status_code == 303
    application = db.session.scalars(select(Application)).one()
    assert application.status == "draft" and application.beneficiary_id == doctor.id
    assert {(line.category, line.requested_amount, line.requested_currency)
            for line in application.budget_lines} == {
        ("registration", 65000, "EUR"), ("travel", 42050, "EUR"), ("visa", 8000, "GBP")}
    assert db.session.scalars(select(OutboxMessage)).all() == []  # a draft tells no one

    response = client.post(f"/applications/{application.id}/submit")
    assert response.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.status == "submitted" and application.submitted_at is not None
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.recipient == doctor.email and mail.language == "ru" and "EHA Congress" in mail.subject

    client.post("/language", data={"lang": "en"})
    listing = client.get("/applications/").get_data(as_text=True)
    assert "EHA Congress" in listing and "submitted" in listing
    assert "The programme team is reviewing it." in listing


def test_save_and_submit_in_one_step(client, login, make_user, make_conference):
    login(make_user(roles=["doctor"]))
    response = client.post("/applications/new", data=form_data(make_conference().id, action="submit"))
    assert response.status_code == 303
    assert db.session.scalars(select(Application)).one().status == "submitted"


def test_errors_are_shown_beside_the_fields_and_nothing_is_lost(client, login, make_user, make_conference):
    conference = make_conference()
    login(make_user(roles=["doctor"]))
    response = client.post("/applications/new", data=form_data(
        conference.id, purpose="", visa_city="", **{"budget-travel-amount": "420.505", "budget-other-amount": "-5"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tell us why you want to attend." in html
    assert "Say at which consulate you will apply" in html
    assert "Too many decimal places for EUR." in html
    assert "cannot be negative" in html
    assert 'value="420.505"' in html and 'value="650.00"' in html
    assert "A seminar for the haematology department." in html
    assert db.session.scalars(select(Application)).all() == []


def test_the_total_is_shown_after_submit_without_javascript(client, login, make_user, make_conference, rates):
    login(make_user(roles=["doctor"]))
    html = client.post("/applications/new", data=form_data(make_conference().id, purpose="")).get_data(as_text=True)
    # 650 + 420.50 EUR = €1,070.50; + £80; at 0.85 → £909.93 + £80 = £989.93
    assert "€1,070.50" in html and "£80.00" in html and "£989.93" in html


def test_the_running_total_as_the_doctor_types(client, login, make_user, make_conference, rates):
    login(make_user(roles=["doctor"]))
    response = client.htmx_post("/applications/estimate", data=form_data(1))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="budget-total"' in html and "£989.93" in html


def test_choosing_no_conference_or_proposing_a_new_one(client, login, make_user):
    doctor = make_user(roles=["doctor"])
    login(doctor)
    response = client.post("/applications/new", data=form_data(0))
    assert response.status_code == 422
    assert "Choose a conference, or propose one below." in response.get_data(as_text=True)

    response = client.post("/applications/new", data=form_data(0, new_conference_name="Nordic Paediatric Oncology Days",
                                                                new_conference_city="Oslo",
                                                                new_conference_country="Norway",
                                                                new_conference_start="2027-05-03",
                                                                new_conference_end="2027-05-05"))
    assert response.status_code == 303
    conference = db.session.scalars(select(Conference)).one()
    assert not conference.confirmed and conference.proposed_by_id == doctor.id
    assert db.session.scalars(select(Application)).one().conference_id == conference.id


def test_searching_conferences_with_and_without_javascript(client, login, make_user, make_conference):
    make_conference(name="ASH Annual Meeting", city="San Diego")
    make_conference(name="EBMT Annual Meeting", city="Vienna")
    make_conference(name="Hidden Proposal", confirmed=False)
    login(make_user(roles=["doctor"]))
    options = client.htmx_get("/applications/conference-options?conference_search=vienna").get_data(as_text=True)
    assert "EBMT Annual Meeting" in options and "ASH" not in options and "<html" not in options
    assert "Hidden Proposal" not in client.htmx_get("/applications/conference-options").get_data(as_text=True)
    page = client.post("/applications/new", data=form_data(0, action="search", conference_search="diego"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ASH Annual Meeting" in html and "EBMT Annual Meeting" not in html


def test_after_changes_requested_the_doctor_edits_and_resubmits(client, login, make_application, make_user):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="changes_requested")
    login(doctor)
    assert client.get(f"/applications/{application.id}/edit").status_code == 200
    response = client.post(f"/applications/{application.id}/edit",
                           data=form_data(application.conference_id, action="submit",
                                          purpose="Updated purpose, as asked."))
    assert response.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.status == "submitted" and application.purpose == "Updated purpose, as asked."


def test_a_submitted_application_cannot_be_edited(client, login, make_application, make_user):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="submitted")
    login(doctor)
    assert client.get(f"/applications/{application.id}/edit").status_code == 409
    response = client.post(f"/applications/{application.id}/edit", data=form_data(application.conference_id))
    assert response.status_code == 409
    assert db.session.get(Application, application.id).purpose == "Learn the new CAR-T protocols."


def test_withdraw(client, login, make_application, make_user):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="submitted")
    login(doctor)
    detail = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f'href="/applications/{application.id}/withdraw"' in detail  # a link: nothing happens on one click
    asked = client.get(f"/applications/{application.id}/withdraw")
    assert asked.status_code == 200 and "Withdraw your application?" in asked.get_data(as_text=True)
    dialog = client.get(f"/applications/{application.id}/withdraw", headers={"HX-Request": "true"})
    assert dialog.get_data(as_text=True).lstrip().startswith("<dialog data-modal")
    unconfirmed = client.post(f"/applications/{application.id}/withdraw")  # an old form, or a forged post
    assert unconfirmed.status_code == 200 and db.session.get(Application, application.id).status == "submitted"
    confirmed = {"confirm": "yes"}
    assert client.post(f"/applications/{application.id}/withdraw", data=confirmed).status_code == 303
    assert db.session.get(Application, application.id).status == "withdrawn"
    assert client.post(f"/applications/{application.id}/withdraw", data=confirmed).status_code == 409


def test_the_running_total_survives_nonsense(client, login, make_user):
    login(make_user(roles=["doctor"]))
    response = client.htmx_post("/applications/estimate", data={
        "budget-registration-amount": "abc", "budget-registration-currency": "EUR",
        "budget-travel-amount": "1e999", "budget-travel-currency": "<b>X</b>",
        "budget-visa-amount": "12.345", "budget-visa-currency": "GBP"})
    assert response.status_code == 200
    assert "<b>X</b>" not in response.get_data(as_text=True)
