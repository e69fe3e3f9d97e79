"""The embedded default: SQLite with foreign keys, WAL and a busy timeout."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import BudgetLine, FundedItem
from tests.conftest import POSTGRES_URL


def test_default_database_is_a_file_in_the_instance_folder(tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "x" * 40})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'portal.db'}"


def test_sqlite_connections_enforce_foreign_keys_wal_and_wait_on_locks(app):
    if POSTGRES_URL:
        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_budget_lines_belong_to_a_funded_item_and_money_is_whole_minor_units(app):
    item = FundedItem(status="draft")
    item.budget_lines = [BudgetLine(category="travel", requested_amount=45_050, requested_currency="EUR")]
    db.session.add(item)
    db.session.commit()
    assert item.budget_line("travel").requested_amount == 45_050
    assert item.kind == "funded_item" and item.version == 1
    db.session.add(BudgetLine(funded_item_id=item.id + 999, category="visa", requested_amount=1,
                              requested_currency="GBP"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(BudgetLine(funded_item_id=item.id, category="champagne", requested_amount=1,
                              requested_currency="GBP"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_funded_item_has_a_version_for_optimistic_locking(app):
    item = FundedItem(status="draft")
    db.session.add(item)
    db.session.commit()
    item.status = "submitted"
    db.session.commit()
    assert item.version == 2
