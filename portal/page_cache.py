"""Staff pages served again from a cache while nothing they could show has changed.

Every committed change raises one number, ``data_generation.value``, in the same transaction:
the last statement before COMMIT, so it is the last lock a writer takes (nothing waits on a
writer that holds it, and PostgreSQL cannot deadlock on it) and a reader who sees the new
number sees the change. A page is cached under the number read *before* its own queries, so a
page built from older data is never served once a change is committed, by this process or any
other (another worker, the task consumer, a command). Writes are noticed on the connection
(an INSERT, UPDATE or DELETE, the ORM's or raw SQL through SQLAlchemy); only a change made
outside the portal (psql) waits for the entries to expire (``CACHE_DEFAULT_TIMEOUT``).

The key holds, beside the number: the path and query, the htmx headers that choose a
fragment, the signed-in user, the session's CSRF token (the forms on the page carry it), the
language and today's date (figures at today's rates, the current year). Permission is checked
before the view runs, so a cached page is never a way round it. Not stored: a response other
than 200, one that changed the session (its first CSRF token, a flash consumed) or set a
cookie; not looked up: a request with a flash message waiting, which the page must show.

The store is Flask-Caching's: per process by default (``SimpleCache``, ``CACHE_THRESHOLD``
pages), shared by the workers with ``CACHE_TYPE = "RedisCache"``; ``"NullCache"`` turns it off.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from . import clock
from .extensions import cache, db
from .models import DataGeneration

F = TypeVar("F", bound=Callable[..., Any])

_WROTE = "portal_wrote"  # Connection.info: this transaction has changed something
_RAW_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)


@event.listens_for(Engine, "after_cursor_execute")
def _note_write(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete) \
            or _RAW_WRITE.match(statement):
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_over(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


@event.listens_for(Session, "before_commit")
def _raise_generation_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint: the number rises when the whole transaction commits. Raising it here
        # would hold its row locked for the rest of the transaction, and every writer behind it.
        return
    session.flush()
    connection = session.connection()
    if connection.info.pop(_WROTE, False):
        raise_generation(connection)


def raise_generation(connection: Connection) -> None:
    """Raise the number in ``connection``'s transaction: the ORM session does it as the last
    statement of every transaction that wrote; a command writing with Core calls it itself."""
    connection.execute(update(DataGeneration).values(value=DataGeneration.value + 1))
    connection.info.pop(_WROTE, None)


def generation() -> int | None:
    """The number now (None in a database without its row: nothing is cached there)."""
    return db.session.scalar(select(DataGeneration.value).where(DataGeneration.id == 1))


def _bypass() -> bool:
    if (request.method != "GET" or "_flashes" in session or not current_user.is_authenticated
            or current_app.config["CACHE_TYPE"] == "NullCache"):
        return True
    g.page_generation = generation()
    return g.page_generation is None


def _key() -> str:
    fragment = sorted((name, value) for name, value in request.headers.items() if name.lower().startswith("hx-"))
    parts = (g.page_generation, clock.today().isoformat(), str(get_locale()), current_user.get_id(),
             session.get("csrf_token"), request.full_path, fragment)
    return "page/" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _storable(rv: Any) -> bool:
    if session.modified:
        return False
    response = current_app.make_response(rv)
    return response.status_code == 200 and not response.is_streamed and "Set-Cookie" not in response.headers


def cached_page(view: F) -> F:
    """Serve ``view``'s page from the cache while the data and everything in the key are
    unchanged (see the module's docstring), for ``CACHE_DEFAULT_TIMEOUT`` seconds at most."""
    return cache.cached(unless=_bypass, make_cache_key=_key, response_filter=_storable)(view)  # type: ignore[return-value]
