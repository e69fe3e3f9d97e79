"""The Programme Portal: ``create_app`` builds the core and the modules the settings name."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Defaults, apply_environment, check_rate_limit_storage, ensure_instance_secrets
from .hookspecs import hookimpl
from .urls import check_base_url, trusted_hosts

__all__ = ["create_app", "hookimpl"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, overwrite what is deleted, let readers and a writer share the
    file, wait on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA secure_delete = ON")  # removed personal data is overwritten, not left in free pages
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 15000")  # a writer waits out a chunk of letters being rendered
        cursor.close()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. ``test_config`` overrides every other setting; its ``INSTANCE_PATH``
    (or the ``PORTAL_INSTANCE_PATH`` variable) moves the instance folder."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("PORTAL_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True,
                instance_path=str(Path(instance_path).resolve()) if instance_path else None)
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    apply_environment(app.config)
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["TIMEZONE"])

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    ensure_instance_secrets(app.config, instance)
    check_base_url(app.config)
    check_rate_limit_storage(app.config)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / 'portal.db'}"
    )
    app.config["UPLOAD_FOLDER"] = app.config.get("UPLOAD_FOLDER") or str(instance / "uploads")

    if app.config["TRUSTED_PROXIES"]:
        # Behind a load balancer: take the client's address, scheme and host from its headers,
        # so per-address limits are right and a forwarded host is checked against TRUSTED_HOSTS.
        count = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    from . import security
    from .core import init_core
    from .request_log import init_request_log

    init_request_log(app)  # first: its after_request hook then runs last, on the finished response
    security.init_security(app)
    init_core(app)
    return app
