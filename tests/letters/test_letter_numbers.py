"""Letter numbers come from the year's counter row, taken before anything is rendered: two
issuers at once get consecutive, unique numbers, and each renders its letters once."""

from __future__ import annotations

import threading

from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select

from portal.extensions import db
from portal.letters import issue_many, letter_kind, organisation
from portal.models import Application, Letter, LetterCounter, User
from portal.models.types import utcnow
from portal.transactions import transaction

PER_BATCH = 3


def fake_pdfs(pages: list[str]) -> list[bytes]:
    return [f"%PDF-1.4 letter {n}".encode() for n, _page in enumerate(pages)]


def test_two_issuers_at_once_get_consecutive_unique_numbers_and_render_once(app, make_user, approved_application):
    staff = make_user(roles=["staff"])
    batches = {"first": [approved_application().id for _ in range(PER_BATCH)],
               "second": [approved_application().id for _ in range(PER_BATCH)]}
    organisation()  # the letterhead row exists before the race: only the numbers are contended
    db.session.commit()
    staff_id = staff.id
    db.session.close()

    second_started = threading.Event()
    renders = {"first": 0, "second": 0}
    numbers: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def render(name: str):
        def _render(pages: list[str]) -> list[bytes]:
            renders[name] += 1
            if name == "first":
                second_started.wait(timeout=30)  # the other issuer is on its way while this one renders
            return fake_pdfs(pages)
        return _render

    def issue(name: str) -> None:
        with app.app_context():
            try:
                kind = letter_kind("visa_support")
                by = db.session.get(User, staff_id)
                subjects = [db.session.get(Application, subject_id) for subject_id in batches[name]]
                if name == "second":
                    second_started.set()
                with transaction():
                    letters = issue_many(kind, [(s, kind.facts(s)) for s in subjects], by=by, render=render(name))
                    numbers[name] = [letter.sequence for letter in letters]
            except BaseException as exc:  # reported to the test below
                errors.append(exc)
                second_started.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(name,)) for name in batches]
    threads[0].start()
    threads[1].start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    assert renders == {"first": 1, "second": 1}  # nobody rendered a second time
    for name in batches:
        assert numbers[name] == list(range(numbers[name][0], numbers[name][0] + PER_BATCH))  # consecutive
    assert sorted(numbers["first"] + numbers["second"]) == list(range(1, 2 * PER_BATCH + 1))  # unique, no gaps
    year = utcnow().year
    assert db.session.get(LetterCounter, year).last_sequence == 2 * PER_BATCH
    references = set(db.session.scalars(select(Letter.reference)))
    assert references == {f"EP-{year}-{n:04d}" for n in range(1, 2 * PER_BATCH + 1)}


def test_the_counter_carries_on_from_letters_issued_before_it(app, make_user, approved_application):
    """The migration fills the counter from the letters already issued in each year."""
    staff_id, application_id = make_user(roles=["staff"]).id, approved_application().id
    this_year = utcnow().year
    db.session.remove()
    downgrade(revision="0007")
    with db.engine.begin() as conn:  # two letters numbered before the counter existed
        for year, sequence in ((this_year - 1, 41), (this_year, 7)):
            conn.execute(insert(Letter.__table__).values(
                reference=f"EP-{year}-{sequence:04d}", year=year, sequence=sequence, kind="visa_support",
                subject_type="application", subject_id=application_id + sequence, language="en",
                issued_at=utcnow(), sha256="0" * 64, facts="", public_facts={}, token=f"token-{year}",
                status="valid", pdf=b""))
    upgrade()
    assert dict(db.session.execute(select(LetterCounter.year, LetterCounter.last_sequence)).all()) == {
        this_year - 1: 41, this_year: 7}

    kind = letter_kind("visa_support")
    application = db.session.get(Application, application_id)
    with transaction():
        [letter] = issue_many(kind, [(application, kind.facts(application))], by=db.session.get(User, staff_id),
                              render=fake_pdfs)
    assert (letter.year, letter.sequence, letter.reference) == (this_year, 8, f"EP-{this_year}-0008")
    assert db.session.get(LetterCounter, this_year).last_sequence == 8
