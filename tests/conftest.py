"""Fixtures: a real database per test (SQLite file, or PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` is set), built once by the real migrations.

Under pytest-xdist every worker process has its own: a SQLite template in its own temporary
folder, or a PostgreSQL database of its own named after the worker (``<name>_gw0`` …)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from tests.run_suites import empty_postgres_schema

pytest_plugins = ["tests.fixtures.url_rules", "tests.fixtures.factories", "tests.fixtures.people",
                  "tests.fixtures.queries", "tests.fixtures.smtp", "tests.fixtures.redis_server",
                  "tests.fixtures.concurrency", "tests.fixtures.tasks", "tests.fixtures.letters"]

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
FIELD_KEY = Fernet.generate_key().decode()
# pytest-xdist names each worker process ("gw0", "gw1" …); unset in a serial run.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


# Under CI a skipped test is a failure: a browser or database that went missing must not
# turn into a green run. Under pytest-xdist the controlling process receives every
# worker's reports through this same hook, so it counts the whole run; what each worker
# counts for itself is never shown.
_skipped: list[str] = []
_browser_passed: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)
    elif report.when == "call" and report.passed and "e2e" in report.keywords:
        _browser_passed.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    backend = "PostgreSQL" if POSTGRES_URL else "SQLite"
    workers = terminalreporter.config.getoption("numprocesses", None)  # pytest-xdist's -n
    parallel = f", {workers} pytest-xdist workers" if workers else ""
    terminalreporter.write_line(f"database backend: {backend}{parallel}")
    terminalreporter.write_line(f"browser tests passed in Chromium: {len(_browser_passed)}")
    if IN_CI and _skipped:
        terminalreporter.write_line(f"CI=true: {len(_skipped)} skipped test(s) count as failures:", red=True)
        for nodeid in _skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)


def base_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "FIELD_ENCRYPTION_KEYS": [FIELD_KEY],
        "SERVER_NAME": None,
        # Cheap argon2id for speed; production keeps the library's defaults.
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }
    if database_url.startswith("postgresql"):
        # For speed, as above: a commit returns before its WAL reaches the disk (lost only if the
        # server itself crashes); what other connections see, and when, is unchanged.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c synchronous_commit=off"}}
    return config


@event.listens_for(Engine, "connect")
def _sqlite_commits_without_waiting_for_the_disk(dbapi_connection: Any, connection_record: Any) -> None:
    """For speed, as for PostgreSQL above: in WAL mode ``synchronous = NORMAL`` keeps every
    commit through a killed process and loses the last ones only to a power cut."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")


# Tables whose trigger refuses DELETE and UPDATE; TRUNCATE fires no row trigger.
APPEND_ONLY_TABLES = ("audit_events",)
# Tables whose rows the migrations write and the portal only updates: kept as they are.
MIGRATION_FILLED_TABLES = ("data_generation",)


def _empty_all_tables(url: str) -> None:
    """Delete every row and restart every sequence, as ``TRUNCATE … RESTART IDENTITY`` of every
    table would, at a tenth of its cost for a test's few rows (TRUNCATE gives each table it
    empties a new file: half a second a test for all of them)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        # First, or deleting a user would update the actor of their audit entries (SET NULL).
        conn.execute(text("TRUNCATE " + ", ".join(APPEND_ONLY_TABLES)))
        for table in reversed(db.metadata.sorted_tables):  # rows that refer to others go first
            if table.name not in APPEND_ONLY_TABLES + MIGRATION_FILLED_TABLES:
                conn.execute(table.delete())
        conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                          " WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
    engine.dispose()


def worker_postgres_url(url: str) -> str:
    """This process's PostgreSQL database: ``url``'s own in a serial run, ``<name>_gw0`` in
    xdist worker gw0, so that workers never empty each other's tables."""
    if not XDIST_WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database at the newest migration: a SQLite file to copy, or PostgreSQL
    (this worker's own database, created if missing)."""
    root = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        url = worker_postgres_url(POSTGRES_URL)
        problem = empty_postgres_schema(url)
        if problem is not None:
            pytest.fail(f"cannot use PostgreSQL at {make_url(url)!r}: {problem}")
    else:
        url = f"sqlite:///{root / 'template.db'}"
    app = create_app(base_config(root, url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    if not POSTGRES_URL:
        # One file to copy: fold the write-ahead log back into it.
        with sqlite3.connect(root / "template.db") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
    return url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    if POSTGRES_URL:
        yield migrated_database
        _empty_all_tables(migrated_database)
    else:
        template = Path(migrated_database.removeprefix("sqlite:///"))
        target = tmp_path / "portal.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module (or with ``@pytest.mark.parametrize``) to change settings."""
    return {}


class PortalClient(FlaskClient):
    """A test client that sends the CSRF token like the portal's own pages do.

    Each request runs in an app context of its own, as in production: ``g`` and the
    database session are not shared with the test. Afterwards the test's own session
    forgets what it had loaded, so assertions read what the request committed.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        html = self.get("/csrf-token-probe").get_data(as_text=True)  # any page carries it
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        if csrf:
            token = self.csrf_token()
            data = kwargs.get("data", {})
            if isinstance(data, dict):
                kwargs["data"] = {"csrf_token": token, **data}
            kwargs["headers"] = {"X-CSRFToken": token, **(kwargs.get("headers") or {})}
        return super().post(*args, **kwargs)

    def htmx_post(self, url: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {"HX-Request": "true", **(kwargs.get("headers") or {})}
        return self.post(url, **kwargs)

    def htmx_get(self, url: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {"HX-Request": "true", **(kwargs.get("headers") or {})}
        return self.get(url, **kwargs)


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """``make_app(**settings)`` builds another portal on this test's database; its
    connections are closed at the end of the test."""
    apps: list[Flask] = []

    def _create(**settings: Any) -> Flask:
        app = create_app({**base_config(tmp_path, database_url), **settings})
        app.test_client_class = PortalClient
        apps.append(app)
        return app

    yield _create
    for app in apps:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def app(make_app: Any, config_overrides: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(**config_overrides)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> PortalClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def login(client: PortalClient) -> Any:
    """``login(user_or_email, password)`` signs the test client in and checks it worked."""

    def _login(user: Any, password: str = "correct horse battery") -> Any:
        email = user if isinstance(user, str) else user.email
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return response

    return _login


def _read_whole(app: Any) -> Any:
    """The app's responses read whole, and closed, before the server writes them. Werkzeug's
    server leaves a response unclosed when the browser drops the connection mid-way (a page
    left while its script still loads): the file behind it then reaches the garbage collector,
    whose ResourceWarning fails whichever test is running at that moment."""

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return serve


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The portal served over HTTP on loopback, on its own database."""
    with LiveServer(app) as server:
        yield server
