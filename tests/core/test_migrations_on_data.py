"""Every migration goes down and up again on a populated database, on SQLite and on PostgreSQL.

The database holds the demo data (``portal.demo.load_demo_data``, what ``flask demo`` loads)
and, written here through the models, a little of what the demo leaves out: signed letters (one
superseded) with their certificate and counter, an e-mail carrying a letter, a claim with paid,
approved and submitted lines (a receipt, a payment), a thank-you batch with its job, an
acknowledgement and an allocation, a donation import, a comment, a report with its certificate,
an application document, a data export, a read of passport details and a user's bank details.

Then for every revision from the newest down to the first (walked from the migration scripts,
whatever they are), the database goes down to the revision below it (running the downgrade of
that revision and of every newer one, each on data) and up to the newest again, and the round
trip is checked against a snapshot taken just before it:

- what the revision below still has is unchanged: every table it has holds the same rows, in
  every column it has (so a step that drops column C of table T compares T without C), and the
  money totals (approved and requested budget, expense lines in their currency and in GBP,
  payments, donations, allocations, yearly budgets) are the same wherever their column survives;
- what a downgrade dropped is gone by design: a table the revision below lacks is there again
  after the upgrade and holds no more rows than before, i.e. nothing, or only what its upgrade
  writes again from the rows that survived (the one ``data_generation`` row; a letter counter
  per year of the letters kept);
- the schema is exactly the model's again (``schema_differences`` is empty).

The round trips add up: what one round trip dropped stays empty in the next ones, so each
revision's downgrade first runs on its own tables while they are populated, in its own round
trip. The last round trip (below the first revision) drops every table: it proves that the
first downgrade empties a populated database and the upgrade builds it again, empty.

On PostgreSQL the test uses a database of its own (``<test database>_on_data``), so a failure
half-way down leaves the shared test database at the newest revision for the tests after it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from portal import create_app
from portal.backup import MONEY_COLUMNS
from portal.demo import load_demo_data
from portal.extensions import db
from portal.models import (
    Acknowledgement,
    AcknowledgementBatch,
    Application,
    ApplicationComment,
    ApplicationDocument,
    ConferenceReport,
    DataExport,
    Donation,
    DonationAllocation,
    DonationImport,
    ExpenseClaim,
    ExpenseLine,
    ExpertVisit,
    Job,
    Letter,
    LetterCounter,
    OutboxMessage,
    Payment,
    SensitiveRead,
    SigningCertificate,
    StoredFile,
    User,
)
from tests.conftest import POSTGRES_URL, base_config, worker_postgres_url
from tests.core.test_migrations import schema_differences
from tests.run_suites import empty_postgres_schema

Snapshot = dict[str, tuple[list[str], list[dict[str, Any]]]]  # table: (columns, rows in key order)


@pytest.fixture
def database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """SQLite: this test's copy of the template, as for every test. PostgreSQL: a database of
    this test's own, at the newest revision, so a round trip that fails half-way leaves the
    shared test database as it was."""
    if not POSTGRES_URL:
        yield database_url
        return
    parsed = make_url(worker_postgres_url(POSTGRES_URL))
    url = parsed.set(database=f"{parsed.database}_on_data").render_as_string(hide_password=False)
    problem = empty_postgres_schema(url)
    if problem is not None:
        pytest.fail(f"cannot use PostgreSQL at {make_url(url)!r}: {problem}")
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url


def revisions_newest_first() -> list[tuple[str, str | None]]:
    """(revision, the revision below it) for every migration script, the newest first."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"the migrations have several heads: {script.get_heads()}"
    found = []
    for revision in script.walk_revisions():
        below = revision.down_revision
        assert below is None or isinstance(below, str), f"{revision.revision} merges {below}: walk it by hand"
        found.append((revision.revision, below))
    return found


def snapshot(conn: Connection) -> Snapshot:
    """Every table's columns and rows (ordered by primary key), as the database holds them."""
    metadata = MetaData()
    found: Snapshot = {}
    for name in inspect(conn).get_table_names():
        if name == "alembic_version":
            continue
        table = Table(name, metadata, autoload_with=conn)
        order = list(table.primary_key.columns) or list(table.columns)
        rows = [dict(row) for row in conn.execute(select(table).order_by(*order)).mappings()]
        found[name] = ([column.name for column in table.columns], rows)
    return found


