"""An expert visit, end to end: staff plan a visit for a new expert and build its programme
in place, confirm it; the expert follows the e-mailed one-time link, chooses a password,
completes the passport details, issues and downloads the bilingual invitation letter (a
button: opening a page never issues one); staff move the departure, and the panel offers
the expert an updated letter that supersedes the first."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Letter, OutboxMessage
from tests.fixtures.pdf import flat_text

pytestmark = pytest.mark.e2e

EXPERT_NAME = "Dr Hannah Whitfield"
EXPERT_EMAIL = "hannah.whitfield@example.org"
EXPERT_PASSWORD = "a long new password 42"
CLINIC = "Morozov Children's Hospital"
CLINIC_RU = "Морозовская детская больница"
PURPOSE = "Teach the haematology team the new transplant conditioning protocols."
PURPOSE_RU = "Обучить гематологов новым протоколам кондиционирования перед трансплантацией."
PASSPORT_NAME = "HANNAH MARGARET WHITFIELD"
PASSPORT_NUMBER = "533912847"
# (kind, day offset from arrival, from, to, title, place, participants)
ACTIVITIES = [
    ("Lecture", 0, "09:00", "10:30", "Conditioning regimens today", "Conference hall",
     "Haematology residents"),
    ("Consultation", 1, "11:00", "13:00", "Consultations on refractory leukaemia", "Ward 4",
     "Twelve patients"),
    ("Master class", 2, "14:00", "17:00", "Bone marrow harvest master class", "Operating theatre 2",
     "Transplant surgeons"),
]


def letter_rows(app: Flask, visit_id: int) -> list[tuple[int, str, str, str, str]]:
    """(id, reference, token, status, sha256) of the visit's invitation letters, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(Letter.id, Letter.reference, Letter.token, Letter.status, Letter.sha256)
            .where(Letter.kind == "invitation", Letter.subject_id == visit_id).order_by(Letter.id)).all()
        db.session.rollback()
    return [(row.id, row.reference, row.token, row.status, row.sha256) for row in rows]


