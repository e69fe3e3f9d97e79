"""Free-text search over a few columns, the same way on every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_


def matches_any(columns: list[Any], text: str) -> ColumnElement[bool]:
    """Case-insensitive "contains" on any of ``columns``; % and _ in the text are literal."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