def schema(conn: Connection) -> dict[str, set[str]]:
    """Each table (but Alembic's own) and its columns."""
    inspector = inspect(conn)
    return {name: {column["name"] for column in inspector.get_columns(name)}
            for name in inspector.get_table_names() if name != "alembic_version"}


def money_totals(conn: Connection) -> dict[tuple[str, str], int]:
    """The sum of each money column the database has."""
    present = schema(conn)
    return {(table, column): int(conn.scalar(text(f"SELECT COALESCE(SUM({column}), 0) FROM {table}")))
            for table, column in MONEY_COLUMNS if column in present.get(table, set())}


def populate(today: dt.date) -> None:
    """The demo data, and a little of each thing it leaves out (see the module's docstring)."""
    load_demo_data(today)
    staff = db.session.scalar(select(User).where(User.email == "staff@demo.example.org"))
    finance = db.session.scalar(select(User).where(User.email == "finance@demo.example.org"))
    doctor = db.session.scalar(select(User).where(User.email == "doctor@demo.example.org"))
    expert = db.session.scalar(select(User).where(User.email == "expert@demo.example.org"))
    application = db.session.scalar(select(Application).where(Application.status == "submitted"))
    visit = db.session.scalar(select(ExpertVisit))
    assert staff and finance and doctor and expert and application and visit
    now = dt.datetime.now(dt.UTC)

    def stored(name: str, by: User) -> StoredFile:
        return StoredFile(storage_key=secrets.token_hex(16), original_name=name, content_type="application/pdf",
                          size=1234, sha256=secrets.token_hex(32), uploaded_by=by)

    doctor.bank_holder, doctor.bank_iban, doctor.bank_bic = "ANNA SOKOLOVA", "GB33BUKB20201555555555", "BUKBGB22"
    db.session.add(ApplicationComment(application=application, author_id=staff.id, author_name=staff.name,
                                      body="Is the poster accepted?", internal=True))
    db.session.add(ApplicationDocument(application=application, kind="poster_acceptance",
                                       file=stored("acceptance.pdf", doctor)))
    db.session.add(ConferenceReport(application=application, learned="CAR-T in relapsed leukaemia.",
                                    shared_by=["seminar"], shared_on=today, colleagues_reached=14,
                                    certificate=stored("certificate.pdf", doctor)))

    certificate = SigningCertificate(fingerprint=secrets.token_hex(32), subject="CN=Demo signing",
                                     not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
                                     der=b"0\x82demo", first_used_at=now)
    letters = [Letter(reference=f"EP-{today.year}-{n:04d}", year=today.year, sequence=n, kind="visa_support",
                      subject_type="funded_item", subject_id=application.id, funded_item_id=application.id,
                      language="en", issued_by=staff, sha256=secrets.token_hex(32), facts={"passport": "751234567"},
                      public_facts={"name": "Dr Anna Sokolova"}, token=secrets.token_hex(16),
                      check_code=f"CHK{n}CODE"[:8], certificate=certificate, status=status, pdf=b"%PDF-1.7 demo")
               for n, status in ((1, "superseded"), (2, "valid"))]
    db.session.add_all(letters)
    db.session.flush()
    letters[0].superseded_by_id = letters[1].id
    db.session.add(LetterCounter(year=today.year, last_sequence=2))
    db.session.add(OutboxMessage(recipient=doctor.email, subject="Your letter", body_text="Attached.",
                                 letter_id=letters[1].id))
    db.session.add(SensitiveRead(reader_id=staff.id, subject_id=doctor.id, what=f"letter {letters[1].reference}"))

    payment = Payment(payee=expert, paid_on=today, method="bank_transfer", reference="PAY-DEMO-1", amount_gbp=76500,
                      recorded_by_id=finance.id)
    claim = ExpenseClaim(funded_item=visit, claimant=expert, submitted_at=now)
    claim.lines = [
        ExpenseLine(category="travel", spent_on=today, description="Flight", amount=90000, currency="EUR",
                    rate="0.85", amount_gbp=76500, status="paid", decided_by_id=staff.id, decided_at=now,
                    payment=payment, receipt=stored("flight.pdf", expert)),
        ExpenseLine(category="visa", spent_on=today, description="Visa", amount=12000, currency="EUR",
                    rate="0.85", amount_gbp=10200, status="approved", decided_by_id=staff.id, decided_at=now),
        ExpenseLine(category="accommodation", spent_on=today, description="Hotel", amount=80000, currency="EUR",
                    status="submitted"),
    ]
    db.session.add(claim)

    gifts = {donation.reference: donation for donation in db.session.scalars(select(Donation))}
    job = Job(kind="acknowledgements", task="acknowledge_pending", state="done", done=1, total=1, params={},
              started_by_id=staff.id, started_at=now, finished_at=now)
    batch = AcknowledgementBatch(started_by_id=staff.id, finished_at=now, job=job)
    thanks = Acknowledgement(donor=gifts["DEMO-CARD-0001"].donor, batch=batch, channel="email",
                             acknowledged_by_id=staff.id, impact={"doctors": 12})
    gifts["DEMO-CARD-0001"].acknowledgement = thanks
    db.session.add(DonationAllocation(donation=gifts["DEMO-BANK-0002"], funded_item_id=visit.id, amount=20000,
                                      created_by_id=finance.id))
    upload = DonationImport(filename="bank.csv", content="Date,Amount\n", uploaded_by_id=finance.id,
                            imported_at=now, mapping={"amount": "Amount"}, result={"imported": 1})
    db.session.add_all([thanks, upload])
    db.session.flush()
    gifts["DEMO-BANK-0003"].import_id = upload.id
    export_job = Job(kind="data_export", task="export_personal_data", state="done", done=1, total=1, params={},
                     started_by_id=staff.id)
    db.session.add(DataExport(subject_type="users", subject_id=doctor.id, requested_by_id=staff.id, job=export_job,
                              token=secrets.token_urlsafe(32), content=b"PK demo", size=7, ready_at=now,
                              expires_at=now + dt.timedelta(days=1)))
    db.session.commit()


