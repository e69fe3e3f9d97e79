"""Flask extensions, created once and bound to each app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from flask import has_request_context, request, session
from flask_babel import Babel
from flask_caching import Cache
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Model)

# The base of every model. At run time it is ``db.Model`` (Flask-SQLAlchemy's subclass of
# ``Model``, with its table naming and ``query``); mypy cannot take a base class from an
# attribute, so to it the base is ``Model``, which declares all the mapping it checks.
if TYPE_CHECKING:
    BaseModel = Model
else:
    BaseModel = db.Model


def begin_writing() -> None:
    """Start the session's transaction as a writer. On SQLite a transaction that reads and
    then writes fails at once ("database is locked") if another writer committed in
    between; taking the write lock first (BEGIN IMMEDIATE) makes it wait its turn instead.
    A transaction that has already written holds the lock. PostgreSQL needs nothing."""
    if db.session.get_bind().dialect.name != "sqlite":
        return
    dbapi_connection = db.session.connection().connection.dbapi_connection
    if not getattr(dbapi_connection, "in_transaction", True):
        db.session.execute(text("BEGIN IMMEDIATE"))


def serialise(name: str) -> None:
    """Hold the lock called ``name`` until this transaction ends: writers of one kind of change
    (making a Gift Aid claim …) go one at a time, the next seeing what the first committed.
    PostgreSQL: a transaction-level advisory lock; SQLite: its write lock (BEGIN IMMEDIATE)."""
    begin_writing()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


M = TypeVar("M")


def lock_row(model: type[Any], ident: Any) -> None:
    """Hold the row of ``model`` with primary key ``ident`` until this transaction ends.

    A decision that checks a total and then writes against it (a category's approved
    amount, a gift's allocations) locks the row the total belongs to first; the next one
    waits here, then counts what the first committed. PostgreSQL: ``SELECT … FOR UPDATE``
    on the row (the base table's, for joined inheritance). SQLite has no row locks: the
    transaction takes the database's write lock (BEGIN IMMEDIATE) instead. A refusal must
    roll back at once, so that nobody waits on a change that will not happen."""
    begin_writing()
    (key,) = sa_inspect(model).base_mapper.local_table.primary_key.columns
    db.session.execute(select(key).where(key == ident).with_for_update())


def lock_for_update(model: type[M], ident: Any) -> M:
    """``lock_row``, then the object freshly read: anything loaded before the lock may be
    stale (refresh it, or read totals with a query, after this call)."""
    lock_row(model, ident)
    mapper = sa_inspect(model)
    return db.session.execute(select(model).where(mapper.primary_key[0] == ident)
                              .execution_options(populate_existing=True)).scalar_one()


migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
cache = Cache()  # staff pages (portal.page_cache)

SUPPORTED_LANGUAGES = ("en", "ru")
# The charity is British: English dates and numbers are written the British way.
FORMAT_LOCALES = {"en": "en_GB", "ru": "ru"}


def current_language() -> str:
    """The user's own choice, then the session's, then the browser's: "en" or "ru"."""
    if not has_request_context():
        return "en"
    if current_user.is_authenticated and current_user.preferred_language in SUPPORTED_LANGUAGES:
        return current_user.preferred_language
    if session.get("lang") in SUPPORTED_LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en"


def select_locale() -> str:
    return FORMAT_LOCALES[current_language()]