def test_visit_for_new_expert_letter_and_reissue(
        app: Flask, live_server: Any, page: Page, browser: Browser, browser_context_args: dict[str, Any],
        sign_in: Any, make_user: Any, make_clinic: Any, tmp_path: Path, console_errors: Any) -> None:
    base = live_server.url
    staff = make_user(roles=["staff"], name="Sam Planner")
    clinic = make_clinic(name=CLINIC, city="Moscow", name_ru=CLINIC_RU)
    staff_email, clinic_option = staff.email, f"{clinic.name} ({clinic.city})"
    db.session.commit()  # end the read transaction the attribute loads opened

    arrival = dt.date.today() + dt.timedelta(days=45)
    departure = arrival + dt.timedelta(days=4)
    new_departure = departure + dt.timedelta(days=2)

    console_errors.watch(page)

    # Staff plan the visit for an expert who has no account yet.
    sign_in(page, staff_email)
    page.goto(f"{base}/visits/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan a visit")
    page.get_by_label("Expert", exact=True).select_option(label="— a new expert (below) —")
    page.get_by_label("New expert's full name", exact=True).fill(EXPERT_NAME)
    page.get_by_label("New expert's e-mail address", exact=True).fill(EXPERT_EMAIL)
    page.get_by_label("Host clinic", exact=True).select_option(label=clinic_option)
    page.get_by_label("Arrival", exact=True).fill(arrival.isoformat())
    page.get_by_label("Departure", exact=True).fill(departure.isoformat())
    page.get_by_label("Purpose", exact=True).fill(PURPOSE)
    page.get_by_label("Purpose in Russian", exact=True).fill(PURPOSE_RU)
    page.locator("#budget-travel-amount").fill("650")
    page.locator("#budget-accommodation-amount").fill("900")
    page.get_by_role("button", name="Save the visit", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/visits/\d+$"))
    visit_url = page.url
    visit_id = int(visit_url.rsplit("/", 1)[1])
    expect(page.locator("#flashes")).to_contain_text("Visit planned. The expert has been e-mailed.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{EXPERT_NAME} · {CLINIC}")
    expect(page.locator(".lead .status")).to_have_text("planned")

    # Three activities, each added in place: the programme is swapped, the page stays.
    programme = page.locator("#programme")
    expect(programme).to_contain_text("No activities yet.")
    page.evaluate("window.__noReload = 1")  # a full page load would wipe it
    items = programme.locator("ol.agenda > li")
    add_form = programme.locator("#add-activity")  # each activity has its own edit form too
    for n, (kind, offset, start, end, title, place, participants) in enumerate(ACTIVITIES, start=1):
        add_form.get_by_label("Kind", exact=True).select_option(label=kind)
        add_form.get_by_label("Day", exact=True).fill((arrival + dt.timedelta(days=offset)).isoformat())
        add_form.get_by_label("From", exact=True).fill(start)
        add_form.get_by_label("To", exact=True).fill(end)
        add_form.get_by_label("Title", exact=True).fill(title)
        add_form.get_by_label("Title in Russian", exact=True).fill(f"Занятие {n}: {kind}")
        add_form.get_by_label("Place in the clinic", exact=True).fill(place)
        add_form.get_by_label("Expected participants", exact=True).fill(participants)
        with page.expect_response(lambda r: r.url == f"{base}/visits/{visit_id}/activities"
                                  and r.request.method == "POST") as answer:
            programme.get_by_role("button", name="Add the activity", exact=True).click()
        assert answer.value.status == 200
        expect(programme.locator(".flash-success")).to_have_text("Programme saved.")
        expect(items).to_have_count(n)
        item = items.nth(n - 1)
        expect(item).to_contain_text(f"{start}–{end} · {kind}: {title}")
        expect(item).to_contain_text(place)
        expect(item).to_contain_text(f"Participants: {participants}")
        # The form is blank again for the next activity.
        expect(add_form.get_by_label("Title", exact=True)).to_have_value("")
    assert page.evaluate("window.__noReload") == 1
    expect(page).to_have_url(visit_url)
    # The agenda: one day each, in order, under the day's heading.
    expect(programme.locator("ol.agenda")).to_have_count(3)
    expect(programme.locator("h3").filter(has_not_text="Add an activity")).to_have_text(
        [format_date(arrival + dt.timedelta(days=offset), "full", locale="en_GB")
         for _, offset, *_ in ACTIVITIES])
    expect(items).to_have_text([re.compile(re.escape(title)) for *_, title, _, _ in ACTIVITIES])

    page.get_by_role("button", name="Confirm the visit", exact=True).click()
    expect(page.locator("#flashes")).to_contain_text("The visit is now confirmed.")
    expect(page.locator(".lead .status")).to_have_text("confirmed")
    expect(page.get_by_role("button", name="Confirm the visit")).to_have_count(0)

    # The new expert's one-time link, as e-mailed.
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.recipient == EXPERT_EMAIL).order_by(OutboxMessage.id)).all()
        db.session.rollback()
    links = [m for body in bodies for m in re.findall(r"https?://\S+/invitation/\S+", body)]
    assert len(links) == 1, bodies
    link = urlsplit(links[0])
    # Built from BASE_URL, never from the request that planned the visit; opened here on the test server.
    assert f"{link.scheme}://{link.netloc}" == app.config["BASE_URL"]

    expert_context = browser.new_context(**browser_context_args)
    try:
        expert = expert_context.new_page()
        console_errors.watch(expert)
        expert.goto(f"{base}{link.path}")
        expect(expert.get_by_role("heading", level=1)).to_have_text(f"Welcome, {EXPERT_NAME}")
        expect(expert.get_by_text(f"Choose a password for {EXPERT_EMAIL}.")).to_be_visible()
        expert.get_by_label("New password", exact=True).fill(EXPERT_PASSWORD)
        expert.get_by_label("Repeat the password", exact=True).fill(EXPERT_PASSWORD)
        expert.get_by_role("button", name="Save the password", exact=True).click()
        expect(expert).to_have_url(f"{base}/profile")
        expect(expert.locator("#flashes")).to_contain_text(
            "Welcome! Please complete your profile: your invitation letter is made from it.")
        expect(expert.get_by_role("button", name="Sign out")).to_be_visible()

        # The passport details the letter is made from.
        expert.get_by_label("Full name as in passport", exact=True).fill(PASSPORT_NAME)
        expert.get_by_label("Nationality", exact=True).fill("British")
        expert.get_by_label("Date of birth", exact=True).fill("1976-03-18")
        expert.get_by_label("Passport number", exact=True).fill(PASSPORT_NUMBER)
        expert.get_by_label("Passport expiry date", exact=True).fill(
            (dt.date.today() + dt.timedelta(days=5 * 365)).isoformat())
        expert.get_by_role("button", name="Save profile", exact=True).click()
        expect(expert.locator("#flashes")).to_contain_text("Your profile has been saved.")
        expect(expert.get_by_label("Passport number", exact=True)).to_have_value(PASSPORT_NUMBER)

        # The expert finds the visit, issues the invitation letter and downloads it.
        expert.goto(f"{base}/visits/")
        expect(expert.get_by_role("heading", level=1)).to_have_text("My visits")
        expect(expert.locator("#main table").get_by_role("link", name=EXPERT_NAME)).to_have_count(0)
        expert.locator("#main table").get_by_role("link", name=f"Your visit to {CLINIC}", exact=True).click()
        expect(expert).to_have_url(visit_url)
        expect(expert.get_by_role("button", name="Confirm the visit")).to_have_count(0)
        expect(expert.get_by_role("link", name="Edit the visit")).to_have_count(0)
        panel = expert.locator("section.panel", has=expert.get_by_role("heading", name="Invitation letter"))
        expect(panel).to_have_count(1)
        expect(panel).not_to_contain_text("cannot be issued yet")
        expect(panel.get_by_role("link", name="Download the letter (PDF)")).to_have_count(0)
        assert letter_rows(app, visit_id) == []  # seeing the page issued nothing
        with expert.expect_download() as first_download:
            panel.get_by_role("button", name="Issue the letter", exact=True).click()
        first_path = tmp_path / "first.pdf"
        first_download.value.save_as(first_path)
        first_pdf = first_path.read_bytes()
        assert first_pdf.startswith(b"%PDF")
        first_text = flat_text(first_path.read_bytes(), layout=False)
        assert "Invitation" in first_text
        assert "Приглашение" in first_text
        for n, (*_, title, _, _) in enumerate(ACTIVITIES, start=1):
            assert title in first_text and f"Занятие {n}" in first_text, title
        assert PASSPORT_NAME in first_text
        assert CLINIC_RU in first_text

        [(first_id, first_reference, first_token, first_status, first_sha)] = letter_rows(app, visit_id)
        assert first_status == "valid"
        assert first_sha == hashlib.sha256(first_pdf).hexdigest()
        assert first_download.value.suggested_filename == f"{first_reference}.pdf"
        assert first_reference in first_text

        # Now the panel links the letter as issued; downloading it again issues nothing.
        expert.reload()
        download_link = panel.get_by_role("link", name="Download the letter (PDF)", exact=True)
        expect(download_link).to_have_attribute("href", f"/letters/invitation/{visit_id}")
        expect(panel.get_by_role("button", name="Issue the letter")).to_have_count(0)
        with expert.expect_download() as again:
            download_link.click()
        again_path = tmp_path / "again.pdf"
        again.value.save_as(again_path)
        assert again_path.read_bytes() == first_pdf
        assert len(letter_rows(app, visit_id)) == 1

        # Staff move the departure two days later.
        page.goto(visit_url)
        page.get_by_role("link", name="Edit the visit", exact=True).click()
        expect(page).to_have_url(f"{base}/visits/{visit_id}/edit")
        expect(page.get_by_label("Departure", exact=True)).to_have_value(departure.isoformat())
        expect(page.locator("#budget-travel-amount")).to_have_value(re.compile(r"^650(\.0+)?$"))
        page.get_by_label("Departure", exact=True).fill(new_departure.isoformat())
        page.get_by_role("button", name="Save the visit", exact=True).click()
        expect(page).to_have_url(visit_url)
        expect(page.locator("#flashes")).to_contain_text("Visit saved.")
        expect(page.locator(".lead")).to_contain_text(format_date(new_departure, "long", locale="en_GB"))
        expect(page.locator(".lead .status")).to_have_text("confirmed")
        expect(items).to_have_count(3)

        # The expert's panel offers a new letter with the new dates; only the button issues it.
        expert.reload()
        expect(panel.get_by_role("link", name="Download the letter (PDF)")).to_have_count(0)
        assert [row[3] for row in letter_rows(app, visit_id)] == ["valid"]
        with expert.expect_download() as second_download:
            panel.get_by_role("button", name="Issue an updated letter", exact=True).click()
        second_path = tmp_path / "second.pdf"
        second_download.value.save_as(second_path)
        second_pdf = second_path.read_bytes()
        assert second_pdf.startswith(b"%PDF")
        second_text = flat_text(second_path.read_bytes(), layout=False)
        assert "Invitation" in second_text
        assert "Приглашение" in second_text
        assert format_date(new_departure, "long", locale="en_GB") in second_text
        for *_, title, _, _ in ACTIVITIES:
            assert title in second_text, title

        rows = letter_rows(app, visit_id)
        assert len(rows) == 2, rows
        (old_id, old_reference, old_token, old_status, old_sha), (_, new_reference, new_token, new_status,
                                                                   new_sha) = rows
        assert (old_id, old_reference, old_token, old_sha) == (first_id, first_reference, first_token, first_sha)
        assert (old_status, new_status) == ("superseded", "valid")
        assert new_reference != old_reference
        assert new_token != old_token
        assert new_sha != old_sha
        assert new_sha == hashlib.sha256(second_pdf).hexdigest()
        assert second_download.value.suggested_filename == f"{new_reference}.pdf"
        assert new_reference in second_text
    finally:
        expert_context.close()

    # Anyone (a consulate) checks the two letters: no sign-in needed.
    consulate_context = browser.new_context(**browser_context_args)
    try:
        check = consulate_context.new_page()
        console_errors.watch(check)
        check.goto(f"{base}/verify/{old_token}")
        expect(check.locator(".verdict")).to_contain_text("Superseded")
        expect(check.locator(".verdict")).to_contain_text(f"Its reference is {new_reference}.")
        expect(check.locator("dl.facts")).to_contain_text(old_reference)
        expect(check.locator("dl.facts")).to_contain_text(PASSPORT_NAME)
        check.goto(f"{base}/verify/{new_token}")
        expect(check.locator(".verdict")).to_contain_text("Valid")
        expect(check.locator("dl.facts")).to_contain_text(new_reference)
        expect(check.locator("dl.facts")).to_contain_text(format_date(new_departure, "long", locale="en_GB"))
        expect(check.locator("dl.facts")).not_to_contain_text(PASSPORT_NUMBER)
    finally:
        consulate_context.close()

    assert console_errors == []
