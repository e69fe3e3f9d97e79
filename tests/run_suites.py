"""Run the whole suite on SQLite, then on PostgreSQL.

PostgreSQL is used when it answers at ``--pg-url`` (its database is created if missing).
When it does not answer, a local run says so and stops after SQLite; under ``CI=true``
that is a failure, as is a run that collected no tests (pytest's exit code 5).

Each backend's run is spread over pytest-xdist workers (one per core, at least two) by work
stealing; ``PYTEST_WORKERS=N`` chooses N (``0`` runs in this one process), and a
``-n``/``--numprocesses`` given on the command line wins over both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

IN_CI = os.environ.get("CI", "").lower() == "true"
NO_TESTS = 5


def banner(text: str) -> None:
    print(f"\n{'=' * 20} {text} {'=' * 20}", flush=True)


def pytest(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    banner(f"test suite on {label}")
    env = {**os.environ, **extra_env}
    # Keep compiled modules (and pytest's rewritten test modules) between processes: every
    # xdist worker, and every server or command a test starts, otherwise compiles them anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env)
    if code == NO_TESTS:
        print(f"pytest collected no tests on {label}: that is a failure, not a pass.", flush=True)
        return 1
    return code


def xdist_workers() -> str:
    """How many pytest-xdist workers each backend's run uses."""
    configured = os.environ.get("PYTEST_WORKERS", "").strip()
    if configured:
        if not configured.isdigit():
            sys.exit(f"PYTEST_WORKERS must be a whole number (0 for no workers), not {configured!r}")
        return configured
    return str(max(2, os.cpu_count() or 1))


def chooses_workers(pytest_args: list[str]) -> bool:
    return any(arg in ("-n", "--numprocesses") or arg.startswith(("-n", "--numprocesses=")) for arg in pytest_args)


def _server(url: str) -> dict[str, Any]:
    """How to reach the server of ``url`` (its maintenance database), to create or drop others."""
    parsed = make_url(url)
    conninfo = {"dbname": "postgres", "host": parsed.host or "", "port": parsed.port or "",
                "user": parsed.username or "", "password": parsed.password or ""}
    return {k: v for k, v in conninfo.items() if v}


def ensure_postgres_database(url: str) -> str | None:
    """Create the test database if needed; return why PostgreSQL is unusable, or None."""
    parsed = make_url(url)
    try:
        with psycopg.connect(**_server(url), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parsed.database]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


def drop_postgres_database(url: str) -> None:
    """Drop the database of ``url`` if it exists, whoever is connected to it."""
    with psycopg.connect(**_server(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(make_url(url).database)))


def recreate_postgres_database(url: str, *, template: str | None = None) -> str:
    """The database of ``url`` made anew: empty, or a copy of ``template`` (a database URL of
    the same server, which nobody may be connected to). Returns ``url``."""
    drop_postgres_database(url)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(make_url(url).database))
    if template is not None:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(make_url(template).database))
    with psycopg.connect(**_server(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)
    return url


def empty_postgres_schema(url: str) -> str | None:
    """The database of ``url``, created if missing, with nothing in it; why PostgreSQL is
    unusable, or None."""
    problem = ensure_postgres_database(url)
    if problem is not None:
        return problem
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default="postgresql+psycopg:///portal_test")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    options, pytest_args = parser.parse_known_args()
    if not chooses_workers(pytest_args):
        # worksteal: a worker that runs out takes tests queued for another, so the slow
        # browser and thread-race tests do not leave one worker finishing alone.
        pytest_args = ["-n", xdist_workers(), "--dist", "worksteal", *pytest_args]

    results: dict[str, int] = {}
    if options.only != "postgres":
        results["SQLite"] = pytest("SQLite", {}, pytest_args)
    if options.only != "sqlite":
        problem = ensure_postgres_database(options.pg_url)
        if problem is None:
            results["PostgreSQL"] = pytest("PostgreSQL", {"PORTAL_TEST_DATABASE_URL": options.pg_url}, pytest_args)
        elif IN_CI or options.only == "postgres":
            print(f"PostgreSQL is not reachable at {options.pg_url}: {problem}", flush=True)
            results["PostgreSQL"] = 1
        else:
            print(f"\nPostgreSQL is not reachable at {options.pg_url} ({problem});"
                  " skipped the PostgreSQL run here. CI runs it.", flush=True)

    banner("summary")
    for label, code in results.items():
        print(f"{label}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if results and all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