def compare_round_trip(before: Snapshot, kept: dict[str, set[str]], after: Snapshot, step: str) -> list[str]:
    """What differs after the round trip, beyond what the downgrade dropped by design."""
    problems = []
    if set(after) != set(before):
        problems.append(f"{step}: tables differ: missing {sorted(set(before) - set(after))}, "
                        f"new {sorted(set(after) - set(before))}")
    for name, (columns, rows) in before.items():
        if name not in after:
            continue
        rows_after = after[name][1]
        if name not in kept:  # dropped and created again: empty, or what its upgrade writes again
            if len(rows_after) > len(rows):
                problems.append(f"{step}: {name} was dropped and holds {len(rows_after)} rows (before: {len(rows)})")
            continue
        if len(rows_after) != len(rows):
            problems.append(f"{step}: {name} held {len(rows)} rows and holds {len(rows_after)}")
            continue
        compared = [column for column in columns if column in kept[name]]
        for row, row_after in zip(rows, rows_after, strict=True):
            changed = {c: (row[c], row_after.get(c)) for c in compared if row[c] != row_after.get(c)}
            if changed:
                problems.append(f"{step}: {name} row {[row[c] for c in compared][:1]} changed: {changed}")
    return problems


def test_every_migration_goes_down_and_up_again_on_populated_data(app: Flask) -> None:
    populate(dt.date.today())
    db.session.remove()
    with db.engine.connect() as conn:
        full = snapshot(conn)
    populated = {name for name, (_columns, rows) in full.items() if rows}
    assert {"letters", "expense_lines", "payments", "donations", "donation_allocations", "budget_lines",
            "historical_records", "signing_certificates"} <= populated

    problems: list[str] = []
    for revision, below in revisions_newest_first():
        step = f"down to {below or 'base'} (below {revision}) and up"
        with db.engine.connect() as conn:
            before, totals = snapshot(conn), money_totals(conn)
        try:
            downgrade(revision=below or "base")  # revision's downgrade (and every newer one's), on data
        except Exception as error:
            raise AssertionError("\n".join([*problems, f"{step}: the downgrade failed on data: {error}"])) from error
        with db.engine.connect() as conn:
            kept = schema(conn)
        db.engine.dispose()  # SQLite: no connection holds the old tables' pages
        upgrade()
        with db.engine.connect() as conn:
            after, totals_after = snapshot(conn), money_totals(conn)
        problems += compare_round_trip(before, kept, after, step)
        expected = {key: total for key, total in totals.items() if key[1] in kept.get(key[0], set())}
        found = {key: totals_after.get(key) for key in expected}
        if found != expected:
            problems.append(f"{step}: money totals {expected} became {found}")
        assert schema_differences() == [], step
    assert not problems, "\n".join(problems)
    with db.engine.connect() as conn:  # the last round trip went below the first revision
        assert all(not rows or name == "data_generation" for name, (_c, rows) in snapshot(conn).items())
