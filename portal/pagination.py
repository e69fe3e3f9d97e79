"""Seek ("keyset") pagination for long lists: a page starts just after the last row of the
page before it, found through an index, so page 1,000 costs what page 1 costs; and counts that
stop at a cap instead of counting every row of fifteen years.

A page's links carry the row to start from (``after``: the last row shown; ``before``: the
first) and the page's number, for show; a bare ``?page=N`` (a bookmark) still works, by OFFSET.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_

from .extensions import db

COUNT_CAP = 1000


@dataclass
class SeekPage:
    items: list[Any]
    number: int
    total: int  # exact up to COUNT_CAP
    capped: bool  # more rows than COUNT_CAP
    after: int | None  # the next page starts after this row (None: this is the last page)
    before: int | None  # the previous page ends before this row (None: this is the first page)
    per_page: int

    @property
    def pages(self) -> int | None:
        """How many pages there are, when the count was not capped."""
        return None if self.capped else max(1, -(-self.total // self.per_page))


def capped_count(query: Select[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``query`` selects, counting no further than ``cap``; and whether there are more."""
    found = db.session.scalar(select(func.count()).select_from(query.order_by(None).limit(cap + 1).subquery())) or 0
    return min(found, cap), found > cap


def seek_page(query: Select[Any], keys: Sequence[ColumnElement[Any]],
              key_row: Callable[[int], Any], *, descending: bool, per_page: int,
              after: int | None = None, before: int | None = None, number: int = 1) -> SeekPage:
    """One page of ``query`` (filters applied, no order) sorted by ``keys`` (unique: the last
    is the row's id), all ascending or all ``descending``. ``key_row(row_id)`` is a scalar
    subquery of that row's ``keys``: where a page given by ``after``/``before`` starts."""
    total, capped = capped_count(query)
    backwards = before is not None and after is None
    rising = descending == backwards  # the order read from the database
    cursor = before if backwards else after
    if cursor is not None:
        start = key_row(cursor)
        query = query.where(tuple_(*keys) > start if rising else tuple_(*keys) < start)
    elif number > 1:
        query = query.offset((number - 1) * per_page)
    rows = list(db.session.scalars(
        query.order_by(*(key.asc() if rising else key.desc() for key in keys)).limit(per_page + 1)))
    more, rows = len(rows) > per_page, rows[:per_page]
    if backwards:
        rows.reverse()
    has_next = True if backwards else more
    has_prev = more if backwards else (cursor is not None or number > 1)
    return SeekPage(items=rows, number=max(1, number), total=total, capped=capped,
                    after=rows[-1].id if rows and has_next else None,
                    before=rows[0].id if rows and has_prev else None, per_page=per_page)
