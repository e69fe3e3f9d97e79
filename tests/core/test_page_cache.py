"""Staff pages come again from the page cache while nothing has changed, and never once
something has: a change committed here, by another worker or in raw SQL, by people writing
while others read; never another person's page, session, language or fragment."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from portal.extensions import cache, db
from portal.models import Application, DataGeneration
from portal.page_cache import raise_generation
from tests.fixtures.concurrency import at_once
from tests.fixtures.queries import statements_on

QUEUE = "/applications/review?status=submitted&sort=oldest"


def row_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr id="application-(\d+)"', html)}


def generation() -> int:
    return db.session.scalar(select(DataGeneration.value))


def test_a_page_seen_again_is_served_from_the_cache_and_sends_fewer_statements(
        client, login, staff, make_application, count_statements):
    application = make_application()
    login(staff)
    with count_statements() as built:
        first = client.get(QUEUE)
    with statements_on(db.engine) as again:
        second = client.get(QUEUE)
    assert application.id in row_ids(first.get_data(as_text=True))
    assert second.get_data() == first.get_data() and second.status_code == 200
    assert again.count <= 3 < built.count  # the user, the generation, and nothing of the page
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_every_committed_write_raises_the_generation_once_and_a_read_never(client, login, staff, make_application):
    before = generation()
    application = make_application()  # the factory's commit
    after_factory = generation()
    assert after_factory > before
    login(staff)  # signing in writes (the session token, the audit trail)
    signed_in = generation()
    client.get(QUEUE)
    client.get(f"/applications/{application.id}")
    db.session.commit()  # a transaction that only read
    assert generation() == signed_in


def test_a_decision_shows_at_once_on_the_queue_the_decider_had_cached(client, login, staff, make_application):
    waiting, decided = make_application(), make_application()
    login(staff)
    assert row_ids(client.get(QUEUE).get_data(as_text=True)) >= {waiting.id, decided.id}
    prefix = f"a{decided.id}"
    response = client.post(f"/applications/{decided.id}/decline", data={
        f"{prefix}-version": str(decided.version), f"{prefix}-next": QUEUE,
        f"{prefix}-reason": "Out of scope."}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Application declined." in page  # the flash, though the page was cached before it
    ids = row_ids(page)
    assert waiting.id in ids and decided.id not in ids
    again = client.get(QUEUE).get_data(as_text=True)
    assert "Application declined." not in again and row_ids(again) == ids  # the flash shown once


def test_a_change_by_another_worker_or_in_raw_sql_is_seen_by_this_one(client, login, staff, make_app,
                                                                      make_application):
    first = make_application()
    login(staff)
    assert row_ids(client.get(QUEUE).get_data(as_text=True)) == {first.id}

    other_worker = make_app()  # its own process-wide cache and connections, the same database
    with other_worker.app_context():
        second = make_application()
        second_id = second.id
    assert row_ids(client.get(QUEUE).get_data(as_text=True)) == {first.id, second_id}

    db.session.execute(text("UPDATE funded_items SET status = 'declined' WHERE id = :id"), {"id": first.id})
    db.session.commit()
    assert row_ids(client.get(QUEUE).get_data(as_text=True)) == {second_id}

    with db.engine.begin() as connection:  # Core, outside any session: the writer says so itself
        connection.execute(text("UPDATE funded_items SET status = 'declined' WHERE id = :id"), {"id": second_id})
        raise_generation(connection)
    assert row_ids(client.get(QUEUE).get_data(as_text=True)) == set()


def test_nobody_is_served_another_persons_page(app, client, login, staff, make_user, make_application):
    make_application()
    login(staff)
    own = client.get("/").get_data(as_text=True)
    assert "Emma Clarke" in own

    colleague = make_user(roles=["staff"], name="Maria Ivanova")
    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": "correct horse battery"})
    theirs = other.get("/").get_data(as_text=True)
    assert "Maria Ivanova" in theirs and "Emma Clarke" not in theirs

    doctor = make_user(roles=["doctor"])
    outsider = app.test_client()
    outsider.post("/login", data={"email": doctor.email, "password": "correct horse battery"})
    assert client.get(QUEUE).status_code == 200
    assert outsider.get(QUEUE).status_code == 403  # permission first, cache after
    assert app.test_client().get(QUEUE).status_code in (302, 303)  # signed out: the login page


def test_each_session_gets_its_own_csrf_token_and_its_form_still_posts(app, staff, make_application):
    application = make_application()
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for browser in clients:  # both signed in first: signing in is a change, the cache starts afresh
        browser.post("/login", data={"email": staff.email, "password": "correct horse battery"})
    for browser in clients:
        browser.get(QUEUE)  # the second time round, from the cache
        page = browser.get(QUEUE).get_data(as_text=True)
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    assert tokens[0] != tokens[1]
    prefix = f"a{application.id}"
    response = clients[1].post(f"/applications/{application.id}/decline", csrf=False, data={
        "csrf_token": tokens[1], f"{prefix}-version": str(application.version), f"{prefix}-next": QUEUE,
        f"{prefix}-reason": "Out of scope."})
    assert response.status_code == 303
    assert db.session.get(Application, application.id).status == "declined"


def test_the_fragment_the_page_and_the_language_are_cached_apart(client, login, staff, make_application):
    make_application()
    login(staff)
    full = client.get(QUEUE).get_data(as_text=True)
    fragment = client.get("/donors/?q=a", headers={"HX-Request": "true", "HX-Target": "donor-rows"})
    assert "<html" in full
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in client.get("/donors/?q=a").get_data(as_text=True)
    client.post("/language", data={"lang": "ru", "next": QUEUE})
    russian = client.get(QUEUE).get_data(as_text=True)
    assert 'lang="ru"' in russian and russian != full


def test_nothing_is_cached_with_the_null_cache(make_app, staff, make_application):
    app = make_app(CACHE_TYPE="NullCache")
    with app.app_context():
        browser = app.test_client()
        browser.post("/login", data={"email": staff.email, "password": "correct horse battery"})
        browser.get(QUEUE)
        with statements_on(db.engine) as again:
            browser.get(QUEUE)
        with app.app_context():
            cache.clear()
        with statements_on(db.engine) as built:
            browser.get(QUEUE)
    assert again.count == built.count > 3


def test_readers_never_see_a_page_older_than_a_committed_change(app, staff, make_application, signed_in_clients):
    """One person declines applications one by one while three others keep reading the queue
    (filling the cache as they go): a read started after a decline's answer never shows it."""
    applications = [make_application() for _ in range(30)]
    versions = {a.id: a.version for a in applications}
    readers = [client for client, _ in signed_in_clients(3)]
    [(decider, _)] = signed_in_clients(1)
    declined: list[int] = []
    stale: list[set[int]] = []

    def decline_all() -> None:
        for application_id, version in versions.items():
            prefix = f"a{application_id}"
            response = decider.post(f"/applications/{application_id}/decline", data={
                f"{prefix}-version": str(version), f"{prefix}-next": QUEUE, f"{prefix}-reason": "Out of scope."})
            assert response.status_code == 303, response.status_code
            declined.append(application_id)  # answered: committed

    def keep_reading(browser) -> None:
        for _ in range(60):
            gone = set(declined)
            shown = row_ids(browser.get(QUEUE).get_data(as_text=True))
            if shown & gone:
                stale.append(shown & gone)

    at_once([decline_all] + [lambda b=b: keep_reading(b) for b in readers])
    assert not stale, stale[:3]
    assert len(declined) == 30
    assert all(row_ids(browser.get(QUEUE).get_data(as_text=True)) == set() for browser in readers)


def test_a_savepoint_does_not_raise_the_generation_and_hold_its_row(app, make_user):
    person = make_user()
    after_user = generation()
    with db.session.begin_nested():
        person.name = "Renamed in a savepoint"
    assert generation() == after_user  # not yet: the transaction is still open
    if db.engine.dialect.name == "postgresql":  # (SQLite has one writer at a time anyway)
        with app.app_context():  # another writer raises the number meanwhile, not held up
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # a regression fails, never hangs
            db.session.execute(text("UPDATE clinics SET city = city WHERE false"))
            db.session.commit()
        after_user += 1
    db.session.commit()
    assert generation() == after_user + 1
