"""Text that is printed: names and facts on letters and pages carry no invisible characters.

Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) can make "Ivanov" print
as a different name on a letter, or hide part of it; zero-width characters (U+200B–U+200D,
U+2060, U+FEFF) and the directional marks (U+200E, U+200F, U+061C) make two names that look
the same differ. Names are cleaned as they are stored, and every fact a letter certifies is
cleaned again as the letter is made, whatever it came from.
"""

from __future__ import annotations

import re
from typing import Any

INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def printable(value: Any) -> Any:
    """``value`` without invisible and direction-changing characters (non-text passes through)."""
    return INVISIBLE.sub("", value) if isinstance(value, str) else value


def printable_facts(value: Any) -> Any:
    """A letter's facts with every string in them cleaned (dicts and lists walked)."""
    if isinstance(value, dict):
        return {key: printable_facts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_facts(item) for item in value]
    return printable(value)
