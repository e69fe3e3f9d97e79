"""Check a letter on the public page: by its file (compared byte for byte with what we issued,
then its signature validated; never stored, never parsed unless it is ours) or by the reference
and check code printed on paper. Both are rate-limited per address."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.letters import revoke
from portal.letters.checking import MAX_BYTES, revisions
from portal.models import StoredFile, User

NOT_OURS = "Not a letter we issued"


def upload(client, content: bytes, name: str = "letter.pdf"):
    response = client.post("/verify/file", data={"letter": (io.BytesIO(content), name)})
    return response, response.get_data(as_text=True)


def by_code(client, reference: str, code: str):
    response = client.post("/verify/code", data={"reference": reference, "code": code})
    return response, response.get_data(as_text=True)


def test_the_page_offers_both_ways_in(client):
    html = client.get("/verify").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'action="/verify/file"' in html
    assert 'action="/verify/code"' in html and 'name="reference"' in html and 'name="code"' in html


def test_a_genuine_file_is_genuine_valid_and_its_signature_intact(client, letter_of_kind):
    letter = letter_of_kind("visa_support")
    response, html = upload(client, letter.pdf)
    assert response.status_code == 200
    assert f"Genuine: this file is exactly letter {letter.reference} as we issued it." in html
    assert "Valid: this letter was issued by Gift of Life and still stands." in html
    assert "Its digital signature is intact and covers the whole letter" in html
    assert NOT_OURS not in html


@pytest.mark.parametrize("where", ["first byte", "middle", "last byte", "one byte less"])
def test_a_file_changed_by_one_byte_is_not_ours(client, letter_of_kind, where):
    pdf = bytearray(letter_of_kind("visa_support").pdf)
    if where == "one byte more":
        pdf += b" "
    elif where == "one byte less":
        del pdf[-1]
    else:
        position = {"first byte": 0, "middle": len(pdf) // 2, "last byte": len(pdf) - 1}[where]
        pdf[position] ^= 0x01
    response, html = upload(client, bytes(pdf))
    assert response.status_code == 200
    assert NOT_OURS in html and "Genuine" not in html and "Valid:" not in html


@pytest.mark.parametrize("added", [b"\n1 0 obj\n<< /Type /Annot /Subtype /Text /Contents (fine) >>\nendobj\n%%EOF\n",
                                   b" "])
def test_a_letter_with_something_saved_after_it_is_recognised_as_such(client, letter_of_kind, added):
    """A viewer saving comments appends a revision: the letter's bytes stay as the file's start."""
    letter = letter_of_kind("donation_thanks")
    _response, html = upload(client, letter.pdf + added)
    assert f"This file holds letter {letter.reference} exactly as we issued it, with something added" in html
    assert "Genuine: this file is exactly" not in html and "not covered by our signature" in html
    assert len(revisions(letter.pdf + added)) >= 2


def test_the_file_is_not_kept(app, client, letter_of_kind):
    letter = letter_of_kind("visa_support")
    uploads = Path(app.config["UPLOAD_FOLDER"])
    before = sorted(uploads.rglob("*")) if uploads.exists() else []
    stored = db.session.scalar(select(func.count()).select_from(StoredFile))
    upload(client, letter.pdf)
    upload(client, b"%PDF-1.7 not a letter at all")
    assert (sorted(uploads.rglob("*")) if uploads.exists() else []) == before
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == stored


@pytest.mark.parametrize("content", [b"", b"GIF89a not a pdf", b"%PDF-1.7\n" + b"\x00" * 5000,
                                     b"%PDF-1.4\n1 0 obj << /Length 999999999 >> stream\n%%EOF",
                                     "=HYPERLINK(\"http://evil\")\u202e.pdf".encode()])
def test_hostile_or_empty_files_get_an_answer_not_an_error(client, content):
    response, html = upload(client, content, name="\u202eevil\x07.pdf")
    assert response.status_code == 200 and NOT_OURS in html
    response, html = upload(client, content, name="evil\r\n.pdf")  # a name that breaks the part's header
    answers = {200: NOT_OURS, 422: "Choose the PDF file", 400: "could not be understood"}  # 400: NUL in a field
    assert response.status_code in answers and answers[response.status_code] in html


def test_no_file_chosen_says_so_beside_the_field(client):
    response = client.post("/verify/file", data={})
    assert response.status_code == 422 and "Choose the PDF file of the letter." in response.get_data(as_text=True)


def test_a_file_over_five_megabytes_is_refused_with_a_message(client):
    # The body is encoded here: the test client would spool a large one to a file it never closes.
    boundary = "letter-check-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="letter"; filename="big.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + b"%PDF-1.7\n" + b"0" * MAX_BYTES + \
        f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/verify/file", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "larger than 5 MB" in html and 'name="letter"' in html  # the form is there to try again


def test_a_paper_letter_by_reference_and_check_code_in_any_case(client, letter_of_kind):
    letter = letter_of_kind("invitation")
    code = letter.check_code
    for typed_reference, typed_code in ((letter.reference, code), (letter.reference.lower(), code.lower()),
                                        (f"  {letter.reference} ", f"{code[:4]}-{code[4:]}"),
                                        (letter.reference, f" {code[:4].lower()} {code[4:]} ")):
        response, html = by_code(client, typed_reference, typed_code)
        assert response.status_code == 200, (typed_reference, typed_code)
        assert f"Letter {letter.reference}" in html and "Valid: this letter was issued" in html


def test_a_wrong_code_or_reference_says_neither_which(client, letter_of_kind):
    letter = letter_of_kind("visa_support")
    other = "".join("A" if ch != "A" else "B" for ch in letter.check_code)
    answers = [by_code(client, letter.reference, other), by_code(client, "EP-1999-0001", letter.check_code)]
    for response, html in answers:
        assert response.status_code == 404
        assert "No letter has this reference and check code." in html
        assert "Valid:" not in html
    # the message is the same whichever was wrong, and what was typed is still in the form
    assert answers[0][1].count("No letter has this reference") == answers[1][1].count("No letter has this reference")
    assert f'value="{letter.reference}"' in answers[0][1]


@pytest.mark.parametrize("reference,code", [("", ""), ("EP-2026-0001", ""), ("x" * 500, "y" * 500),
                                            ("EP-2026\x1b[2J", "AB\x07CD"), ("'; DROP TABLE letters; --", "=1+1")])
def test_hostile_typed_input_gets_a_message_not_an_error(client, reference, code):
    response, html = by_code(client, reference, code)
    assert response.status_code in (404, 422)
    assert "error" in html
    assert db.session.execute(select(func.count()).select_from(User)).scalar() is not None  # the tables stand


def test_a_nul_character_is_refused_on_either_database(client):
    """PostgreSQL cannot store U+0000 in text; nobody types it. The answer is a 400 page."""
    response, html = by_code(client, "EP\x00-2026-0001", "ABCD\x00EFGH")
    assert response.status_code == 400 and "<html" in html
    assert client.get("/verify?reference=a%00b").status_code == 400
    assert client.get("/verify?reference=ab").status_code == 200


def test_a_revoked_letter_says_revoked_on_which_day(client, letter_of_kind, make_user):
    letter = letter_of_kind("visa_support")
    revoke(letter, "Issued to the wrong consulate.", by=make_user(roles=["staff"]), holder=None)
    _response, html = by_code(client, letter.reference, letter.check_code)
    assert re.search(r"Revoked on \d{1,2} [A-Z][a-z]+ \d{4}: this letter no longer stands", html)
    assert "wrong consulate" not in html  # the reason is the programme's, not the public's
    _response, html = upload(client, letter.pdf)
    assert "Genuine: this file is exactly" in html and "Revoked on" in html


def test_checks_are_rate_limited_per_address_and_a_forged_header_does_not_reset_it(make_app):
    app = make_app(LETTER_CHECK_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        for _ in range(3):
            assert by_code(client, "EP-2026-0001", "ABCDEFGH")[0].status_code == 404
        assert by_code(client, "EP-2026-0001", "ABCDEFGH")[0].status_code == 429
        forged = client.post("/verify/code", data={"reference": "EP-2026-0001", "code": "ABCDEFGH"},
                             headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
        assert forged.status_code == 429
        assert client.post("/verify/file", data={"letter": (io.BytesIO(b"x"), "a.pdf")}).status_code == 429
        other = app.test_client()
        response = other.post("/verify/code", data={"reference": "EP-2026-0001", "code": "ABCDEFGH"},
                              environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert response.status_code == 404  # another address has its own allowance


def test_a_letter_checked_after_its_certificate_expired_still_holds(client, letter_of_kind, tmp_path, app):
    """Years later the certificate has run out; the letter was signed while it held."""
    import datetime as dt

    from cryptography.hazmat.primitives.serialization import pkcs12

    from portal.letters import signing

    short = tmp_path / "short.p12"
    short.write_bytes(signing.self_signed_pkcs12("Gift of Life", years=1))
    app.config["LETTER_SIGNING_PKCS12"] = str(short)
    letter = letter_of_kind("visa_support")
    _key, certificate, _chain = pkcs12.load_key_and_certificates(short.read_bytes(), None)
    later = certificate.not_valid_after_utc + dt.timedelta(days=400)
    # the certificate the letter was signed with is the trust anchor: its expiry does not undo the letter
    assert signing.check_signature(letter.pdf, letter.certificate.der, later).holds
    assert signing.check_signature(letter.pdf, letter.certificate.der, letter.issued_at).holds
    _response, html = upload(client, letter.pdf)
    assert "Its digital signature is intact" in html
