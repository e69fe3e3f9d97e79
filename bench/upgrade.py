"""Benchmark: the newest migrations go down and up again on the 100k bench database, losing nothing.

    python bench/upgrade.py [--db URL] [--seed N] [--size 1k|10k|100k] [--fresh] [--to REVISION]

For one database URL (a SQLite file, or PostgreSQL with ``--db postgresql+psycopg:///portal_bench``):

1. the seeded database: by default the one ``bench/pages.py`` seeds and reuses
   (``<name>_100k_s<seed>``, ``pages.ensure_seeded``: seeded if missing or stale, then ``db upgrade``),
   copied to ``<name>_100k_s<seed>_upgrade`` (a file copy; ``CREATE DATABASE … TEMPLATE``), so the
   seeded one is never downgraded; with ``--fresh``, ``flask bench-seed`` fills
   ``<name>_100k_s<seed>_upgrade`` anew instead, and the bench database is left alone;
2. records every table's row count, every column's count of values that are not NULL (a
   downgrade that rebuilds a table can empty a foreign key through ON DELETE SET NULL without
   losing a row) and the money totals (budget lines approved and requested, expense lines in
   their currency and in GBP, payments, donations, allocations, yearly budgets);
3. picks the revision to go down to: the oldest one whose newer downgrades keep every table
   ``bench-seed`` writes (``portal.bench_seed.TABLE_ORDER``), found by walking the migrations
   down on an empty scratch SQLite database (``--to`` names one instead);
4. downgrades to it one revision at a time, then upgrades to the newest one revision at a
   time, timing each step;
5. compares: every table the old revision has holds as many rows as before and as many values
   in each column it has; a table the old revision lacks (dropped, then created again) holds
   no more rows than before (nothing, or what its upgrade writes again from the rows kept);
   the money totals whose columns the old revision has are unchanged; the schema is exactly
   the model's (Alembic's autogenerate comparison is empty).

Exits 1 on any difference (or a migration that fails), 0 otherwise; the copy is removed when
everything matched and kept for a look when something did not. A PostgreSQL server that does
not answer skips the benchmark (exit 0; 1 under ``CI=true``), as ``bench/pages.py`` does.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import pages  # noqa: E402  (the bench databases and their seeding)
from alembic.autogenerate import compare_metadata  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import downgrade, upgrade  # noqa: E402
from sqlalchemy import column, create_engine, func, inspect, select, table, text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402

from portal.backup import MONEY_COLUMNS  # noqa: E402
from portal.bench_seed import TABLE_ORDER  # noqa: E402

MIGRATIONS = str(REPO / "migrations")


class Figures:
    """What the database holds: rows per table, values per column, money totals."""

    def __init__(self, connection: Connection) -> None:
        inspector = inspect(connection)
        self.rows: dict[str, int] = {}
        self.values: dict[str, dict[str, int]] = {}
        for name in inspector.get_table_names():
            if name == "alembic_version":
                continue
            names = [c["name"] for c in inspector.get_columns(name)]
            found = connection.execute(select(func.count(), *(func.count(column(c)) for c in names))
                                       .select_from(table(name))).one()
            self.rows[name] = int(found[0])
            self.values[name] = {c: int(n) for c, n in zip(names, found[1:], strict=True)}
        self.money: dict[str, int] = {}
        for name, money in MONEY_COLUMNS:
            if money in self.values.get(name, {}):
                total = connection.scalar(select(func.coalesce(func.sum(column(money)), 0)).select_from(table(name)))
                self.money[f"{name}.{money}"] = int(total or 0)


def log(message: str) -> None:
    print(message, flush=True)


@contextmanager
def timed(what: str, times: list[tuple[str, float]]) -> Iterator[None]:
    """Time the block, print it and add it to ``times``."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    times.append((what, seconds))
    log(f"  {what:<44} {seconds:8.1f} s")


