"""The review queue pages by seeking: every page's links name the row the next one starts
from, so walking forward and back shows each application once, in order, in every sort; a
count past a thousand says "more than"; a forged or stale cursor gives a page, never a 500."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from portal.extensions import db
from portal.models import Application, FundedItem
from portal.models.types import utcnow
from portal.pagination import COUNT_CAP


def _ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="application-(\d+)"', html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _walk(client, html: str, rel: str) -> tuple[list[list[int]], str]:
    """The rows of this page and of each one its ``rel`` links lead to; the last page's HTML."""
    pages = [_ids(html)]
    while (url := _link(html, rel)) is not None:
        html = client.get(url).get_data(as_text=True)
        pages.append(_ids(html))
    return pages, html


def test_walking_the_pages_shows_each_application_once_in_every_order(
        client, login, make_user, make_clinic, make_conference, make_application):
    conferences = [make_conference(name=f"Congress {n}", start_date=dt.date(2027, 1 + n % 12, 1 + n),
                                   end_date=dt.date(2027, 1 + n % 12, 2 + n)) for n in range(7)]
    doctors = [make_user(name=name, clinic=make_clinic()) for name in ("anna", "Boris", "Vera", "gleb")]
    now = utcnow()
    for n in range(123):
        application = make_application(doctor=doctors[n % 4], conference=conferences[n % 7])
        application.submitted_at = now - dt.timedelta(minutes=n % 40)  # ties: the id decides
    # A draft withdrawn before it was ever sent is the doctor's alone.
    unsent = make_application(doctor=doctors[0], status="withdrawn")
    unsent.submitted_at = None
    db.session.commit()
    login(make_user(roles=["staff"]))

    applications = db.session.scalars(select(Application).where(Application.submitted_at.is_not(None))).all()
    assert len(applications) == 123
    expected = {
        "oldest": sorted(applications, key=lambda a: (a.submitted_at, a.id)),
        "newest": sorted(applications, key=lambda a: (a.submitted_at, a.id), reverse=True),
        "conference": sorted(applications, key=lambda a: (a.conference.start_date, a.id)),
        "doctor": sorted(applications, key=lambda a: (a.doctor.name.lower(), a.id)),
    }
    for sort, order in expected.items():
        start = client.get(f"/applications/review?status=all&sort={sort}").get_data(as_text=True)
        forward, last = _walk(client, start, "next")
        assert [i for page in forward for i in page] == [a.id for a in order], sort
        assert [len(page) for page in forward] == [50, 50, 23] and "Page 3 of 3" in last and "123 applications" in last
        backward, first = _walk(client, last, "prev")
        assert backward == forward[::-1] and "Page 1 of 3" in first, sort  # the same pages, back to the first
    assert unsent.id not in _ids(client.get("/applications/review?status=withdrawn").get_data(as_text=True))


def test_counts_stop_at_the_cap_and_forged_cursors_give_a_page(client, login, make_user, make_conference,
                                                                make_application):
    first = make_application()
    now = utcnow()
    # Past the cap in one statement per table: the rows only need to be counted and paged.
    ids = range(first.id + 1, first.id + COUNT_CAP + 2)
    db.session.execute(insert(FundedItem.__table__), [
        {"id": i, "kind": "application", "status": "submitted", "beneficiary_id": first.beneficiary_id,
         "version": 1, "created_at": now, "updated_at": now} for i in ids])
    db.session.execute(insert(Application.__table__), [
        {"id": i, "conference_id": first.conference_id, "purpose": "p", "expected_benefit": "b",
         "participation": "attending", "submitted_at": now} for i in ids])
    db.session.commit()
    login(make_user(roles=["staff"]))
    html = client.get("/applications/review").get_data(as_text=True)
    assert f"More than {COUNT_CAP:,} applications" in html or f"More than {COUNT_CAP} applications" in html
    assert "Page 1</span>" in html and _link(html, "next")
    for forged in ("after=999999999", "before=-1", "after=abc", "after=1e9", "page=-3", "page=99999"):
        response = client.get(f"/applications/review?status=all&{forged}")
        assert response.status_code == 200, forged


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_queue_downloads_with_its_filters_and_order(client, login, staff, make_application, make_conference,
                                                        fmt):
    vienna = make_conference(name="Vienna Haematology")
    first = make_application(conference=vienna, submitted_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    second = make_application(conference=vienna, submitted_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC))
    make_application(submitted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # another conference
    make_application(conference=vienna, status="declined")
    make_application(conference=vienna, status="draft")
    login(staff)
    response = client.get(f"/applications/review.{fmt}?status=submitted&sort=newest&conference_id={vienna.id}")
    data = response.get_data()
    response.close()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode())))
    else:
        book = load_workbook(io.BytesIO(data), read_only=True)
        rows = [[str(c) if c is not None else "" for c in row] for row in book.active.iter_rows(values_only=True)]
        book.close()
    assert rows[0][:3] == ["application", "status", "doctor"]
    assert [row[0] for row in rows[1:]] == [str(second.id), str(first.id), "total"]
    assert rows[-1][:2] == ["total", "2"] and rows[1][5] == "Vienna Haematology"
    page = client.get(f"/applications/review?status=submitted&conference_id={vienna.id}").get_data(as_text=True)
    assert f'href="/applications/review.xlsx?status=submitted&amp;conference_id={vienna.id}"' in page
