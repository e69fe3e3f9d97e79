"""The Alembic migrations build exactly the model, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal.extensions import db


def schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_produce_exactly_the_model(app):
    # `app` runs on a database built by `flask db upgrade` alone, never by create_all().
    assert schema_differences() == []
    tables = set(inspect(db.engine).get_table_names())
    assert tables >= {"users", "user_roles", "clinics", "conferences", "funded_items", "budget_lines",
                      "audit_events", "outbox_messages", "stored_files", "alembic_version"}


def test_migrations_go_down_and_up_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []
