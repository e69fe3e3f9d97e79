"""Thanking donors: one gift at a time or all pending at once, each donor exactly once,
by e-mail with the letter attached, by post in one printable PDF, or kept on file."""

from __future__ import annotations

import datetime as dt
import email
import io
import os
import re
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.blueprints.donors import services
from portal.extensions import db
from portal.mail import deliver_pending
from portal.models import Acknowledgement, AcknowledgementBatch, Donation, Donor, Letter, OutboxMessage
from tests.fixtures.pdf import flat_text


@pytest.fixture
def config_overrides():
    """Letters render in this process: starting worker processes costs seconds per batch.
    The twenty-donor batch below renders on every core, as in production."""
    return {"LETTER_WORKERS": 1}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def pending() -> list[Donation]:
    return db.session.scalars(services.pending_query().order_by(Donation.id)).all()


def letters_per_donor() -> Counter:
    return Counter(db.session.scalars(select(Acknowledgement.donor_id).join(Letter, Acknowledgement.letter_id
                                                                             == Letter.id)))


# --- One gift at a time -------------------------------------------------------------------

def test_staff_thank_for_one_gift_from_its_page(client, login, staff, make_donor, make_donation):
    donor = make_donor(declared_on=dt.date(2024, 1, 1))
    gift = make_donation(donor, 5000, dt.date(2025, 3, 3))
    login(staff)
    page = client.get(f"/donors/donations/{gift.id}").get_data(as_text=True)
    assert "awaiting thanks" in page and "Thank now" in page

    response = client.post(f"/donors/donations/{gift.id}/acknowledge")
    assert response.status_code == 303 and response.headers["Location"] == f"/donors/donations/{gift.id}"
    acknowledgement = db.session.scalars(select(Acknowledgement)).one()
    letter = acknowledgement.letter
    assert [d.id for d in acknowledgement.donations] == [gift.id]
    assert (acknowledgement.channel, acknowledgement.acknowledged_by_id, acknowledgement.batch_id) == (
        "email", staff.id, None)
    assert (letter.kind, letter.subject_type, letter.subject_id) == ("donation_thanks", "acknowledgement",
                                                                     acknowledgement.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Thanked by e-mail: letter {letter.reference}." in page
    assert "Thank now" not in page and "acknowledged" in page


def test_thanking_from_a_list_with_htmx_swaps_in_the_cell(client, login, staff, make_donor, make_donation):
    gift = make_donation(make_donor(contact_preference="post"), 5000)
    login(staff)
    response = client.htmx_post(f"/donors/donations/{gift.id}/acknowledge", data={"next": "/donors/donations"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    letter = db.session.scalars(select(Letter)).one()
    assert "<html" not in fragment
    assert f"Thanked by post: letter {letter.reference}." in fragment
    link = f'href="/donors/acknowledgements/{letter.subject_id}/letter.pdf">'
    assert f"{link}Thank-you letter {letter.reference} (PDF)</a>" in fragment


def test_a_gift_is_thanked_once_however_often_the_button_is_pressed(client, login, staff, make_donor,
                                                                    make_donation):
    gift = make_donation(make_donor(), 5000)
    login(staff)
    assert client.post(f"/donors/donations/{gift.id}/acknowledge").status_code == 303
    response = client.post(f"/donors/donations/{gift.id}/acknowledge", data={"next": "/donors/donations"})
    assert response.status_code == 303 and response.headers["Location"] == "/donors/donations"
    assert "This gift has already been acknowledged." in client.get("/donors/donations").get_data(as_text=True)
    response = client.htmx_post(f"/donors/donations/{gift.id}/acknowledge")
    assert response.status_code == 200
    assert "This gift has already been acknowledged." in response.get_data(as_text=True)
    assert (count(Acknowledgement), count(Letter), count(OutboxMessage)) == (1, 1, 1)
    with pytest.raises(services.DonorError):
        services.acknowledge([db.session.get(Donation, gift.id)], by=staff)
    assert (count(Acknowledgement), count(Letter), count(OutboxMessage)) == (1, 1, 1)


def test_one_letter_thanks_one_donor(staff, make_donor, make_donation):
    gifts = [make_donation(make_donor(), 5000), make_donation(make_donor(), 5000)]
    with pytest.raises(services.DonorError, match="One letter thanks one donor."):
        services.acknowledge(gifts, by=staff)
    assert count(Letter) == 0 and len(pending()) == 2


# --- Channels -----------------------------------------------------------------------------

def test_by_email_the_letter_goes_as_the_attachment(app, staff, make_donor, make_donation):
    donor = make_donor(email="jane.smith@example.org", first_name="Jane", last_name="Smith")
    acknowledgement = services.acknowledge([make_donation(donor, 5000)], by=staff)
    letter = acknowledgement.letter
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (acknowledgement.channel, message.recipient, message.letter_id) == ("email", "jane.smith@example.org",
                                                                               letter.id)
    assert letter.reference in message.body_text and "Dear Jane Smith," in message.body_text

    assert deliver_pending()["sent"] == 1
    (eml,) = (Path(app.instance_path) / "outbox").glob("*.eml")
    sent = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert sent["To"] == "jane.smith@example.org"
    (attachment,) = list(sent.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{letter.reference}.pdf"
    assert attachment.get_content() == letter.pdf


def test_a_russian_donors_email_reaches_a_real_smtp_server_with_the_letter(app, smtp_server, staff, make_donor,
                                                                           make_donation):
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                      MAIL_FROM="Programme Portal <programme@example.org>")
    donor = make_donor(email="ivan@example.org", language="ru", first_name="Иван", last_name="Петров")
    letter = services.acknowledge([make_donation(donor, 5000)], by=staff).letter
    assert deliver_pending() == {"sent": 1, "retry": 0, "failed": 0}
    assert inbox.envelopes == [("programme@example.org", ["ivan@example.org"])]
    received = inbox.messages[0]
    assert received["Content-Language"] == "ru"
    assert received["Subject"].startswith("Спасибо за ваше пожертвование")
    assert "Здравствуйте, Иван Петров!" in received.get_body(("plain",)).get_content()
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{letter.reference}.pdf"
    assert "Спасибо" in flat_text(attachment.get_content())
    assert deliver_pending()["sent"] == 0 and len(inbox.messages) == 1  # never twice


@pytest.mark.parametrize(("fields", "channel"), [
    ({"contact_preference": "email", "email": None}, "post"),  # nowhere to e-mail: by post
    ({"contact_preference": "post"}, "post"),
    ({"contact_preference": "none"}, "none"),
])
def test_no_email_unless_the_donor_prefers_it_and_has_an_address(staff, make_donor, make_donation, fields, channel):
    donor = make_donor(**fields)
    acknowledgement = services.acknowledge([make_donation(donor, 5000)], by=staff)
    assert acknowledgement.channel == channel
    assert acknowledgement.letter is not None and pending() == []
    assert count(OutboxMessage) == 0


# --- All pending at once ------------------------------------------------------------------

@pytest.fixture
def donors_with_gifts(make_donor, make_donation):
    """Five donors, three ways of being thanked, seven pending gifts and one thanked already."""
    by_email = make_donor(first_name="Emily", last_name="Mailer", email="emily@example.org")
    twice = make_donor(first_name="Tom", last_name="Twice", email="tom@example.org", language="ru")
    by_post = make_donor(first_name="Paula", last_name="Postman", contact_preference="post")
    by_post_too = make_donor(first_name="Peter", last_name="Letterbox", contact_preference="post", email=None)
    on_file = make_donor(first_name="Nora", last_name="Nocontact", contact_preference="none")
    make_donation(by_email, 5000, dt.date(2025, 3, 3))
    make_donation(twice, 2500, dt.date(2025, 3, 3))
    make_donation(twice, 1000, dt.date(2025, 4, 4))
    make_donation(by_post, 7000, dt.date(2025, 3, 3))
    make_donation(by_post_too, 1500, dt.date(2025, 3, 5))
    make_donation(by_post_too, 1600, dt.date(2025, 3, 6))
    make_donation(on_file, 9900, dt.date(2025, 3, 3))
    return {"email": [by_email, twice], "post": [by_post, by_post_too], "none": [on_file]}


def test_acknowledge_all_thanks_every_donor_once_with_one_letter(client, login, staff, make_donation,
                                                                 donors_with_gifts, run_queued):
    thanked_before = services.acknowledge([make_donation(donors_with_gifts["email"][0], 300, dt.date(2025, 1, 1))],
                                          by=staff)
    login(staff)
    response = client.post("/donors/acknowledge-all")
    assert response.status_code == 303
    run_queued()  # the consumer's part (tests/donors/test_thanks_in_background.py runs a real one)
    batch = db.session.scalars(select(AcknowledgementBatch)).one()
    assert response.headers["Location"] == f"/donors/batches/{batch.id}"
    assert batch.finished_at is not None and batch.started_by_id == staff.id

    assert pending() == []
    acknowledgements = db.session.scalars(select(Acknowledgement).where(Acknowledgement.batch_id == batch.id)).all()
    everyone = [donor for group in donors_with_gifts.values() for donor in group]
    assert sorted(a.donor_id for a in acknowledgements) == sorted(donor.id for donor in everyone)
    for acknowledgement in acknowledgements:  # all their pending gifts, in one letter
        gifts = db.session.scalars(select(Donation).where(Donation.donor_id == acknowledgement.donor_id,
                                                          Donation.id != thanked_before.donations[0].id)).all()
        assert {d.acknowledgement_id for d in gifts} == {acknowledgement.id}
        assert len(acknowledgement.letter.facts["gifts"]) == len(gifts)
    assert [d.id for d in thanked_before.donations] == [
        d.id for d in db.session.get(Acknowledgement, thanked_before.id).donations]  # not thanked again
    assert letters_per_donor() == Counter({donor.id: 1 for donor in everyone}) + Counter(
        {donors_with_gifts["email"][0].id: 1})
    assert Counter(a.channel for a in acknowledgements) == Counter({"email": 2, "post": 2, "none": 1})
    assert Counter(m.recipient for m in db.session.scalars(select(OutboxMessage))) == Counter(
        {"emily@example.org": 2, "tom@example.org": 1})  # one of Emily's was the earlier thank-you

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "5 letters issued for 7 gifts: 2 by e-mail, 2 by post, 1 kept on file." in html
    assert "Download 2 letters to post (one PDF)" in html
    for acknowledgement in acknowledgements:
        assert acknowledgement.letter.reference in html
    tom = next(a for a in acknowledgements if a.donor_id == donors_with_gifts["email"][1].id)
    assert "25,00 £" in flat_text(tom.letter.pdf) and "10,00 £" in flat_text(tom.letter.pdf)  # in Russian, both gifts


def test_the_post_pdf_holds_exactly_the_letters_to_post(client, login, staff, donors_with_gifts, run_queued):
    login(staff)
    batch_url = client.post("/donors/acknowledge-all").headers["Location"]
    run_queued()
    response = client.get(f"{batch_url}/post.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    post_letters = db.session.scalars(select(Letter).join(Acknowledgement, Acknowledgement.letter_id == Letter.id)
                                      .where(Acknowledgement.channel == "post").order_by(Letter.id)).all()
    pages_each = [len(PdfReader(io.BytesIO(letter.pdf)).pages) for letter in post_letters]
    assert len(post_letters) == 2
    assert len(PdfReader(io.BytesIO(response.data)).pages) == sum(pages_each)
    text = flat_text(response.data)
    assert "Paula Postman" in text and "Peter Letterbox" in text  # the addressee block
    for letter in post_letters:
        assert letter.reference in text
    for elsewhere in ("Mailer", "Twice", "Nocontact"):
        assert elsewhere not in text


def test_running_the_batch_again_does_nothing_new(client, login, staff, donors_with_gifts, run_queued):
    login(staff)
    assert client.post("/donors/acknowledge-all").status_code == 303
    run_queued()
    before = (count(Letter), count(Acknowledgement), count(OutboxMessage))
    response = client.post("/donors/acknowledge-all", follow_redirects=True)
    assert "Every gift has been acknowledged already." in response.get_data(as_text=True)
    report = services.acknowledge_pending(by=staff, workers=1)
    assert (report.letters, report.donations) == (0, 0)
    assert (count(Letter), count(Acknowledgement), count(OutboxMessage)) == before
    assert client.get(f"/donors/batches/{report.batch_id}/post.pdf").status_code == 404  # nothing to post


def test_a_batch_stopped_half_way_is_finished_by_the_next_run_without_thanking_anyone_twice(
        client, login, staff, donors_with_gifts):
    everyone = sorted((donor for group in donors_with_gifts.values() for donor in group), key=lambda d: d.id)
    first_two, rest = everyone[:2], everyone[2:]

    def stop_after_first_chunk(report):
        raise RuntimeError("the worker was killed")

    with pytest.raises(RuntimeError, match="the worker was killed"):
        services.acknowledge_pending(by=staff, workers=1, chunk=2, progress=stop_after_first_chunk)
    db.session.rollback()

    thanked = db.session.scalars(select(Acknowledgement)).all()
    assert sorted(a.donor_id for a in thanked) == [d.id for d in first_two]
    assert all(a.letter is not None for a in thanked) and count(Letter) == 2
    assert {d.donor_id for d in pending()} == {d.id for d in rest}
    assert count(Donation, Donation.donor_id.in_([d.id for d in first_two]),
                 Donation.acknowledgement_id.is_(None)) == 0
    emailed = {d.email for d in first_two if d.contact_preference == "email"}
    assert {m.recipient for m in db.session.scalars(select(OutboxMessage))} == emailed
    assert count(OutboxMessage) == len(emailed) == 2
    assert all(m.letter_id is not None for m in db.session.scalars(select(OutboxMessage)))
    stopped = db.session.scalars(select(AcknowledgementBatch)).one()
    assert stopped.finished_at is None
    login(staff)
    assert "stopped before the end: run it again to finish" in client.get(
        f"/donors/batches/{stopped.id}").get_data(as_text=True)

    report = services.acknowledge_pending(by=staff, workers=1, chunk=2)
    assert report.letters == len(rest) and report.skipped_donors == 0
    assert pending() == []
    assert letters_per_donor() == Counter({d.id: 1 for d in everyone})
    per_donation = Counter(db.session.scalars(select(Donation.acknowledgement_id)))
    assert sum(per_donation.values()) == 7 and None not in per_donation
    recipients = Counter(m.recipient for m in db.session.scalars(select(OutboxMessage)))
    assert recipients == Counter({d.email: 1 for d in everyone if d.contact_preference == "email"})
    assert count(Letter) == count(Acknowledgement) == len(everyone)


# Twenty donors here; `make bench` (bench/acknowledgements.py) thanks five hundred and checks
# the same: every donor once, consecutive references, nothing left pending.
BATCH_DONORS = 20


@pytest.mark.parametrize("config_overrides", [{}])  # the default: one worker per core
def test_twenty_donors_are_thanked_in_one_batch_on_both_cores(app, staff, config_overrides):
    donors = [Donor(kind="individual", title="Ms", first_name="Donor", last_name=f"Number{n:03d}",
                    email=f"donor{n:03d}@example.org", house=str(n), address="High Street\nLondon",
                    postcode="SW1A 1AA", country="GB", language="ru" if n % 5 == 0 else "en",
                    contact_preference=("email", "post", "none")[n % 3], search_name=f"donor number{n:03d}")
              for n in range(BATCH_DONORS)]
    db.session.add_all(donors)
    db.session.flush()
    db.session.add_all([Donation(donor=donor, amount=1000 + n, currency="GBP", received_on=dt.date(2025, 3, 3),
                                 method="bank_transfer", restricted=True) for n, donor in enumerate(donors)])
    db.session.commit()
    assert app.config["LETTER_WORKERS"] == (os.cpu_count() or 1) >= 2

    # Chunks of eight, so that the numbering runs on across chunks as in a batch of hundreds.
    report = services.acknowledge_pending(by=staff, chunk=8)
    assert (report.letters, report.donations, report.skipped_donors) == (BATCH_DONORS, BATCH_DONORS, 0)
    assert count(Letter) == BATCH_DONORS and count(Acknowledgement) == BATCH_DONORS
    assert pending() == []
    assert letters_per_donor() == Counter({donor.id: 1 for donor in donors})
    letters = db.session.execute(select(Letter.reference, Letter.year, Letter.sequence)).all()
    assert len({reference for reference, _year, _sequence in letters}) == BATCH_DONORS
    (year,) = {year for _reference, year, _sequence in letters}
    assert sorted(sequence for _reference, _year, sequence in letters) == list(range(1, BATCH_DONORS + 1))
    assert {reference for reference, _year, _sequence in letters} == {
        f"EP-{year}-{n:04d}" for n in range(1, BATCH_DONORS + 1)}
    assert count(OutboxMessage) == sum(1 for donor in donors if donor.contact_preference == "email")
    sample = db.session.scalars(select(Acknowledgement).where(Acknowledgement.donor_id == donors[11].id)).one()
    assert "Dear Ms Number011," in flat_text(sample.letter.pdf)


# --- The dashboard ------------------------------------------------------------------------

def test_the_dashboard_counts_gifts_awaiting_thanks_and_those_waiting_more_than_two_days(
        client, login, staff, make_user, make_donor, make_donation):
    donor = make_donor()
    make_donation(donor, 5000, dt.date.today() - dt.timedelta(days=5))
    make_donation(donor, 5000, dt.date.today())
    make_donation(donor, 5000, dt.date.today() - dt.timedelta(days=2))  # exactly two days: not yet overdue
    thanked = make_donation(donor, 5000, dt.date.today() - dt.timedelta(days=30))
    services.acknowledge([thanked], by=staff)
    login(staff)
    html = client.get("/").get_data(as_text=True)
    card = re.search(r"<h2>Donations awaiting thanks</h2>\s*<p class=\"count\">(\d+)</p>", html)
    assert card is not None and card.group(1) == "3"  # as many as the inbox lists
    assert "Gifts not yet acknowledged (1 received more than 2 days ago)." in html


def test_the_dashboard_card_is_for_staff_only(app, client, login, make_user, make_donor, make_donation):
    make_donation(make_donor(), 5000, dt.date.today() - dt.timedelta(days=5))
    login(make_user(roles=["doctor"]))
    assert "Donations awaiting thanks" not in client.get("/").get_data(as_text=True)
