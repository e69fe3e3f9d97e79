"""States and actions read right in both languages: each record type names its own (through
``portal_labels``), so Russian agrees with the noun — визит подтверждён, заявка подтверждена."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal import audit
from portal.extensions import db
from portal.hookspecs import ACTION, STATE
from portal.models import ExpertVisit

ROOT = Path(__file__).resolve().parents[2]

# What a Russian reader must see: the state agrees with the record's noun.
RUSSIAN = {
    ("expert_visits", "planned"): "запланирован",
    ("expert_visits", "confirmed"): "подтверждён",
    ("expert_visits", "completed"): "завершён",
    ("expert_visits", "cancelled"): "отменён",
    ("applications", "submitted"): "подана",
    ("applications", "approved"): "одобрена",
    ("applications", "cancelled"): "отменена",
    ("applications", "completed"): "завершена",
    ("conferences", "confirmed"): "подтверждена",
    ("donors", "valid"): "действительна",  # a donor's Gift Aid declaration
    ("letters", "valid"): "действительно",
    ("letters", "revoked"): "отозвано",
}


def state_label(subject_type: str, state: str, locale: str) -> str:
    """The label as a page shows it (the Jinja global every template uses)."""
    with force_locale(locale):
        return render_template_string("{{ audit_state_label(subject_type, state) }}",
                                      subject_type=subject_type, state=state)


def test_every_state_of_every_record_type_reads_in_english_and_russian(app):
    states = sorted(key for key in audit.labels() if key[1] == STATE)
    assert {subject_type for subject_type, _kind, _state in states} >= {
        "applications", "expert_visits", "expense_lines", "expense_claims", "donations", "donors", "letters",
        "users", "conferences"}
    with app.test_request_context():
        for subject_type, _kind, state in states:
            english, russian = state_label(subject_type, state, "en_GB"), state_label(subject_type, state, "ru")
            assert english and english != "—", (subject_type, state)
            assert re.search("[а-яё]", russian, re.IGNORECASE), (subject_type, state, russian)
            assert russian != english, (subject_type, state)


@pytest.mark.parametrize(("subject_type", "state"), sorted(RUSSIAN))
def test_the_russian_state_agrees_with_its_noun(app, subject_type, state):
    with app.test_request_context():
        assert state_label(subject_type, state, "ru") == RUSSIAN[(subject_type, state)]


def test_one_english_word_reads_as_two_russian_ones(app):
    with app.test_request_context():
        assert state_label("expert_visits", "confirmed", "en_GB") == "confirmed"
        assert state_label("conferences", "confirmed", "en_GB") == "confirmed"
        assert state_label("expert_visits", "confirmed", "ru") != state_label("conferences", "confirmed", "ru")


def test_a_state_nobody_named_reads_as_stored(app):
    with app.test_request_context():
        assert state_label("expert_visits", "on_hold", "ru") == "on_hold"
        assert audit.state_label("expert_visits", None) == "—"


def test_a_confirmed_visit_reads_masculine_on_its_page(client, login, make_user, make_clinic):
    staff = make_user(roles=["staff"], preferred_language="ru")
    expert = make_user(roles=["expert"], name="Prof. Maria Rossi")
    visit = ExpertVisit(beneficiary_id=expert.id, host_clinic_id=make_clinic().id, status="planned",
                        arrival_on=dt.date(2027, 3, 1), departure_on=dt.date(2027, 3, 5), purpose="Lectures")
    db.session.add(visit)
    audit.record("visit_planned", visit, actor=staff, to_state="planned")
    visit.status = "confirmed"
    audit.record("visit_confirm", visit, actor=staff, from_state="planned", to_state="confirmed")
    db.session.commit()
    login(staff)
    page = re.sub(r"<[^>]+>", " ", client.get(f"/visits/{visit.id}").get_data(as_text=True))
    assert "запланирован → подтверждён" in page  # the timeline
    assert "Визит подтверждён" in page
    assert "подтверждена" not in page


def recorded_actions() -> set[tuple[str, str]]:
    """Every action the portal records with ``audit.record``: ("exact", name) or, for an
    f-string such as f"visit_{action}", ("prefix", "visit_")."""
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit" and node.args):
                continue
            first = node.args[0]
            branches = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for branch in branches:
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    found.add(("exact", branch.value))
                elif isinstance(branch, ast.JoinedStr) and isinstance(branch.values[0], ast.Constant):
                    found.add(("prefix", str(branch.values[0].value)))
    return found


def test_every_recorded_action_has_a_label(app):
    actions = {key for _subject_type, kind, key in audit.labels() if kind == ACTION}
    recorded = recorded_actions()
    assert ("exact", "letter_issued") in recorded and ("prefix", "visit_") in recorded  # the scan works
    unnamed = sorted(name for how, name in recorded
                     if (how == "exact" and name not in actions)
                     or (how == "prefix" and not any(action.startswith(name) for action in actions)))
    assert unnamed == []
