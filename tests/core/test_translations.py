"""Every user-facing string in the code has its Russian translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def source_messages() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    # Like `make extract-messages`: folders such as _partials/ and _macros/ are searched too.
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS,
        directory_filter=lambda path: not Path(path).name.startswith(".") and Path(path).name != "__pycache__",
    ):
        found.add(message if isinstance(message, str) else message[0])
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
            translated.add(message.id if isinstance(message.id, str) else message.id[0])
    in_source = source_messages()
    assert {"Sign out", "History", "Please correct the following"} <= in_source  # every folder was read
    missing = sorted(in_source - translated)
    assert missing == [], "run `make extract-messages` and translate: " + "; ".join(missing[:20])
