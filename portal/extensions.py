"""Flask extensions, created once and bound to each app in ``create_app``."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, text
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

migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()

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
