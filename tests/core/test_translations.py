"""Every user-facing string in the code has its Russian translation, in its own context, and
every state or action label a module gives (``portal_labels``) carries a context."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import pgettext

from portal import audit
from portal.hookspecs import STATE

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}  # as `make extract-messages` reads them


def source_messages() -> set[tuple[str | None, str]]:
    """Every (context, message) the code and templates use."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    # Like `make extract-messages`: folders such as _partials/ and _macros/ are searched too.
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS,
        directory_filter=lambda path: not Path(path).name.startswith(".") and Path(path).name != "__pycache__",
    ):
        found.add((context or None, message if isinstance(message, str) else message[0]))
    return found


def test_every_string_has_a_russian_translation():
    with open(ROOT / "portal/translations/ru/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    translated = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if all(strings):
            translated.add((message.context or None, message.id if isinstance(message.id, str) else message.id[0]))
    in_source = source_messages()
    assert {(None, "Sign out"), (None, "History"), (None, "Please correct the following"),
            ("expert visit state", "confirmed")} <= in_source  # every folder was read, contexts kept
    missing = sorted(in_source - translated, key=lambda entry: (entry[0] or "", entry[1]))
    assert missing == [], "run `make extract-messages` and translate: " + "; ".join(
        f"{context}|{message}" if context else message for context, message in missing[:20])


def test_every_label_a_module_gives_is_a_pgettext_with_its_own_context(app):
    labels = audit.labels()
    assert labels, "no module gave any label"
    without_context = [key for key, label in labels.items()
                       if getattr(label, "_func", None) is not pgettext or not (label._args or [""])[0]]
    assert without_context == [], "wrap these in lazy_pgettext(context, text): " + ", ".join(map(str, without_context))
    # a state's context names the noun it agrees with ("expert visit state"), never a bare word
    bare_states = [key for key, label in labels.items() if key[1] == STATE and not label._args[0].endswith("state")]
    assert bare_states == []


@pytest.mark.parametrize("config_overrides", [{"MODULES": []}])
def test_the_core_names_its_own_states_through_the_same_hook(app):
    keys = set(audit.labels())
    assert {("users", STATE, "active"), ("conferences", STATE, "proposed"), ("letters", STATE, "revoked")} <= keys
    assert not any(subject == "expert_visits" for subject, _kind, _key in keys)
