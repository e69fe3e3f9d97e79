"""Staff keep donors and their gifts: adding, correcting, searching as they type, recording
gifts, and every page in both languages for staff only."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from portal.blueprints.donors import claims, services
from portal.blueprints.donors.schedule import SCHEDULE_FORMATS
from portal.extensions import db
from portal.models import Donation, Donor

DONOR = {"kind": "individual", "title": "Mrs", "first_name": "Jane", "last_name": "Smith", "organisation_name": "",
         "email": "jane.smith@example.org", "house": "12", "address": "High Street\r\nLondon",
         "postcode": "sw1a 1aa", "country": "GB", "language": "en", "contact_preference": "email",
         "notes": "Met at the spring concert."}
GIFT = {"donation-amount": "50.00", "donation-currency": "GBP", "donation-received_on": "2025-03-03",
        "donation-method": "bank_transfer", "donation-reference": "BANK-0001", "donation-restricted": "y",
        "donation-campaign": "Spring appeal", "donation-notes": ""}


def errors(response) -> list[str]:
    """The error messages shown next to the fields."""
    return [html.unescape(m) for m in
            re.findall(r'<p class="error" id="[^"]+">([^<]*)</p>', response.get_data(as_text=True))]


def field_error(response, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


def donors() -> list[Donor]:
    return db.session.scalars(select(Donor).order_by(Donor.id)).all()


def gifts() -> list[Donation]:
    return db.session.scalars(select(Donation).order_by(Donation.id)).all()


# --- Adding and correcting donors ---------------------------------------------------------

def test_staff_add_a_donor(client, login, staff):
    login(staff)
    assert client.get("/donors/new").status_code == 200
    response = client.post("/donors/new", data=DONOR)
    assert response.status_code == 303
    (donor,) = donors()
    assert response.headers["Location"] == f"/donors/{donor.id}"
    assert (donor.kind, donor.title, donor.first_name, donor.last_name, donor.organisation_name) == (
        "individual", "Mrs", "Jane", "Smith", None)
    assert (donor.email, donor.house, donor.postcode, donor.country, donor.language, donor.contact_preference) == (
        "jane.smith@example.org", "12", "SW1A 1AA", "GB", "en", "email")
    assert donor.address_lines() == ["12 High Street", "London", "SW1A 1AA"]
    assert donor.search_name == "jane smith"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Donor Mrs Jane Smith added." in page and "<h1>Mrs Jane Smith</h1>" in page
    assert "Met at the spring concert." in page


def test_staff_add_an_organisation(client, login, staff):
    login(staff)
    response = client.post("/donors/new", data={**DONOR, "kind": "organisation", "organisation_name": "Acme Ltd",
                                                 "contact_preference": "post"})
    assert response.status_code == 303
    (donor,) = donors()
    assert (donor.kind, donor.organisation_name, donor.display_name) == ("organisation", "Acme Ltd", "Acme Ltd")
    assert (donor.title, donor.first_name, donor.last_name) == (None, None, None)  # a company has no title


DONOR_MISTAKES = [
    ({"last_name": ""}, "last_name", "Enter the last name."),
    ({"first_name": ""}, "first_name", "Enter the first name."),
    ({"kind": "organisation", "organisation_name": ""}, "organisation_name", "Enter the organisation's name."),
    ({"email": ""}, "email", "Enter an e-mail address, or send thanks by post."),
    ({"contact_preference": "post", "address": ""}, "address", "Enter the address the letter goes to."),
    ({"contact_preference": "post", "postcode": ""}, "postcode", "Enter the postcode."),
    ({"title": "Professor"}, "title", "HMRC takes titles of at most 4 letters, such as Mr, Mrs, Ms, Dr or Prof."),
    ({"email": "jane.smith-at-example.org"}, "email", "Enter an e-mail address like name@example.org."),
]


def test_a_donor_with_a_mistake_is_refused_and_what_was_typed_stays(client, login, staff):
    login(staff)
    for changes, field, message in DONOR_MISTAKES:
        data = {**DONOR, **changes}
        response = client.post("/donors/new", data=data)
        assert response.status_code == 422, changes
        assert field_error(response, field) == message, changes
        page = response.get_data(as_text=True)
        for name in ("title", "first_name", "last_name", "email", "house", "organisation_name"):
            if data[name]:
                assert re.search(rf'name="{name}"[^>]*value="{re.escape(data[name])}"', page), (changes, name)
        if data["postcode"]:
            assert re.search(rf'name="postcode"[^>]*value="{data["postcode"].upper()}"', page), changes
        assert "Met at the spring concert.</textarea>" in page
        if data["address"]:
            assert "High Street\r\nLondon</textarea>" in page or "High Street\nLondon</textarea>" in page
        assert re.search(rf'<option selected value="{data["contact_preference"]}">', page), changes
    assert donors() == []


def test_an_overseas_donor_by_post_needs_no_postcode(client, login, staff):
    login(staff)
    response = client.post("/donors/new", data={**DONOR, "contact_preference": "post", "postcode": "",
                                                 "country": "FR", "address": "3 rue de la Paix\r\nParis"})
    assert response.status_code == 303
    assert donors()[0].country == "FR"


def test_staff_correct_a_donor(client, login, staff, make_donor):
    donor = make_donor(first_name="Jane", last_name="Smith")
    login(staff)
    page = client.get(f"/donors/{donor.id}/edit").get_data(as_text=True)
    assert 'value="Smith"' in page
    response = client.post(f"/donors/{donor.id}/edit", data={**DONOR, "last_name": "Smith-Jones", "language": "ru",
                                                             "contact_preference": "post"})
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/{donor.id}"
    donor = db.session.get(Donor, donor.id)
    assert (donor.last_name, donor.language, donor.contact_preference) == ("Smith-Jones", "ru", "post")
    assert donor.search_name == "jane smith-jones"
    assert "Donor details saved." in client.get(f"/donors/{donor.id}").get_data(as_text=True)

    response = client.post(f"/donors/{donor.id}/edit", data={**DONOR, "first_name": ""})
    assert response.status_code == 422 and field_error(response, "first_name") == "Enter the first name."
    assert db.session.get(Donor, donor.id).first_name == "Jane"


# --- Finding donors -----------------------------------------------------------------------

def test_search_as_you_type_returns_only_the_rows(client, login, staff, make_donor):
    make_donor(first_name="Jane", last_name="Smith", email="jane@example.org")
    make_donor(first_name="Bob", last_name="Jones", email="bob@example.org")
    make_donor(kind="organisation", title=None, first_name=None, last_name=None, organisation_name="Smiles Trust")
    login(staff)
    response = client.get("/donors/?q=smi", headers={"HX-Request": "true", "HX-Target": "donor-rows"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and "<h1>" not in fragment
    assert fragment.count("<tr>") == 2
    assert "Mr Jane Smith" in fragment and "Smiles Trust" in fragment and "Jones" not in fragment

    fragment = client.get("/donors/?q=nobody", headers={"HX-Request": "true", "HX-Target": "donor-rows"}
                          ).get_data(as_text=True)
    assert "No donor matches “nobody”." in fragment and "<tr>" not in fragment

    page = client.get("/donors/?q=smi").get_data(as_text=True)  # without htmx: the whole page
    assert "<html" in page and "Mr Jane Smith" in page and "Jones" not in page


def test_search_by_email_and_postcode_and_with_wildcards(client, login, staff, make_donor):
    make_donor(first_name="Jane", last_name="Smith", email="jane@example.org", postcode="EH1 1YZ")
    make_donor(first_name="Bob", last_name="Jones", email="bob@example.org", postcode="SW1A 1AA")
    login(staff)
    headers = {"HX-Request": "true", "HX-Target": "donor-rows"}
    assert "Smith" in client.get("/donors/?q=jane@", headers=headers).get_data(as_text=True)
    assert "Jones" not in client.get("/donors/?q=eh1", headers=headers).get_data(as_text=True)
    assert "Smith" in client.get("/donors/?q=eh1", headers=headers).get_data(as_text=True)
    assert "<tr>" not in client.get("/donors/?q=%25", headers=headers).get_data(as_text=True)  # % is literal


# --- Recording and correcting gifts -------------------------------------------------------

def test_staff_record_a_gift_on_the_donor_page(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    response = client.post(f"/donors/{donor.id}/donations", data=GIFT)
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/{donor.id}#donations"
    (gift,) = gifts()
    assert (gift.donor_id, gift.amount, gift.currency, gift.received_on, gift.method, gift.reference) == (
        donor.id, 5000, "GBP", dt.date(2025, 3, 3), "bank_transfer", "BANK-0001")
    assert (gift.restricted, gift.anonymous, gift.campaign, gift.notes, gift.created_by_id) == (
        True, False, "Spring appeal", None, staff.id)
    assert gift.pending
    page = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "Donation of £50.00 recorded: it awaits thanks." in page
    assert "BANK-0001" in page and "awaiting thanks" in page


def test_an_unrestricted_anonymous_gift_in_another_currency(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    data = {**GIFT, "donation-amount": "1500", "donation-currency": "JPY", "donation-anonymous": "y",
            "donation-reference": ""}
    del data["donation-restricted"]
    assert client.post(f"/donors/{donor.id}/donations", data=data).status_code == 303
    (gift,) = gifts()
    assert (gift.amount, gift.currency, gift.restricted, gift.anonymous, gift.reference) == (1500, "JPY", False,
                                                                                             True, None)


def test_a_gift_with_a_mistake_is_refused(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for changes, field, message in [
        ({"donation-amount": "10.005"}, "donation-amount", "Too many decimal places for GBP."),
        ({"donation-amount": "1.5", "donation-currency": "JPY"}, "donation-amount", "Too many decimal places for JPY."),
        ({"donation-amount": ""}, "donation-amount", "Enter the amount received."),
        ({"donation-amount": "-5"}, "donation-amount", "Enter an amount greater than zero."),
        ({"donation-received_on": tomorrow}, "donation-received_on", "This date is in the future."),
        ({"donation-received_on": ""}, "donation-received_on", "Enter the date the gift was received."),
    ]:
        response = client.post(f"/donors/{donor.id}/donations", data={**GIFT, **changes})
        assert response.status_code == 422, changes
        assert field_error(response, field) == message, changes
        assert 'value="BANK-0001"' in response.get_data(as_text=True)  # the rest stays as typed
    assert gifts() == []


def test_a_gift_of_one_penny_can_be_recorded(client, login, staff, make_donor):
    donor = make_donor()
    login(staff)
    response = client.post(f"/donors/{donor.id}/donations", data={**GIFT, "donation-amount": "0.01"})
    assert response.status_code == 303, errors(response)  # not "Enter an amount greater than zero."
    assert [g.amount for g in gifts()] == [1]


def test_a_reference_is_recorded_once(client, login, staff, make_donor, make_donation):
    first = make_donor(title="Mrs", first_name="Jane", last_name="Smith")
    make_donation(first, 5000, dt.date(2025, 3, 3), reference="BANK-0001")
    other = make_donor()
    login(staff)
    response = client.post(f"/donors/{other.id}/donations", data=GIFT)
    assert response.status_code == 422
    assert field_error(response, "donation-reference") == (
        "A gift with this reference is already recorded (from Mrs Jane Smith, 3 Mar 2025).")
    assert len(gifts()) == 1
    assert client.post(f"/donors/{other.id}/donations",
                       data={**GIFT, "donation-reference": "BANK-0002"}).status_code == 303


def edit_data(**changes):
    data = {f"edit-{key.removeprefix('donation-')}": value for key, value in GIFT.items()}
    data.update({f"edit-{key}": value for key, value in changes.items()})
    return {key: value for key, value in data.items() if value is not None}


def filled_in(page: str, prefix: str) -> dict[str, str]:
    """What a browser would send back for the form fields named ``prefix``…, as the page filled them."""
    data = {}
    for tag in re.findall(rf'<input[^>]*name="{prefix}[^"]*"[^>]*>', page):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                data[name] = value.group(1) if value else "y"
        else:
            data[name] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(rf'<select[^>]*name="({prefix}[^"]*)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option selected value="([^"]*)"', options)
        data[name] = selected.group(1) if selected else ""
    for name, text in re.findall(rf'<textarea[^>]*name="({prefix}[^"]*)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html.unescape(text).lstrip("\r\n")
    return data


def test_staff_correct_a_pending_gift(client, login, staff, make_donor, make_donation):
    gift = make_donation(make_donor(), 5000, dt.date(2025, 3, 3), reference="BANK-0001")
    login(staff)
    response = client.post(f"/donors/donations/{gift.id}/edit",
                           data=edit_data(amount="55.50", received_on="2025-03-04", reference="BANK-0001"))
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/donations/{gift.id}"
    gift = db.session.get(Donation, gift.id)
    assert (gift.amount, gift.received_on, gift.reference) == (5550, dt.date(2025, 3, 4), "BANK-0001")
    assert "Donation saved." in client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)


def test_the_correction_form_shows_the_gift_as_recorded_and_saving_it_keeps_the_amount(
        client, login, staff, make_donor, make_donation):
    gift = make_donation(make_donor(), 5000, dt.date(2025, 3, 3), reference="BANK-0001", campaign="Spring appeal")
    login(staff)
    form = filled_in(client.get(f"/donors/donations/{gift.id}").get_data(as_text=True), "edit-")
    assert form["edit-currency"] == "GBP" and form["edit-received_on"] == "2025-03-03"
    assert form["edit-reference"] == "BANK-0001" and form["edit-campaign"] == "Spring appeal"

    response = client.post(f"/donors/donations/{gift.id}/edit", data={**form, "edit-received_on": "2025-03-04"})
    assert response.status_code == 303
    gift = db.session.get(Donation, gift.id)
    assert gift.received_on == dt.date(2025, 3, 4)
    assert gift.amount == 5000, f"correcting the date made £50.00 into {gift.amount / 100:.2f}"
    assert form["edit-amount"] in ("50", "50.00", "50.0"), form["edit-amount"]  # pounds, not pence


def test_a_correction_that_clashes_with_another_reference_is_refused(client, login, staff, make_donor,
                                                                     make_donation):
    donor = make_donor()
    make_donation(donor, 5000, dt.date(2025, 3, 1), reference="BANK-0001")
    gift = make_donation(donor, 5000, dt.date(2025, 3, 3), reference="BANK-0002")
    login(staff)
    response = client.post(f"/donors/donations/{gift.id}/edit", data=edit_data(amount="70", reference="BANK-0001"))
    assert response.status_code == 422
    assert field_error(response, "edit-reference").startswith("A gift with this reference is already recorded")
    gift = db.session.get(Donation, gift.id)
    assert (gift.amount, gift.reference) == (5000, "BANK-0002")


def test_an_acknowledged_gift_cannot_be_corrected(client, login, staff, make_donor, make_donation):
    gift = make_donation(make_donor(), 5000, dt.date(2025, 3, 3))
    services.acknowledge([gift], by=staff)
    login(staff)
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert 'name="edit-amount"' not in page
    response = client.post(f"/donors/donations/{gift.id}/edit", data=edit_data(amount="99"))
    assert response.status_code == 303
    assert "This gift has been acknowledged: its letter stands as sent." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert db.session.get(Donation, gift.id).amount == 5000


# --- Every page, for whom -----------------------------------------------------------------

@pytest.fixture
def every_page(staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1), first_name="Jane", last_name="Smith")
    gift = make_donation(donor, 5000, dt.date(2025, 3, 3))
    pending = make_donation(donor, 2500, dt.date(2025, 3, 4))
    acknowledgement = services.acknowledge([gift], by=staff)
    report = services.acknowledge_pending(by=staff, workers=1)
    assert report.letters == 1 and pending.id
    claim = claims.create_claim(dt.date(2025, 3, 31), by=staff)
    return {
        "/donors/": "Donors",
        "/donors/?q=smi": "Donors",
        "/donors/new": "Add a donor",
        f"/donors/{donor.id}": "Mr Jane Smith",
        f"/donors/{donor.id}/edit": "Edit donor",
        "/donors/donations": "Donations",
        "/donors/donations?status=all": "Donations",
        f"/donors/donations/{gift.id}": "£50.00 · Mr Jane Smith",
        "/donors/gift-aid": "Gift Aid claims",
        "/donors/gift-aid?page=2": "Gift Aid claims",
        f"/donors/gift-aid/claims/{claim.id}": f"Gift Aid claim {claim.reference}",
        f"/donors/gift-aid/claims/{claim.id}?page=2": f"Gift Aid claim {claim.reference}",
        f"/donors/batches/{report.batch_id}": f"Letters of thanks, batch {report.batch_id}",
        "/donors/imports/new": "Import donations from a CSV file",
    } | {f"/donors/acknowledgements/{acknowledgement.id}/letter.pdf": None} | {
        f"/donors/gift-aid/claims/{claim.id}/schedule-1.{fmt}": None for fmt in ("ods", "xlsx", "csv")}


RUSSIAN_HEADINGS = {"Donors": "Доноры", "Add a donor": "Добавить донора", "Donations": "Пожертвования",
                    "Gift Aid claims": "Заявления на Gift Aid"}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_donors_page_opens_for_staff_in_both_languages(client, login, make_user, every_page, language):
    login(make_user(roles=["staff"], preferred_language=language))
    for url, heading in every_page.items():
        response = client.get(url)
        assert response.status_code == 200, url
        if heading is None:
            assert response.mimetype in ("application/pdf", *SCHEDULE_FORMATS.values()), url
            continue
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, url
        h1 = html.unescape(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)).strip()
        if language == "en":
            assert h1 == heading, url
        elif heading in RUSSIAN_HEADINGS:
            assert h1 == RUSSIAN_HEADINGS[heading], url
        else:
            assert re.search("[а-яА-Я]", h1) or "Jane Smith" in h1, (url, h1)


def test_every_donors_page_is_refused_to_a_doctor_and_asks_strangers_to_sign_in(client, login, make_user,
                                                                                every_page):
    for url in every_page:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    login(make_user(roles=["doctor"]))
    for url in every_page:
        assert client.get(url).status_code == 403, url


def test_the_country_list_holds_only_iso_countries_in_both_languages(client, login, staff):
    import re

    login(staff)
    for language, expected in (("en", "France"), ("ru", "Франция")):
        client.post("/language", data={"lang": language})
        page = client.get("/donors/new").get_data(as_text=True)
        options = dict(re.findall(r'<option[^>]*value="([A-Z]{2})"[^>]*>([^<]+)</option>',
                                  re.search(r'<select[^>]*name="country".*?</select>', page, re.S)[0]))
        assert options["FR"] == expected and next(iter(options)) == "GB"
        assert not {"EU", "EZ", "UN", "XA", "XB", "ZZ", "QO", "XK"} & set(options)
        assert len(options) == 249
    refused = client.post("/donors/new", data={"kind": "individual", "last_name": "Smith", "country": "EU",
                                               "contact_preference": "none", "language": "en"})
    assert refused.status_code == 422