def portal(url: str) -> Flask:
    """The portal on ``url``, as bench/pages.py builds it in-process."""
    from portal import create_app

    return create_app({"INSTANCE_PATH": str(pages.INSTANCE), "SQLALCHEMY_DATABASE_URI": url})


def revisions_newest_first(app: Flask) -> list[tuple[str, str | None]]:
    """(revision, the revision below it) for every migration script, the newest first."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config(MIGRATIONS))
    if len(script.get_heads()) != 1:
        raise SystemExit(f"the migrations have several heads ({', '.join(script.get_heads())}): merge them first")
    chain = []
    for revision in script.walk_revisions():
        below = revision.down_revision
        if not (below is None or isinstance(below, str)):
            raise SystemExit(f"{revision.revision} merges {below}: this script walks one line of revisions")
        chain.append((revision.revision, below))
    return chain


def oldest_keeping(chain: list[tuple[str, str | None]], tables: set[str]) -> str:
    """The oldest revision that every newer downgrade reaches without dropping one of ``tables``:
    walked down on an empty scratch SQLite database."""
    with tempfile.TemporaryDirectory() as scratch:
        app = portal(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        target = chain[0][0]
        with app.app_context():
            upgrade(directory=MIGRATIONS)
            for _revision, below in chain:
                if below is None:
                    break
                downgrade(directory=MIGRATIONS, revision=below)
                if not tables <= set(inspect(app.extensions["sqlalchemy"].engine).get_table_names()):
                    break
                target = below
            app.extensions["sqlalchemy"].engine.dispose()
    return target


def work_url(seeded: str) -> str:
    """Where the round trip runs: ``<seeded>_upgrade``, beside the seeded database."""
    parsed = make_url(seeded)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        return parsed.set(database=str(path.with_name(f"{path.stem}_upgrade{path.suffix}"))).render_as_string(
            hide_password=False)
    return parsed.set(database=f"{parsed.database}_upgrade").render_as_string(hide_password=False)


def copy_database(source: str, target: str) -> None:
    """``target`` made anew as a copy of ``source`` (no connection may be open to either)."""
    drop_database(target)
    parsed, copy = make_url(source), make_url(target)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            if Path(str(parsed.database) + suffix).exists():
                shutil.copyfile(str(parsed.database) + suffix, str(copy.database) + suffix)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{copy.database}" TEMPLATE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    """Remove the SQLite file (and its journal) or the PostgreSQL database, if there."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(parsed.database) + suffix).unlink(missing_ok=True)
        return
    assert parsed.database and parsed.database.startswith("portal_bench"), parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def differences(before: Figures, kept: dict[str, set[str]], after: Figures) -> list[str]:
    """What the round trip changed beyond what the old revision does not have."""
    found = []
    if set(after.rows) != set(before.rows):
        found.append(f"tables: missing {sorted(set(before.rows) - set(after.rows))}, "
                     f"new {sorted(set(after.rows) - set(before.rows))}")
    for name, rows in before.rows.items():
        if name not in after.rows:
            continue
        if name not in kept:
            if after.rows[name] > rows:
                found.append(f"{name}: dropped and created again, it holds {after.rows[name]:,} rows "
                             f"(before: {rows:,})")
            continue
        if after.rows[name] != rows:
            found.append(f"{name}: {rows:,} rows before, {after.rows[name]:,} after")
        for name_of_column, values in before.values[name].items():
            now = after.values[name].get(name_of_column)
            if name_of_column in kept[name] and now != values:
                found.append(f"{name}.{name_of_column}: {values:,} values before, {now:,} after")
    for key, total in before.money.items():
        name, money = key.split(".")
        if money in kept.get(name, set()) and after.money.get(key) != total:
            found.append(f"{key}: total {total:,} before, {after.money.get(key)} after")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=pages.DEFAULT_DB,
                        help="SQLite file or PostgreSQL URL the seeded names derive from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", choices=("1k", "10k", "100k"), default="100k",
                        help="the bench size (1k or 10k only to try the script quickly)")
    parser.add_argument("--fresh", action="store_true",
                        help="seed a database of its own instead of copying the one bench/pages.py reuses")
    parser.add_argument("--to", help="the revision to go down to (default: see the docstring's step 3)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # Alembic's "Running downgrade …" lines: the timings below say it
    backend = "SQLite" if make_url(args.db).get_backend_name() == "sqlite" else "PostgreSQL"
    seeded = pages.sized_url(args.db, args.size, args.seed)
    url = work_url(seeded)
    if backend == "PostgreSQL":
        try:
            pages.database_exists(seeded)
        except Exception as error:  # no server, no rights: say so, like bench/pages.py does
            log(f"PostgreSQL at {args.db} does not answer ({type(error).__name__}): upgrade benchmark skipped.")
            return 1 if os.environ.get("CI") == "true" else 0
    times: list[tuple[str, float]] = []
    started = time.perf_counter()
    log(f"== {backend} {args.size}: the newest migrations down and up again on {url}")
    if args.fresh:
        pages.INSTANCE.mkdir(parents=True, exist_ok=True)
        pages.recreate(url)
        with timed("db upgrade (empty database)", times):
            pages.flask(url, "db", "upgrade")
        with timed(f"bench-seed --size {args.size}", times):
            pages.flask(url, "bench-seed", "--size", args.size, "--seed", str(args.seed))
    else:
        with timed(f"bench database {args.size} (seeded or reused)", times):
            pages.ensure_seeded(seeded, args.size, args.seed)
        with timed("copy of it", times):
            copy_database(seeded, url)
    app = portal(url)
    chain = revisions_newest_first(app)
    with timed("choose the revision (scratch database)", times):
        target = args.to or oldest_keeping(chain, set(TABLE_ORDER))
    names = [revision for revision, _ in chain]
    if target not in names:
        raise SystemExit(f"no revision {target!r} among {', '.join(names)}")
    down = chain[:names.index(target)]  # newest first, each step from a revision to the one below it
    why = "as --to says" if args.to else f"{target}'s own downgrade would drop a table bench-seed writes"
    log(f"  going down from {names[0]} to {target}: {len(down)} downgrades ({why})")
    failures: list[str] = []
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with timed("figures before (counts, values, totals)", times), engine.connect() as connection:
            before = Figures(connection)
        log(f"    {sum(before.rows.values()):,} rows in {len(before.rows)} tables; "
            + ", ".join(f"{key} {total:,}" for key, total in before.money.items()))
        try:
            for revision, below in down:
                with timed(f"downgrade {revision} -> {below}", times):
                    downgrade(directory=MIGRATIONS, revision=below or "base")
            with engine.connect() as connection:
                inspector = inspect(connection)
                kept = {name: {c["name"] for c in inspector.get_columns(name)}
                        for name in inspector.get_table_names() if name != "alembic_version"}
            engine.dispose()
            for revision, below in reversed(down):
                with timed(f"upgrade {below} -> {revision}", times):
                    upgrade(directory=MIGRATIONS, revision=revision)
        except Exception as error:
            failures.append(f"a migration failed: {type(error).__name__}: {str(error).splitlines()[0]}")
        if not failures:
            with timed("figures after", times), engine.connect() as connection:
                after = Figures(connection)
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                schema = compare_metadata(context, app.extensions["sqlalchemy"].metadata)
            failures += differences(before, kept, after)
            failures += [f"schema differs from the model: {difference}" for difference in schema]
        engine.dispose()
    migrating = sum(seconds for what, seconds in times if what.startswith(("downgrade", "upgrade")))
    log(f"  {'downgrades and upgrades together':<44} {migrating:8.1f} s")
    log(f"  {'whole run':<44} {time.perf_counter() - started:8.1f} s")
    if failures:
        log(f"{backend}: {len(failures)} differences after the round trip (the database is kept: {url}):")
        for failure in failures:
            log(f"  {failure}")
        return 1
    drop_database(url)
    log(f"{backend}: every table's rows, every column's values and the money totals are as they were.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
