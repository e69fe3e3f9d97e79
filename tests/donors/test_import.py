"""Importing donations from a bank's or a platform's CSV export: upload, choose the columns,
preview every row's outcome, import the good rows in one transaction."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from portal.blueprints.donors.imports import mapping as column_mapping
from portal.blueprints.donors.imports import parsing, reading
from portal.extensions import db
from portal.models import AuditEvent, Donation, DonationImport, Donor

TODAY = dt.date.today()


def day(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


def dmy(days_ago: int, separator: str = "/") -> str:
    return day(days_ago).strftime(f"%d{separator}%m{separator}%Y")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(client, content: bytes, filename: str = "bank.csv"):
    return client.post("/donors/imports/new", data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def text_of(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def selected(page: str, field_id: str) -> str:
    """The label of the option chosen in a select."""
    options = re.search(rf'<select[^>]*id="{field_id}"[^>]*>(.*?)</select>', page, re.S)[1]
    return text_of(re.search(r"<option[^>]*\bselected\b[^>]*>(.*?)</option>", options)[1])


def row_text(page: str, number: int) -> str:
    return text_of(re.search(rf'<tr id="row-{number}"[^>]*>(.*?)</tr>', page, re.S)[1])


def form_values(page: str) -> dict[str, str]:
    """What the browser would send for the mapping form as the page shows it."""
    form = re.search(r'<form[^>]*id="import-form".*?</form>', page, re.S)[0]
    values = {}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option[^>]*\bselected\b[^>]*>', options)
        values[name] = html_lib.unescape(re.search(r'value="([^"]*)"', chosen[0])[1]) if chosen else ""
    for attrs in re.findall(r"<input([^>]*)>", form):
        name = re.search(r'name="([^"]+)"', attrs)
        if not name or name[1] == "csrf_token":
            continue
        if 'type="checkbox"' in attrs:
            if re.search(r"\bchecked\b", attrs):
                values[name[1]] = "y"
        elif 'type="hidden"' in attrs:
            values[name[1]] = re.search(r'value="([^"]*)"', attrs)[1]
    return values


def bank_file() -> bytes:
    return (
        "Date,Amount,Reference,Name,Email,Method\r\n"
        f"{dmy(10)},25.00,BANK-001,Alice Newdonor,,Bank transfer\r\n"
        f'{dmy(9)},"1,250.00",BANK-002,K KNOWN,kate@example.org,BACS\r\n'
        f"{dmy(8)},£10.50,BANK-003,Alice Newdonor,,card\r\n"
        f"{dmy(7)},40.00,OLD-REF,Bob Old,,cash\r\n"
        f"{dmy(6)},15.00,BANK-002,K Known,kate@example.org,BACS\r\n"
        f"{dmy(5)},abc,BANK-006,Carl Bad,,cheque\r\n"
        f"{dmy(4)},5.00,JG-77,Jane Existing,,JustGiving\r\n"
    ).encode()


@pytest.fixture
def known(make_donor, make_donation):
    """Kate (found by her e-mail address), Jane (found by name) and a gift already recorded."""
    kate = make_donor(first_name="Kate", last_name="Known", email="Kate@Example.org")
    jane = make_donor(first_name="Jane", last_name="Existing", email="jane@example.org")
    make_donation(make_donor(first_name="Bob", last_name="Old"), 4000, reference="OLD-REF")
    return kate, jane


def uploaded(client, content: bytes, filename: str = "bank.csv") -> tuple[str, str]:
    response = upload(client, content, filename)
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    url = response.headers["Location"]
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def test_upload_preview_refuse_then_import_the_good_rows(client, login, staff, known):
    kate, jane = known
    login(staff)
    url, page = uploaded(client, bank_file())

    # The columns are guessed from the header row.
    assert selected(page, "col_date") == "Date"
    assert selected(page, "col_amount") == "Amount"
    assert selected(page, "col_reference") == "Reference"
    assert selected(page, "col_name") == "Name"
    assert selected(page, "col_email") == "Email"
    assert selected(page, "col_method") == "Method"
    assert selected(page, "col_currency") == "— not in the file —"
    assert selected(page, "default_currency") == "GBP"

    # The preview names each row's outcome, numbered as in the file (the header is row 1).
    response = client.post(url, data={**form_values(page), "action": "preview"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "will be imported" in row_text(page, 2) and "new donor will be created" in row_text(page, 2)
    assert "£1,250.00" in row_text(page, 3)
    assert "Kate Known" in row_text(page, 3) and "matched by e-mail" in row_text(page, 3)
    assert "new donor will be created" in row_text(page, 4) and "£10.50" in row_text(page, 4)
    assert "duplicate: reference already recorded" in row_text(page, 5)
    assert "duplicate: reference already on row 3" in row_text(page, 6)
    assert "error: “abc” is not an amount." in row_text(page, 7)
    assert "Jane Existing" in row_text(page, 8) and "matched by name" in row_text(page, 8)
    counts = text_of(re.search(r'<ul class="links" id="import-counts">(.*?)</ul>', page, re.S)[1])
    assert counts == ("4 will be imported 2 duplicates will be skipped 1 row with errors "
                      "1 new donor will be created")
    assert "Total to import: £1,290.50" in text_of(page)

    # Importing without saying the bad row may be left out imports nothing.
    values = form_values(page)
    assert "skip_errors" not in values and values["error_count"] == "1"
    response = client.post(url, data={**values, "action": "import"})
    assert response.status_code == 422
    assert "1 row has an error, so nothing was imported" in text_of(response.get_data(as_text=True))
    assert count(Donation) == 1 and count(Donor) == 3
    assert db.session.get(DonationImport, int(url.rsplit("/", 1)[1])).imported_at is None

    # Confirmed: exactly the four good rows, pending, in one import.
    confirmed = {**form_values(response.get_data(as_text=True)), "skip_errors": "y", "action": "import"}
    response = client.post(url, data=confirmed)
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    the_import = db.session.scalars(select(DonationImport)).one()
    assert the_import.imported_at is not None
    donations = db.session.scalars(select(Donation).where(Donation.import_id == the_import.id)
                                   .order_by(Donation.received_on)).all()
    assert [(d.reference, d.amount, d.currency, d.received_on) for d in donations] == [
        ("BANK-001", 2500, "GBP", day(10)), ("BANK-002", 125000, "GBP", day(9)),
        ("BANK-003", 1050, "GBP", day(8)), ("JG-77", 500, "GBP", day(4))]
    assert [d.method for d in donations] == ["bank_transfer", "bank_transfer", "card", "online_platform"]
    assert all(d.pending and d.restricted and d.created_by_id == staff.id for d in donations)
    alice = db.session.scalars(select(Donor).where(Donor.last_name == "Newdonor")).one()
    assert (alice.first_name, alice.email, alice.contact_preference, alice.search_name) == (
        "Alice", None, "post", "alice newdonor")
    assert [d.donor_id for d in donations] == [alice.id, kate.id, alice.id, jane.id]
    assert count(Donor) == 4 and count(Donation) == 5
    assert the_import.result["imported"] == 4 and the_import.result["duplicates"] == 2
    assert [(entry["row"], entry["outcome"]) for entry in the_import.result["skipped"]] == [
        (5, "duplicate"), (6, "duplicate"), (7, "error")]
    assert the_import.mapping["columns"]["amount"] == 1 and the_import.mapping["headers"]["amount"] == "Amount"

    # The audit trail: one entry for the import, one per gift, one for the new donor.
    actions = [tuple(entry) for entry in db.session.execute(
        select(AuditEvent.action, AuditEvent.subject_type, AuditEvent.to_state))]
    assert actions.count(("donations_imported", "donation_imports", None)) == 1
    assert actions.count(("donation_recorded", "donations", "pending")) == 4
    assert actions.count(("donor_added", "donors", None)) == 1

    # The result page reports what was skipped and why, and leads to the gifts awaiting thanks.
    result = client.get(response.headers["Location"])
    assert result.status_code == 200
    page = result.get_data(as_text=True)
    assert "4 donations imported: they await thanks." in text_of(page)
    assert "1 new donor was added: complete their details before thanking them." in text_of(page)
    assert "duplicate: reference already recorded" in row_text(page, 5)
    assert "duplicate: reference already on row 3 of this file" in row_text(page, 6)
    assert "error: “abc” is not an amount." in row_text(page, 7)
    assert "Alice Newdonor" in text_of(page) and "rows 2, 4" in text_of(page)
    assert 'href="/donors/donations?status=pending"' in page

    # Importing it again is refused: nothing doubles.
    again = client.post(url, data=confirmed)
    assert again.status_code == 303
    assert "imported already: nothing was imported again" in text_of(client.get(again.headers["Location"])
                                                                       .get_data(as_text=True))
    assert count(Donation) == 5 and count(Donor) == 4


def test_a_reference_recorded_after_the_preview_is_skipped_as_a_duplicate(client, login, staff, known,
                                                                          make_donor, make_donation):
    login(staff)
    url, page = uploaded(client, bank_file())
    page = client.post(url, data={**form_values(page), "action": "preview"}).get_data(as_text=True)
    assert "will be imported" in row_text(page, 4)

    # Meanwhile someone records the gift of row 4 by hand.
    make_donation(make_donor(first_name="Alice", last_name="Other"), 1050, reference="BANK-003")

    response = client.post(url, data={**form_values(page), "skip_errors": "y", "action": "import"})
    assert response.status_code == 303
    the_import = db.session.scalars(select(DonationImport)).one()
    assert the_import.result["imported"] == 3 and the_import.result["duplicates"] == 3
    assert db.session.scalar(select(func.count()).where(Donation.reference == "BANK-003")) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "duplicate: reference already recorded" in row_text(page, 4)


def test_a_clash_in_the_database_rolls_back_the_whole_import(client, login, staff, known, make_donor):
    """Someone records one of the file's references in the very transaction's window: the
    database refuses the import and nothing of it remains."""
    login(staff)
    other = make_donor()
    url, page = uploaded(client, bank_file())
    values = {**form_values(page), "skip_errors": "y", "action": "import"}
    donations, donors, audit_events = count(Donation), count(Donor), count(AuditEvent)

    def record_the_same_reference_first(session, flush_context, instances):
        imported = [o for o in session.new if isinstance(o, Donation) and o.import_id is not None]
        if imported:
            session.connection().execute(insert(Donation.__table__).values(
                donor_id=other.id, amount=100, currency="GBP", received_on=day(1), method="cash",
                reference=imported[-1].reference, restricted=True, anonymous=False))

    event.listen(Session, "before_flush", record_the_same_reference_first)
    try:
        response = client.post(url, data=values)
    finally:
        event.remove(Session, "before_flush", record_the_same_reference_first)

    assert response.status_code == 422
    assert "Nothing was imported: the database refused one of the gifts" in text_of(response.get_data(as_text=True))
    assert (count(Donation), count(Donor), count(AuditEvent)) == (donations, donors, audit_events)
    assert db.session.scalars(select(DonationImport)).one().imported_at is None

    # Nothing is left half-done: the same import then goes through.
    response = client.post(url, data=values)
    assert response.status_code == 303
    assert count(Donation) == donations + 4


def test_a_semicolon_separated_windows_file_with_decimal_commas(client, login, staff):
    login(staff)
    content = (
        "Date;Amount;Ref;Payer;Currency\r\n"
        f"{dmy(3, '.')};25,00;SO-1;Zoë Müller;EUR\r\n"
        f"{dmy(2, '.')};€1.250,00;SO-2;Zoë Müller;EUR\r\n"
        f"{dmy(1, '.')};£7,50;SO-3;MRS ANNE O'NEIL;GBP\r\n"
    ).encode("cp1252")
    url, page = uploaded(client, content, "kontoauszug.csv")
    assert "columns separated by semicolons" in page
    assert (selected(page, "col_amount"), selected(page, "col_reference"), selected(page, "col_name"),
            selected(page, "col_currency")) == ("Amount", "Ref", "Payer", "Currency")
    assert "Zoë Müller" in row_text(page, 2) and "€25.00" in row_text(page, 2)
    assert "€1,250.00" in row_text(page, 3)

    response = client.post(url, data={**form_values(page), "action": "import"})
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    donations = db.session.scalars(select(Donation).order_by(Donation.received_on)).all()
    assert [(d.amount, d.currency, d.received_on, d.method) for d in donations] == [
        (2500, "EUR", day(3), "bank_transfer"), (125000, "EUR", day(2), "bank_transfer"),
        (750, "GBP", day(1), "bank_transfer")]
    zoe, anne = donations[0].donor, donations[2].donor
    assert donations[1].donor_id == zoe.id
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Müller")
    assert (anne.title, anne.first_name, anne.last_name) == ("Mrs", "Anne", "O'Neil")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"\r\n \r\n", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This is not a CSV file: it holds binary data."),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV file: it holds binary data."),
    (b"Date,Amount,Reference\r\n", "The file has a header row but no rows of donations."),
    (b"01/02/2026,25.00,R1\r\n02/02/2026,10.00,R2\r\n", "The first row must name the columns"),
    (b"Amount\r\n25.00\r\n", "Only one column was found."),
])
def test_a_file_that_cannot_be_imported_is_refused_with_a_reason(client, login, staff, content, message):
    login(staff)
    response = upload(client, content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in text_of(re.search(r'<p class="error" id="file-error">(.*?)</p>', page, re.S)[1])
    assert count(DonationImport) == 0


def test_no_file_or_a_file_too_large_is_refused(client, login, staff):
    login(staff)
    response = client.post("/donors/imports/new", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose the CSV file to import." in response.get_data(as_text=True)
    too_large = b"Date,Amount\r\n" + b"01/02/2026,25.00\r\n" * (reading.MAX_BYTES // 18 + 1)
    # The body written out by hand: the test client would spool a file this size to disk and leave it open.
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + too_large + b"\r\n--b0undary--\r\n")
    response = client.post("/donors/imports/new", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert response.status_code == 422
    assert "The file is larger than 2 MB" in response.get_data(as_text=True)
    assert count(DonationImport) == 0


def test_each_kind_of_bad_row_is_named(client, login, staff):
    login(staff)
    future = (TODAY + dt.timedelta(days=3)).strftime("%d/%m/%Y")
    content = (
        "Date,Amount,Currency,Name,Method\r\n"
        f"{future},10.00,GBP,A One,card\r\n"
        f"{dmy(1)},-10.00,GBP,A Two,card\r\n"
        f"{dmy(1)},10.005,GBP,A Three,card\r\n"
        f"{dmy(1)},10.00,XYZ,A Four,card\r\n"
        f"{dmy(1)},10.00,GBP,A Five,carrier pigeon\r\n"
        f"{dmy(1)},10.00,GBP,,card\r\n"
        "31/02/2026,10.00,GBP,A Six,card\r\n"
        f"{dmy(1)},,GBP,A Seven,card\r\n"
        f"{dmy(1)},1000,JPY,A Eight,Cheque\r\n"
        f"{dmy(1)},0.00,GBP,A Nine,cash\r\n"
    ).encode()
    url, page = uploaded(client, content)
    assert "is in the future" in row_text(page, 2)
    assert "not a gift: the amount is zero or negative (a refund?)" in row_text(page, 3)
    assert "10.005 has more decimal places than GBP has" in row_text(page, 4)
    assert "“XYZ” is not a currency the portal takes" in row_text(page, 5)
    assert "“carrier pigeon” is not a method the portal knows" in row_text(page, 6)
    assert "No donor name or e-mail address" in row_text(page, 7)
    assert "“31/02/2026” is not a date written day/month/year" in row_text(page, 8)
    assert "No amount" in row_text(page, 9)
    assert "will be imported" in row_text(page, 10) and "¥1,000" in row_text(page, 10)
    assert "not a gift" in row_text(page, 11)

    response = client.post(url, data={**form_values(page), "skip_errors": "y", "action": "import"})
    assert response.status_code == 303
    (donation,) = db.session.scalars(select(Donation)).all()
    assert (donation.amount, donation.currency, donation.method, donation.reference) == (1000, "JPY", "cheque", None)


def test_the_preview_follows_the_chosen_columns_in_place_with_htmx(client, login, staff):
    login(staff)
    content = (
        "Booked,Value date,Paid in,Counterparty,Narrative\r\n"
        f"{dmy(2)},{dmy(1)},12.00,Jo Bloggs,Spring appeal\r\n"
    ).encode()
    url, page = uploaded(client, content)
    assert selected(page, "col_date") == "Value date" and selected(page, "col_amount") == "Paid in"
    assert selected(page, "col_name") == "— not in the file —"
    assert "Choose the columns with the date, the amount and the donor's name" in text_of(page)

    values = {**form_values(page), "col_name": "3", "col_campaign": "4"}
    response = client.htmx_post(url, data=values, headers={"HX-Target": "import-preview"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="import-preview"')
    assert "Jo Bloggs" in row_text(fragment, 2) and "will be imported" in row_text(fragment, 2)

    # The choice is kept for the next visit.
    page = client.get(url).get_data(as_text=True)
    assert selected(page, "col_name") == "Counterparty" and selected(page, "col_campaign") == "Narrative"

    response = client.post(url, data={**form_values(page), "restricted": "", "action": "import"})
    assert response.status_code == 303
    donation = db.session.scalars(select(Donation)).one()
    assert (donation.campaign, donation.restricted, donation.received_on) == ("Spring appeal", False, day(1))


def test_a_mapping_without_date_or_with_a_column_twice_is_refused(client, login, staff):
    login(staff)
    url, page = uploaded(client, bank_file())
    response = client.post(url, data={**form_values(page), "col_date": "", "action": "preview"})
    assert response.status_code == 422
    assert "Choose the column that holds the date each gift was received." in response.get_data(as_text=True)
    response = client.post(url, data={**form_values(page), "col_campaign": "3", "action": "import"})
    assert response.status_code == 422
    assert "This column is already chosen for “Donor name”." in text_of(response.get_data(as_text=True))
    assert count(Donation) == 0


def test_the_confirmation_must_match_the_rows_with_errors(client, login, staff):
    login(staff)
    url, page = uploaded(client, bank_file())
    assert form_values(page)["error_count"] == "1"
    # The columns changed after the preview: the amount column now fails on every row.
    response = client.post(url, data={**form_values(page), "col_amount": "2", "col_reference": "",
                                      "skip_errors": "y", "action": "import"})
    assert response.status_code == 422
    assert "tick the box again" in text_of(response.get_data(as_text=True))
    assert count(Donation) == 0


def test_a_file_of_duplicates_only_imports_nothing(client, login, staff, make_donor, make_donation):
    login(staff)
    make_donation(make_donor(), 2500, reference="BANK-001")
    url, page = uploaded(client, f"Date,Amount,Reference,Name\r\n{dmy(1)},25.00,BANK-001,Someone\r\n".encode())
    assert "duplicate: reference already recorded" in row_text(page, 2)
    response = client.post(url, data={**form_values(page), "action": "import"})
    assert response.status_code == 422
    assert "Nothing to import" in response.get_data(as_text=True)
    assert count(Donation) == 1
    assert db.session.scalars(select(DonationImport)).one().imported_at is None


def test_a_doctor_cannot_import(client, login, make_user):
    the_import = DonationImport(filename="bank.csv", content="Date,Amount,Name\r\n01/01/2026,5.00,A B\r\n")
    db.session.add(the_import)
    db.session.commit()
    login(make_user(roles=["doctor"]))
    assert client.get("/donors/imports/new").status_code == 403
    assert upload(client, bank_file()).status_code == 403
    assert client.get(f"/donors/imports/{the_import.id}").status_code == 403
    assert client.post(f"/donors/imports/{the_import.id}", data={"action": "import"}).status_code == 403
    assert count(DonationImport) == 1 and count(Donation) == 0


def test_the_upload_page_lists_recent_uploads(client, login, staff):
    login(staff)
    url, _page = uploaded(client, bank_file(), "march.csv")
    page = client.get("/donors/imports/new").get_data(as_text=True)
    assert f'href="{url}"' in page and "march.csv" in page and "not imported yet" in page


# --- Reading values ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "amount", "negative", "currency"), [
    ("25", Decimal("25"), False, None),
    ("1,234.56", Decimal("1234.56"), False, None),
    ("25,00", Decimal("25.00"), False, None),
    ("1 234,56", Decimal("1234.56"), False, None),
    ("1.234,56", Decimal("1234.56"), False, None),
    ("£10.50", Decimal("10.50"), False, "GBP"),
    ("€ 7,50", Decimal("7.50"), False, "EUR"),
    ("$12", Decimal("12"), False, None),
    ("EUR 30.00", Decimal("30.00"), False, "EUR"),
    ("30.00 USD", Decimal("30.00"), False, "USD"),
    ("-5.00", Decimal("5.00"), True, None),
    ("(5.00)", Decimal("5.00"), True, None),
    ("5.00 DR", Decimal("5.00"), True, None),
    ("5.00 CR", Decimal("5.00"), False, None),
])
def test_amounts_are_read_as_exports_write_them(text, amount, negative, currency):
    assert parsing.parse_amount(text) == (amount, negative, currency)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "12.3.4", "XYZ 5", "£5 EUR", "1e5", "NaN", ""])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(ValueError):
        parsing.parse_amount(text)


@pytest.mark.parametrize(("text", "date_format", "expected"), [
    ("31/12/2025", "dmy", dt.date(2025, 12, 31)),
    ("31.12.2025", "dmy", dt.date(2025, 12, 31)),
    ("31-12-2025", "dmy", dt.date(2025, 12, 31)),
    ("31/12/25", "dmy", dt.date(2025, 12, 31)),
    ("2025-12-31", "ymd", dt.date(2025, 12, 31)),
    ("2025-12-31", "dmy", dt.date(2025, 12, 31)),
    ("12/31/2025", "mdy", dt.date(2025, 12, 31)),
    ("03/04/2025", "mdy", dt.date(2025, 3, 4)),
    ("03 Jan 2025", "dmy", dt.date(2025, 1, 3)),
    ("31/12/2025 14:22", "dmy", dt.date(2025, 12, 31)),
    ("2025-12-31T14:22:00Z", "mdy", dt.date(2025, 12, 31)),
    ("12/31/2025", "dmy", None),
    ("31/12/2025", "ymd", None),
    ("yesterday", "dmy", None),
])
def test_dates_are_read_in_the_chosen_format(text, date_format, expected):
    assert parsing.parse_date(text, date_format) == expected


@pytest.mark.parametrize(("text", "method"), [
    ("Card", "card"), ("VISA debit", "card"), ("Cheque", "cheque"), ("check", "cheque"), ("CASH", "cash"),
    ("Bank transfer", "bank_transfer"), ("BACS", "bank_transfer"), ("Faster Payment", "bank_transfer"),
    ("Standing order", "bank_transfer"), ("JustGiving", "online_platform"), ("PayPal", "online_platform"),
    ("online", "online_platform"), ("bank_transfer", "bank_transfer"), ("carrier pigeon", None),
])
def test_methods_are_read_from_common_words(app, text, method):
    assert parsing.parse_method(text) == method


def test_columns_are_guessed_from_the_header():
    assert column_mapping.guess_columns(["Transaction Date", "Value", "Transaction ID", "Payer", "E-mail",
                                         "Currency", "Type", "Fund"]) == {
        "date": 0, "amount": 1, "reference": 2, "name": 3, "email": 4, "currency": 5, "method": 6, "campaign": 7}
    assert column_mapping.guess_columns(["Donor email", "Donor name", "Refund", "Credit"]) == {
        "date": None, "amount": 3, "reference": None, "name": 1, "email": 0, "currency": None, "method": None,
        "campaign": None}


def test_the_currency_named_in_the_amount_header_is_the_default(app):
    table = reading.read_table("Date;Amount (EUR);Name\r\n12/31/2025;5,00;A B\r\n")
    mapping = column_mapping.guess_mapping(table)
    assert (table.delimiter, mapping.default_currency, mapping.date_format) == (";", "EUR", "mdy")


def test_month_first_dates_are_recognised():
    assert column_mapping.guess_date_format(["01/02/2026", "12/31/2026"]) == "mdy"
    assert column_mapping.guess_date_format(["01/02/2026", "31/12/2026"]) == "dmy"
    assert column_mapping.guess_date_format(["01/02/2026"]) == "dmy"


def test_the_pages_open_in_russian(client, login, make_user, known):
    login(make_user(roles=["staff"], preferred_language="ru"))
    assert client.get("/donors/imports/new").status_code == 200
    url, page = uploaded(client, bank_file())
    response = client.post(url, data={**form_values(page), "skip_errors": "y", "action": "import"})
    assert response.status_code == 303
    result = client.get(response.headers["Location"])
    assert result.status_code == 200 and "OLD-REF" in result.get_data(as_text=True)
