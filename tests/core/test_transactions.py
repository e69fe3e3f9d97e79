"""One transaction per change: ``@transaction`` commits, rolls back whole, joins an outer
one, and turns a lost race into a conflict the person can read."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import OperationalError

from portal import audit
from portal.errors import Conflict, UserError
from portal.extensions import db
from portal.models import Application, AuditEvent, FundedItem
from portal.transactions import CONFLICT_MESSAGE, lost_race, transaction


def bump_version_elsewhere(item_id: int) -> None:
    """Another writer changes the row and commits, on a connection of its own."""
    with db.engine.begin() as conn:
        conn.execute(update(FundedItem).where(FundedItem.id == item_id).values(version=FundedItem.version + 1))


def purposes() -> list[str]:
    return list(db.session.scalars(select(Application.purpose).order_by(Application.id)))


def test_a_change_is_committed(app, make_application):
    application = make_application(status="draft", purpose="Before")

    @transaction
    def change(item: Application) -> str:
        item.purpose = "After"
        return "done"

    assert change(application) == "done"
    db.session.expire_all()
    assert purposes() == ["After"]


def test_a_refusal_rolls_everything_back(app, make_application):
    application = make_application(status="draft", purpose="Before")

    @transaction
    def change(item: Application) -> None:
        item.purpose = "Half-way"
        db.session.flush()
        raise UserError("Not like this.", "purpose")

    with pytest.raises(UserError) as refused:
        change(application)
    assert (str(refused.value), refused.value.field, refused.value.status) == ("Not like this.", "purpose", 409)
    assert purposes() == ["Before"]  # the session is usable again, and holds nothing of the refusal


def test_a_stale_row_becomes_a_clear_conflict_message(app, make_application):
    application = make_application(status="draft", purpose="Before")
    bump_version_elsewhere(application.id)  # the form was drawn from the version before this

    @transaction
    def change(item: Application) -> None:
        item.purpose = "Mine"

    with pytest.raises(Conflict) as lost:
        change(application)
    assert str(lost.value) == str(CONFLICT_MESSAGE) == "Someone else changed this at the same moment. Reload to see it."
    assert lost.value.status == 409
    assert purposes() == ["Before"]


def test_a_caller_words_its_own_conflict(app, make_application):
    application = make_application(status="draft", purpose="Before")
    bump_version_elsewhere(application.id)

    @transaction(conflict=lambda item: Conflict(f"Application {item.id} was changed meanwhile."))
    def change(item: Application) -> None:
        item.purpose = "Mine"

    with pytest.raises(Conflict, match=f"Application {application.id} was changed meanwhile."):
        change(application)


def test_an_inner_transaction_joins_the_outer_one(app, make_application):
    application = make_application(status="draft", purpose="Before")
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    @transaction
    def inner(item: Application) -> None:
        item.purpose = "Inner"

    @transaction
    def outer(item: Application) -> None:
        inner(item)  # does not commit: the outer one decides
        audit.record("application_edited", item)
        raise UserError("The outer change is refused.")

    with pytest.raises(UserError):
        outer(application)
    assert purposes() == ["Before"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_a_block_is_a_transaction_too(app, make_application):
    application = make_application(status="draft", purpose="Before")
    with transaction():
        application.purpose = "In a block"
    db.session.expire_all()
    assert purposes() == ["In a block"]
    with pytest.raises(UserError), transaction():
        application.purpose = "Refused"
        raise UserError("No.")
    assert purposes() == ["In a block"]


def test_a_busy_sqlite_database_counts_as_a_lost_race(tmp_path):
    # A real "database is locked", on a file of its own: one writer holds the lock, the
    # other does not wait.
    engine = create_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
    holder, other = engine.connect(), engine.connect()
    try:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        other.exec_driver_sql("PRAGMA busy_timeout = 0")
        with pytest.raises(OperationalError) as busy:
            other.execute(text("INSERT INTO counter VALUES (1)"))
        assert lost_race(busy.value)
    finally:
        holder.rollback()
        holder.close()
        other.close()
        engine.dispose()
