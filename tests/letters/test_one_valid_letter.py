"""At most one valid letter per kind and subject, and no letter issued by a GET: downloads
only read, issuing is a POST taken one at a time per subject, and the database refuses a
second valid letter whatever the code does."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.letters import letter_kind, obtain
from portal.models import AuditEvent, Letter, User
from tests.fixtures.concurrency import at_once

ROUNDS = 20
AT_ONCE = 6


def letter_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Letter))


def letters_of(application) -> list[Letter]:
    return db.session.scalars(select(Letter).where(Letter.kind == "visa_support",
                                                   Letter.subject_id == application.id).order_by(Letter.id)).all()


def rename(application, name: str) -> None:
    """Change what the letter certifies: the holder's name as in the passport."""
    db.session.get(User, application.beneficiary_id).passport_full_name = name
    db.session.commit()


def test_a_get_never_issues_a_letter(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    url = f"/letters/visa_support/{application.id}"

    response = client.get(url)  # no letter yet: a page with a button, not a PDF
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert re.search(rf'<form method="post" action="{url}/issue">\s*<input type="hidden" name="csrf_token"', html)
    assert "Issue the letter" in html
    assert letter_count() == 0

    issued = client.post(f"{url}/issue")
    assert issued.status_code == 303 and urlsplit(issued.headers["Location"]).path == url
    response = client.get(url)
    assert response.mimetype == "application/pdf" and response.headers["Cache-Control"] == "private, no-store"
    [letter] = letters_of(application)
    assert response.headers["X-Letter-SHA256"] == letter.sha256

    rename(application, "ANNA SOKOLOVA-PETROVA")
    response = client.get(url)  # the facts changed: still nothing issued
    assert response.status_code == 200 and "Issue an updated letter" in response.get_data(as_text=True)
    assert [(row.id, row.status) for row in letters_of(application)] == [(letter.id, "valid")]
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Issue an updated letter" in page and "Download the letter (PDF)" not in page
    assert letter_count() == 1


def test_the_panel_links_the_current_letter_and_otherwise_offers_a_form(client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    detail, url = f"/applications/{application.id}", f"/letters/visa_support/{application.id}"
    page = client.get(detail).get_data(as_text=True)
    assert f'action="{url}/issue"' in page and "Issue the letter" in page and f'href="{url}"' not in page
    client.post(f"{url}/issue")
    page = client.get(detail).get_data(as_text=True)
    assert f'href="{url}"' in page and "Download the letter (PDF)" in page and f'action="{url}/issue"' not in page


def test_issuing_asks_the_same_permission_as_downloading(client, login, approved_application, make_user):
    application = approved_application()
    login(make_user(roles=["doctor"]))
    assert client.post(f"/letters/visa_support/{application.id}/issue").status_code == 404
    assert client.post("/letters/no_such_kind/1/issue").status_code == 404
    assert client.post(f"/letters/visa_support/{application.id}/issue", csrf=False).status_code == 400
    assert letter_count() == 0


def _issue_at_once(clients, tokens, url) -> list:
    """Every client posts to ``url`` at the same moment; their status codes."""

    def post(client, token) -> int:
        response = client.post(url, csrf=False, data={"csrf_token": token})
        response.close()
        return response.status_code

    return at_once([functools.partial(post, client, token) for client, token in zip(clients, tokens, strict=True)])


def test_simultaneous_issues_after_each_change_make_one_valid_letter(app, approved_application):
    application = approved_application()
    clients = [app.test_client() for _ in range(AT_ONCE)]
    for client in clients:  # the doctor, signed in on six devices
        assert client.post("/login", data={"email": application.doctor.email,
                                           "password": "correct horse battery"}).status_code == 303
    tokens = [client.csrf_token() for client in clients]
    url = f"/letters/visa_support/{application.id}/issue"

    for round_number in range(ROUNDS):
        name = f"ANNA SOKOLOVA {round_number}"
        rename(application, name)
        before = {letter.id for letter in letters_of(application)}
        assert _issue_at_once(clients, tokens, url) == [303] * AT_ONCE, f"round {round_number}"
        db.session.expire_all()
        letters = letters_of(application)
        new = [letter for letter in letters if letter.id not in before]
        valid = [letter for letter in letters if letter.status == "valid"]
        assert len(new) == 1, f"round {round_number}: {len(new)} letters issued"
        assert valid == new and valid[0].facts["holder"] == name, f"round {round_number}"
    assert len(letters_of(application)) == ROUNDS
    superseded = [letter for letter in letters_of(application) if letter.status == "superseded"]
    assert len(superseded) == ROUNDS - 1 and all(letter.superseded_by_id for letter in superseded)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "letter_superseded")) == ROUNDS - 1


