"""A consulate officer checks letters on the public page, in a real browser with axe-core and
without signing in: the genuine file says genuine and valid, an altered copy says it is not
a letter we issued, and a revoked paper letter (reference and check code typed from the paper)
says on which day it was revoked. The page fits a 360 px phone and works without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.extensions import db
from portal.letters import revoke
from portal.models import Letter

pytestmark = pytest.mark.e2e
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def check_file(page: Page, base: str, path: Path) -> None:
    page.goto(f"{base}/verify")
    page.get_by_label("The letter as a PDF file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()


def test_an_officer_checks_a_genuine_an_altered_and_a_revoked_letter(
        live_server: Any, page: Page, letter_of_kind: Any, make_user: Any, tmp_path: Path, axe: Any,
        console_errors: Any) -> None:
    letter = letter_of_kind("visa_support")
    reference, code, letter_id = letter.reference, letter.check_code, letter.id
    genuine = tmp_path / f"{reference}.pdf"
    genuine.write_bytes(letter.pdf)
    altered = tmp_path / "altered.pdf"
    content = bytearray(letter.pdf)
    content[len(content) // 2] ^= 0x01  # one byte
    altered.write_bytes(bytes(content))
    console_errors.watch(page)

    check_file(page, live_server.url, genuine)
    result = page.locator("#check-result")
    expect(result).to_contain_text(f"Genuine: this file is exactly letter {reference} as we issued it.")
    expect(result).to_contain_text("Valid: this letter was issued by Gift of Life and still stands.")
    expect(result).to_contain_text("Its digital signature is intact")
    assert axe(page) == []

    check_file(page, live_server.url, altered)
    expect(page.locator("#check-result")).to_contain_text("Not a letter we issued")
    expect(page.locator("#check-result")).not_to_contain_text("Valid")

    revoke(db.session.get(Letter, letter_id), "Issued to the wrong consulate.", by=make_user(roles=["staff"]),
           holder=None)
    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Reference").fill(reference.lower())
    page.get_by_label("Check code").fill(f"{code[:4].lower()}-{code[4:]}")  # as read off the paper
    page.get_by_role("button", name="Check the letter").click()
    verdict = page.locator("#check-result .verdict")
    expect(verdict).to_have_text(re.compile(r"Revoked on \d{1,2} [A-Z][a-z]+ \d{4}: this letter no longer stands"))
    expect(page.locator("#check-result")).not_to_contain_text("wrong consulate")
    assert axe(page) == []

    page.get_by_role("link", name="The certificates that sign our letters").click()
    expect(page.locator("main")).to_contain_text("SHA-256 fingerprint")
    assert axe(page) == []
    assert console_errors == []


def test_the_check_pages_fit_a_phone_and_work_without_javascript(
        live_server: Any, browser: Browser, browser_context_args: dict[str, Any], letter_of_kind: Any,
        tmp_path: Path) -> None:
    letter = letter_of_kind("invitation")
    path = tmp_path / "letter.pdf"
    path.write_bytes(letter.pdf)
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 360, "height": 740},
                                     "java_script_enabled": False})
    page = context.new_page()
    check_file(page, live_server.url, path)
    expect(page.locator("#check-result")).to_contain_text("Genuine")
    page.wait_for_load_state("load")  # the stylesheet too: an unstyled page is as wide as its longest line
    widths = {"the result": page.evaluate(WIDTHS)}
    for path in ("/verify/certificates", f"/verify/{letter.token}"):
        page.goto(f"{live_server.url}{path}")
        widths[path] = page.evaluate(WIDTHS)
    context.close()
    assert {name: width for name, width in widths.items() if width[0] > width[1]} == {}
