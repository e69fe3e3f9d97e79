"""The donor's letters, read back from the PDF: the thank-you in the donor's language with
the Gift Aid sentence exactly when it applies, and the impact statement without personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.blueprints.donors import services
from portal.extensions import db
from portal.models import GiftAidDeclaration, Letter
from tests.fixtures.pdf import flat_text

RECEIVED = dt.date(2025, 3, 3)
GIFT_AID_EN = "Because you have made a Gift Aid declaration"
GIFT_AID_RU = "декларацию Gift Aid"


def thank(make_donation, donor, staff, amount=5000, **fields):
    donation = make_donation(donor, amount, RECEIVED, **fields)
    acknowledgement = services.acknowledge([donation], by=staff)
    return acknowledgement, flat_text(acknowledgement.letter.pdf)


def test_an_english_letter_with_gift_aid(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), title="Mrs", first_name="Jane", last_name="Smith")
    acknowledgement, text = thank(make_donation, donor, staff)
    assert "Thank you for your support" in text
    assert "Dear Mrs Smith," in text
    assert "Thank you for your generous gift of £50.00, received on 3 March 2025." in text
    assert GIFT_AID_EN in text
    assert "we will claim £12.50 of Gift Aid from HMRC on your gift: 25p for every £1" in text
    assert acknowledgement.letter.reference in text
    assert acknowledgement.letter.language == "en"


def test_an_english_letter_by_post_is_addressed_to_the_donor(staff, make_donor, make_donation):
    donor = make_donor(contact_preference="post", title="Mrs", first_name="Jane", last_name="Smith", house="12",
                       address="High Street\nLondon", postcode="SW1A 1AA")
    _acknowledgement, text = thank(make_donation, donor, staff)
    assert "Mrs Jane Smith 12 High Street London SW1A 1AA" in text


def test_a_letter_posted_abroad_names_the_country(staff, make_donor, make_donation):
    donor = make_donor(contact_preference="post", title="Mr", first_name="Pierre", last_name="Dupont",
                       house="Villa Rose", address="3 rue de la Paix\nParis", postcode="75002", country="FR")
    _acknowledgement, text = thank(make_donation, donor, staff)
    assert "Mr Pierre Dupont Villa Rose 3 rue de la Paix Paris 75002" in text
    assert "france" in text.lower()  # the envelope's last line: without it the letter stays in the UK


def _no_declaration(make_donor):
    return make_donor(title="Mrs", first_name="Jane", last_name="Smith")


def _organisation(make_donor):
    company = make_donor(kind="organisation", title=None, first_name=None, last_name=None,
                         organisation_name="Acme Widgets Ltd")
    db.session.add(GiftAidDeclaration(donor=company, made_on=dt.date(2024, 1, 1)))  # on file, but void
    db.session.commit()
    return company


def _cancelled(make_donor):
    donor = make_donor(title="Mrs", first_name="Jane", last_name="Smith")
    db.session.add(GiftAidDeclaration(donor=donor, made_on=dt.date(2024, 1, 1), cancelled_on=dt.date(2025, 1, 1)))
    db.session.commit()
    return donor


def _future_only(make_donor):
    donor = make_donor(title="Mrs", first_name="Jane", last_name="Smith")
    db.session.add(GiftAidDeclaration(donor=donor, made_on=dt.date(2025, 6, 1), covers_past=False))
    db.session.commit()
    return donor


@pytest.mark.parametrize("make", [_no_declaration, _organisation, _cancelled, _future_only])
def test_no_gift_aid_sentence_when_the_gift_is_not_eligible(staff, make_donor, make_donation, make):
    _acknowledgement, text = thank(make_donation, make(make_donor), staff)
    assert "£50.00" in text and "3 March 2025" in text
    assert "Gift Aid" not in text


def test_no_gift_aid_sentence_when_the_donor_received_more_than_hmrc_allows(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    _acknowledgement, text = thank(make_donation, donor, staff, amount=10000, benefit_value=2501)
    assert "£100.00" in text and "Gift Aid" not in text
    _acknowledgement, text = thank(make_donation, donor, staff, amount=10000, benefit_value=2500)  # at the limit
    assert "we will claim £25.00 of Gift Aid" in text


def test_a_letter_for_gifts_partly_covered_states_only_what_will_be_claimed(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    gifts = [make_donation(donor, 4000, RECEIVED), make_donation(donor, 6000, RECEIVED, currency="EUR")]
    text = flat_text(services.acknowledge(gifts, by=staff).letter.pdf)
    assert "we will claim £10.00 of Gift Aid from HMRC on the gifts it covers" in text


def test_no_gift_aid_sentence_for_a_gift_in_euros(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    _acknowledgement, text = thank(make_donation, donor, staff, currency="EUR")
    assert "€50.00" in text and "Gift Aid" not in text


def test_an_organisation_is_greeted_by_its_name(staff, make_donor, make_donation):
    _acknowledgement, text = thank(make_donation, _organisation(make_donor), staff)
    assert "Dear friends at Acme Widgets Ltd," in text


def test_a_russian_letter(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), language="ru", title=None, first_name="Иван",
                       last_name="Петров")
    acknowledgement, text = thank(make_donation, donor, staff)
    assert "Спасибо за вашу поддержку" in text
    assert "Здравствуйте, Иван Петров!" in text
    assert "3 марта 2025 г. мы получили ваше щедрое пожертвование в размере 50,00 £." in text
    assert GIFT_AID_RU in text and "мы запросим у HMRC 12,50 £ по программе Gift Aid" in text
    assert "С искренней благодарностью," in text and "Исх." in text
    for english in ("Thank you", "Dear", "Because you have", "Your support", "Since", "received on", "March",
                    "£50.00", "Page", "Ref.", "Check that this letter", "With warm thanks", "None of it"):
        assert english not in text, english
    assert acknowledgement.letter.language == "ru"


def test_a_russian_letter_without_gift_aid(staff, make_donor, make_donation):
    donor = make_donor(language="ru", first_name="Иван", last_name="Петров")
    _acknowledgement, text = thank(make_donation, donor, staff)
    assert "Спасибо" in text and "50,00 £" in text
    assert "Gift Aid" not in text


def test_one_letter_for_several_gifts_lists_each(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), language="ru", first_name="Иван", last_name="Петров")
    gifts = [make_donation(donor, 2500, dt.date(2025, 3, 3)), make_donation(donor, 1000, dt.date(2025, 5, 20))]
    text = flat_text(services.acknowledge(gifts, by=staff).letter.pdf)
    assert "3 марта 2025 г. 25,00 £" in text and "20 мая 2025 г. 10,00 £" in text
    assert GIFT_AID_RU in text


def test_staff_download_the_letter_and_others_may_not(app, client, login, staff, make_user, make_donor,
                                                      make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    acknowledgement, _text = thank(make_donation, donor, staff)
    url = f"/donors/acknowledgements/{acknowledgement.id}/letter.pdf"
    assert client.get(url).status_code == 302  # to the login page

    login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == acknowledgement.letter.pdf
    assert f'filename={acknowledgement.letter.reference}.pdf' in response.headers["Content-Disposition"]
    assert GIFT_AID_EN in flat_text(response.data)

    doctor_browser = app.test_client()
    doctor = make_user(roles=["doctor"])
    assert doctor_browser.post("/login", data={"email": doctor.email, "password": "correct horse battery"}
                               ).status_code == 303
    assert doctor_browser.get(url).status_code == 403


def test_the_verification_page_says_the_letter_is_valid(client, staff, make_donor, make_donation):
    donor = make_donor(title="Mrs", first_name="Jane", last_name="Smith")
    acknowledgement, text = thank(make_donation, donor, staff)
    letter = acknowledgement.letter
    assert f"/verify/{letter.token}" in text  # printed on the letter
    response = client.get(f"/verify/{letter.token}")  # nobody signed in
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Valid: this letter was issued by" in html
    assert letter.reference in html and "Jane Smith" in html and "Thank-you letter" in html
    assert donor.email not in html and "SW1A" not in html
    # A thank-you letter is labelled as one: its amount is not an "Event or visit"
    assert "<dt>Thanks for gifts of</dt>" in html and "<dt>Written to</dt>" in html
    assert "Event or visit" not in html and "Issued to" not in html


def test_a_title_is_never_an_initial():
    from portal.blueprints.donors.letters import initials

    assert initials("Dr Daria Ivanova Jones") == "D. I. J."
    assert initials("Prof. Anna Petrova") == "A. P." and initials("Anna Petrova") == "A. P."
    assert initials("доктор Анна Петрова") == "А. П."


# --- The impact statement -----------------------------------------------------------------

@pytest.fixture
def funded_place(make_user, make_clinic, make_conference, make_application):
    doctor = make_user(roles=["doctor"], name="Anna Petrovna Ivanova", email="anna.ivanova@example.org",
                       specialty="Haematology", clinic=make_clinic(name="Moscow Partner Clinic"))
    conference = make_conference(name="EHA Congress", city="Stockholm", country="Sweden",
                                 start_date=dt.date(2027, 6, 11), end_date=dt.date(2027, 6, 14))
    application = make_application(doctor=doctor, conference=conference, status="approved",
                                   lines={"registration": (60000, "GBP"), "travel": (40000, "GBP")})
    for line in application.budget_lines:
        line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
    db.session.commit()
    return application


def test_the_impact_statement_names_the_place_but_not_the_doctor(client, login, staff, make_donor, make_donation,
                                                                 funded_place):
    donor = make_donor(title="Mrs", first_name="Jane", last_name="Smith")
    gift = make_donation(donor, 50000)
    services.allocate(gift, funded_place, 30000, by=staff)
    login(staff)
    response = client.post(f"/letters/donor_impact/{donor.id}/issue", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = flat_text(response.data)
    assert "What your gifts made possible" in text and "Dear Mrs Smith," in text
    assert "A place for Dr A. P. I., Haematology, at EHA Congress, Stockholm, June 2027 — £300.00" in text
    for private in ("Anna", "Petrovna", "Ivanova", "anna.ivanova@example.org", "Moscow Partner Clinic"):
        assert private not in text, private
    letter = db.session.scalars(select(Letter).where(Letter.kind == "donor_impact")).one()
    assert letter.subject_id == donor.id and letter.pdf == response.data

    assert client.get(f"/letters/donor_impact/{donor.id}").data == response.data  # nothing changed: the same letter
    services.allocate(gift, funded_place, 10000, by=staff)
    assert "Issue an updated letter" in client.get(f"/letters/donor_impact/{donor.id}").get_data(as_text=True)
    newer = client.post(f"/letters/donor_impact/{donor.id}/issue", follow_redirects=True)
    assert "£300.00, £100.00" in flat_text(newer.data)
    letters = db.session.scalars(select(Letter).where(Letter.kind == "donor_impact").order_by(Letter.id)).all()
    assert [item.status for item in letters] == ["superseded", "valid"]


def test_the_impact_statement_in_russian(client, login, staff, make_donor, make_donation, funded_place):
    donor = make_donor(language="ru", first_name="Иван", last_name="Петров")
    services.allocate(make_donation(donor, 50000), funded_place, 30000, by=staff)
    login(staff)
    text = flat_text(client.post(f"/letters/donor_impact/{donor.id}/issue", follow_redirects=True).data)
    assert "Что стало возможным благодаря вам" in text
    assert "Участие врача A. P. I. (Haematology) в конференции «EHA Congress», Stockholm, июнь 2027" in text
    assert "300,00 £" in text
    assert "Ivanova" not in text and "Your gifts" not in text


def test_no_impact_statement_before_a_gift_is_allocated(client, login, staff, make_donor, make_donation):
    donor = make_donor()
    make_donation(donor, 50000)
    login(staff)
    response = client.get(f"/letters/donor_impact/{donor.id}")
    assert response.status_code == 409
    assert client.post(f"/letters/donor_impact/{donor.id}/issue").status_code == 409
    assert "allocated to a funded application or visit yet" in response.get_data(as_text=True)
    assert db.session.scalars(select(Letter)).all() == []
