"""Web addresses people give the portal (a conference's or a clinic's website).

Only ``http`` and ``https`` addresses with a host are kept: a ``javascript:`` or ``data:``
address rendered as a link would run in the reader's session. The model refuses anything
else whatever form or import it came through; forms show the same rule beside the field,
and templates link only what passes (a value stored before the rule is shown as text).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


class NotAWebAddress(ValueError):
    """A value for a website field that is not an http(s) address."""


def is_web_address(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 300:
        return False
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        return False
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:  # a malformed port or bracketed host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(hostname)


def checked_web_address(value: str | None) -> str | None:
    """``value`` if it is empty or a web address; raises ``NotAWebAddress`` otherwise."""
    if value in (None, ""):
        return None
    if not is_web_address(value):
        raise NotAWebAddress(value)
    return value