def _second_valid_letter(of: Letter, n: int) -> dict:
    return {"reference": f"EP-2099-{n:04d}", "year": 2099, "sequence": n, "kind": of.kind,
            "subject_type": of.subject_type, "subject_id": of.subject_id, "language": "en",
            "issued_at": of.issued_at, "sha256": "0" * 64, "facts": {}, "public_facts": {},
            "token": f"forged-token-{n}", "status": "valid", "pdf": b"%PDF-forged"}


def test_the_database_refuses_a_second_valid_letter(app, approved_application, make_user):
    application = approved_application()
    letter = obtain(letter_kind("visa_support"), application, by=make_user(roles=["staff"]))
    with pytest.raises(IntegrityError):
        db.session.add(Letter(**_second_valid_letter(letter, 1)))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):  # with plain SQL too, the service and the ORM bypassed
        db.session.execute(insert(Letter.__table__).values(_second_valid_letter(letter, 2)))
    db.session.rollback()
    # superseded and revoked letters are not limited, nor letters of another subject
    db.session.add_all([Letter(**_second_valid_letter(letter, 3) | {"status": "superseded"}),
                        Letter(**_second_valid_letter(letter, 4) | {"status": "revoked"}),
                        Letter(**_second_valid_letter(letter, 5) | {"subject_id": letter.subject_id + 1})])
    db.session.commit()
    assert letter_count() == 4


def test_the_migration_keeps_the_newest_valid_letter_and_supersedes_the_others(app, approved_application,
                                                                               make_user):
    application = approved_application()
    letter = obtain(letter_kind("visa_support"), application, by=make_user(roles=["staff"]))
    letter_id, reference = letter.id, letter.reference
    db.session.remove()
    downgrade(revision="0006")
    with db.engine.begin() as conn:  # what racing downloads left behind before the index
        conn.execute(insert(Letter.__table__), [_second_valid_letter(letter, n) for n in (1, 2)])
    upgrade()
    rows = db.session.execute(select(Letter.id, Letter.reference, Letter.status, Letter.superseded_by_id)
                              .order_by(Letter.id)).all()
    [(first, _, first_status, first_by), (second, _, second_status, second_by), (newest, newest_reference,
                                                                                    newest_status, _)] = rows
    assert first == letter_id and newest_reference == "EP-2099-0002"
    assert (first_status, second_status, newest_status) == ("superseded", "superseded", "valid")
    assert first_by == second_by == newest
    repaired = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter_superseded")).all()
    assert sorted(event.subject_id for event in repaired) == [first, second]
    assert {event.details["by"] for event in repaired} == {"EP-2099-0002"} and reference != newest_reference


def test_the_check_page_of_a_superseded_letter_says_not_to_rely_on_it(client, approved_application, make_user):
    application = approved_application()
    staff = make_user(roles=["staff"])
    old = obtain(letter_kind("visa_support"), application, by=staff)
    rename(application, "ANNA PETROVA")
    new = obtain(letter_kind("visa_support"), application, by=staff)
    old_token, new_token, new_reference = old.token, new.token, new.reference

    response = client.get(f"/verify/{old_token}")  # nobody signed in: a consulate
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Superseded: a newer letter replaces this one." in html
    assert "This letter must not be relied on." in html and "Valid:" not in html
    assert new_reference in html and new_token not in html
    main = html[html.index('<main id="main"'):html.index("</main>")]
    # the verdict links to nothing but the public "check a letter" and certificates pages
    assert set(re.findall(r'\b(?:href|action|src)="([^"]*)"', main)) == {"/verify", "/verify/certificates"}
    # whatever else the page links to answers a visitor who is not signed in (the header's
    # dashboard link, which sends a visitor to sign in, is the site's, not the letter's)
    for target in set(re.findall(r'href="(/[^"#]*)"', html)) - {"/"}:
        response = client.get(target)
        response.close()
        assert response.status_code == 200, target

    html = client.get(f"/verify/{new_token}").get_data(as_text=True)
    assert "Valid: this letter was issued by" in html and "must not be relied on" not in html


def test_the_check_page_of_a_revoked_letter_says_revoked(client, approved_application, make_user):
    from portal.letters import revoke

    application = approved_application()
    staff = make_user(roles=["staff"])
    letter = obtain(letter_kind("visa_support"), application, by=staff)
    revoke(letter, "Issued to the wrong consulate.", by=staff, holder=None)
    html = client.get(f"/verify/{letter.token}").get_data(as_text=True)
    assert re.search(r"Revoked on \d{1,2} [A-Z][a-z]+ \d{4}: this letter no longer stands\.", html)
    assert "This letter must not be relied on." in html
    assert "Valid:" not in html and "Superseded" not in html and "wrong consulate" not in html
