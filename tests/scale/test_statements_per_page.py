"""Each staff page sends the same number of statements, at most ten, whether the database holds
a thousand applications or ten thousand: the bench seed's fifteen years of history at two sizes,
the pages `make bench` measures, counted through the real login and session, as built and as
served again from the page cache."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from bench import pages as bench_pages
from portal import clock, create_app
from portal.bench_seed import seed_database
from portal.extensions import cache, db
from tests.conftest import POSTGRES_URL, _empty_all_tables, base_config
from tests.fixtures.queries import statements_on

SIZES = ("1k", "10k")
MAX_STATEMENTS = 10


def database_for(size: str, migrated_database: str, tmp_path: Path) -> str:
    """An empty database at the newest migration for one size."""
    if POSTGRES_URL:
        _empty_all_tables(migrated_database)
        return migrated_database
    target = tmp_path / f"{size}.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def measure(size: str, migrated_database: str, tmp_path: Path) -> dict[str, tuple[int, int, int]]:
    """(statements built, statements served again from the page cache, status) of every staff
    page on a database seeded at ``size``."""
    tmp_path.mkdir()
    url = database_for(size, migrated_database, tmp_path)
    app = create_app(base_config(tmp_path, url))
    today = clock.today()
    with app.app_context():
        seed_database(size, 1, today, echo=lambda _: None)
        db.session.remove()
    pages = bench_pages.queue_pages(url)
    cursor = functools.partial(bench_pages.queue_cursor, url)  # deep pages as their "Next" links name them
    clients = {role: bench_pages.test_client_for(app, role) for role in ("staff", "finance")}  # through the login form
    with app.app_context():
        engine = db.engine
    results = {}
    for page in bench_pages.staff_pages(today):
        path, _ = page.url(pages, pages if size == SIZES[-1] else pages * 10, cursor)
        client = clients[page.role]
        client.get(path)  # warm: what a first request caches is not the page's cost
        with app.app_context():
            cache.clear()
        with statements_on(engine) as built:
            status = client.get(path).status_code
        with statements_on(engine) as again:
            client.get(path)
        results[page.name] = (built.count, again.count, status)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def test_staff_pages_send_the_same_few_statements_at_both_sizes(migrated_database, tmp_path, database_url):
    small, large = (measure(size, migrated_database, tmp_path / size) for size in SIZES)
    assert set(small) == set(large)
    for name in small:
        (at_small, again_small, small_status), (at_large, again_large, large_status) = small[name], large[name]
        assert small_status == large_status == 200, name
        assert at_small == at_large <= MAX_STATEMENTS, (name, at_small, at_large)
        assert again_small == again_large < at_small, (name, again_small, again_large)
