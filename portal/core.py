"""Wiring of the always-on core: extensions, accounts, modules, errors, CLI."""

from __future__ import annotations

import importlib
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from flask import Flask, Request, has_request_context, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, SecurityError

from . import audit, backup, cli, letters, mail, permissions, privacy, tasks  # noqa: F401 (backup, mail, privacy: their tasks)
from .blueprints.core import hooks as core_hooks
from .duties import is_beneficiary
from .errors import UserError
from .extensions import babel, cache, csrf, current_language, db, htmx, limiter, login_manager, migrate, select_locale
from .labels import budget_category_label, role_label
from .modules import build_plugin_manager, navigation_for
from .money import format_minor
from .responses import field_errors, url_for_page
from .weblinks import is_web_address

CORE_BLUEPRINTS = ("core", "auth", "admin", "catalogue")
# Endpoints whose upload is only looked at, never kept: parsed in memory, never spooled to disk.
IN_MEMORY_UPLOADS = frozenset({"letters.check_file"})


class PortalRequest(Request):
    """Flask's request, except that an upload to ``IN_MEMORY_UPLOADS`` stays in memory (Werkzeug
    spools anything above 500 KB to a temporary file). Their size is limited before parsing."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.url_rule is not None and self.url_rule.endpoint in IN_MEMORY_UPLOADS:
            return BytesIO()
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)


def init_core(app: Flask) -> None:
    app.request_class = PortalRequest
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    cache.init_app(app)
    _init_login(app)

    for name in CORE_BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"portal.blueprints.{name}").bp)
    app.register_blueprint(letters.bp)

    pm = build_plugin_manager(app, core_hooks)
    app.extensions["portal_modules"] = pm
    for blueprints in pm.hook.portal_blueprints():
        for blueprint in blueprints or []:
            app.register_blueprint(blueprint)
    pm.hook.portal_init_app(app=app)
    tasks.init_tasks(app)  # after the modules: their tasks are declared by now

    app.before_request(permissions.enforce)
    app.context_processor(_layout_context)
    app.jinja_env.filters["money"] = format_minor
    app.jinja_env.tests["web_address"] = is_web_address
    app.jinja_env.globals.update(
        role_label=role_label,
        budget_category_label=budget_category_label,
        audit_action_label=audit.action_label,
        audit_state_label=audit.state_label,
        current_language=current_language,
        url_for_page=url_for_page,
        field_errors=field_errors,
        letter_panel=letters.views.letter_panel,
        is_beneficiary=is_beneficiary,
    )
    _register_error_pages(app)
    cli.register(app)


def _migrations_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "migrations"


def _init_login(app: Flask) -> None:
    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open that page.")
    login_manager.login_message_category = "info"
    # A changed address or browser does not drop the session; the token does the revoking.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        return db.session.scalar(select(User).where(User.session_token == token, User.active.is_(True)))


def _layout_context() -> dict[str, Any]:
    if not has_request_context():  # e-mails rendered by a command have no page around them
        return {}
    roles = permissions.effective_roles(current_user)
    return {
        "nav_entries": navigation_for(current_user),
        "is_staff": "staff" in roles,
        "has_role": lambda *wanted: bool(roles & set(wanted)),
    }


ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("That action is not allowed here"),
    409: _l("That change conflicts with another"),
    410: _l("This document is no longer kept"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}


def _register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException) -> Any:
        code = error.code or 500
        if code == 500:
            db.session.rollback()  # the page below must not trip over a failed transaction
        if isinstance(error, CSRFError):
            message = _l("Your form had expired or was sent without its security token. "
                         "Please go back, reload the page and try again.")
        elif code == 429:
            message = _l("Too many attempts in a short time. Please wait a minute and try again.")
        elif code == 410:
            message = _l("It was removed after the retention period. The letter's reference still verifies.")
        else:
            message = error.description if code == 409 else None  # a conflict explains itself
        template = "errors/_error.html" if htmx else "errors/error.html"
        return render_template(template, code=code, title=ERROR_TITLES.get(code, error.name),
                               message=message), code

    def refused(error: UserError) -> Any:
        # A refusal no view showed beside its form: the error page says why, with its status.
        db.session.rollback()  # @transaction did already; a service without it must not leave a change behind
        template = "errors/_error.html" if htmx else "errors/error.html"
        title = ERROR_TITLES.get(error.status) or _l("That could not be done")
        return render_template(template, code=error.status, title=title, message=str(error.message)), error.status

    def untrusted_host(error: SecurityError) -> Any:
        # No URL can be built for a request to a host outside TRUSTED_HOSTS: a page of its own.
        return render_template("errors/untrusted_host.html"), 400

    for code in ERROR_TITLES:
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, render_error)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(UserError, refused)
