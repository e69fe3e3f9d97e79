"""Importing the programme's history: a CSV file or an Excel workbook of past trips or visits,
mapped, previewed row by row (imported, duplicate, error and why), imported in one
transaction, never twice; the impact figures are the historical records plus the portal's."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html as html_lib
import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import distinct, func, select

from portal.extensions import db
from portal.impact import impact_summary
from portal.letters import organisation
from portal.models import Application, AuditEvent, Clinic, ExpertVisit, HistoricalRecord, HistoryImport
from portal.tabular import CsvProblem, read_upload
from tests.fixtures.concurrency import at_once

TRIP_HEADER = ["Start date", "End date", "Doctor", "Clinic", "Conference", "City", "Country", "Colleagues",
               "Registration", "Travel"]
YEARS = range(2011, 2026)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def text_of(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row_text(page: str, number: int) -> str:
    found = re.search(rf'<tr id="row-{number}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"row {number} is not on the page"
    return text_of(found[1])


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    """The same rows as a workbook, dates as real dates and numbers as numbers (as Excel keeps them)."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        cells: list[object] = []
        for value in row:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                cells.append(dt.date.fromisoformat(value))
            elif re.fullmatch(r"\d+", value):
                cells.append(int(value))
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ENCODERS = {"csv": (as_csv, "trips.csv"), "xlsx": (as_xlsx, "trips.xlsx")}


def upload(client, kind: str, content: bytes, filename: str):
    return client.post("/history", data={"kind": kind, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def uploaded(client, kind: str, content: bytes, filename: str) -> tuple[str, str]:
    """(the mapping page's address, its html) for a file that uploads."""
    response = upload(client, kind, content, filename)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return response.headers["Location"], page.get_data(as_text=True)


def posted_mapping(page: str) -> dict[str, str]:
    """What the browser sends for the mapping form as the page shows it."""
    form = re.search(r'<form[^>]*id="import-form".*?</form>', page, re.S)[0]
    values = {}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option[^>]*\bselected\b[^>]*>', options)
        values[name] = html_lib.unescape(re.search(r'value="([^"]*)"', chosen[0])[1]) if chosen else ""
    values["error_count"] = re.search(r'name="error_count" value="(\d+)"', form)[1]
    return values


def trip(n: int, **changes: str) -> list[str]:
    """The n-th good trip: a doctor of one of two clinics at a conference of one of the years."""
    year = YEARS[n % len(YEARS)]
    start = dt.date(year, 3 + n % 8, 1 + n % 25)
    row = {"start": start.isoformat(), "end": (start + dt.timedelta(days=3)).isoformat(),
           "doctor": f"Doctor {n:03d}", "clinic": "North Clinic" if n % 2 else "South Clinic",
           "conference": f"Congress {n % 40}", "city": "Vienna", "country": "Austria",
           "colleagues": str(10 + n % 7), "registration": f"{300 + n}.50", "travel": str(200 + n)}
    row.update(changes)
    return list(row.values())


def three_hundred_rows(recorded: list[list[str]]) -> tuple[list[list[str]], dict[str, int], dict[int, str]]:
    """A 300-row file of the years since 2011: 200 new trips, 30 repeats of earlier rows (written
    differently), the 20 ``recorded`` trips and 50 rows with errors. Returns the rows with the
    header, the counts, and the reason expected on some rows (by row number in the file)."""
    rows: list[list[str]] = [TRIP_HEADER]
    good = [trip(n) for n in range(100, 300)]
    rows += good
    for n in range(30):  # the same doctor, conference and day, in other capitals and spacing
        again = list(good[n * 5])
        again[2] = "  " + again[2].upper() + " "
        again[4] = again[4].lower()
        rows.append(again)
    rows += recorded
    reasons = {}
    bad_kinds = [
        (dict(doctor=""), "No Doctor."),
        (dict(start="31/02/2015"), "is not a date written"),
        (dict(start="2009-05-01", end="2009-05-03"), "before the programme began (2011)"),
        (dict(start=(dt.date.today() + dt.timedelta(days=40)).isoformat(), end=""), "in the future"),
        (dict(clinic="Nowhere Hospital"), "No partner clinic is called “Nowhere Hospital”"),
        (dict(colleagues="-4"), "is not a whole number"),
        (dict(registration="twelve"), "is not an amount in GBP"),
        (dict(end="2012-01-01", start="2012-02-01"), "is before the first"),
        (dict(doctor="D" * 201), "longer than 200 characters"),
        (dict(travel="€40"), "is not an amount in GBP"),
    ]
    for n in range(50):
        changes, reason = bad_kinds[n % len(bad_kinds)]
        rows.append(trip(1000 + n, **changes))
        reasons[len(rows)] = reason  # the header is row 1
    assert len(rows) == 301
    return rows, {"imported": 200, "duplicates": 50, "errors": 50}, reasons


@pytest.fixture
def clinics():
    north = Clinic(name="North Clinic", city="Moscow", country="Russia")
    south = Clinic(name="South Clinic", city="Kazan", country="Russia")
    db.session.add_all([north, south])
    db.session.commit()
    return north, south


def import_all(client, address: str, page: str):
    data = posted_mapping(page)
    if int(data["error_count"]):
        data["skip_errors"] = "y"
    return client.post(address, data={**data, "action": "import"})


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_300_row_history_file_gives_each_row_its_outcome_and_imports_once(client, login, staff, clinics,
                                                                           file_format):
    encode, filename = ENCODERS[file_format]
    login(staff)
    recorded = [trip(n) for n in range(20)]
    address, page = uploaded(client, "trip", encode([TRIP_HEADER, *recorded]), f"first-{filename}")
    assert import_all(client, address, page).status_code == 303
    assert count(HistoricalRecord) == 20

    rows, expected, reasons = three_hundred_rows(recorded)
    address, page = uploaded(client, "trip", encode(rows), filename)
    counts = text_of(re.search(r'<ul class="links" id="import-counts">(.*?)</ul>', page, re.S)[1])
    assert "200 will be imported" in counts and "50 duplicates will be skipped" in counts
    assert "50 rows with errors" in counts
    assert "will be imported" in row_text(page, 2)
    assert "duplicate: the same as row 2 of this file" in row_text(page, 202)
    assert "duplicate: already recorded" in row_text(page, 232)
    for number, reason in reasons.items():
        assert reason in row_text(page, number), (number, row_text(page, number))

    # errors are left out only once someone says so: nothing is written meanwhile
    refused = client.post(address, data={**posted_mapping(page), "action": "import"})
    assert refused.status_code == 422
    assert "50 rows have errors, so nothing was imported" in text_of(refused.get_data(as_text=True))
    assert count(HistoricalRecord) == 20

    done = import_all(client, address, page)
    assert done.status_code == 303
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    facts = text_of(re.search(r'<dl class="facts" id="import-result">(.*?)</dl>', result, re.S)[1])
    assert "Rows in the file 300 Historical records imported 200 Duplicates skipped 50" in facts
    assert "historical: no letters or claims" in result
    assert count(HistoricalRecord) == 220
    assert count(HistoricalRecord, HistoricalRecord.clinic_id.is_(None)) == 0
    first = db.session.scalar(select(HistoricalRecord).where(HistoricalRecord.person_name == "Doctor 100"))
    assert (first.starts_on, first.event_name, first.colleagues_reached, first.spent_registration,
            first.spent_travel) == (dt.date(2021, 7, 1), "Congress 20", 12, 40050, 30000)
    upload_row = db.session.scalar(select(HistoryImport).order_by(HistoryImport.id.desc()))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.subject_type == "history_imports",
                                                      AuditEvent.subject_id == upload_row.id)).details[
        "imported"] == 200

    # the same file again: every good row is a duplicate, and the import adds nothing
    address, page = uploaded(client, "trip", encode(rows), f"again-{filename}")
    assert "0 will be imported" in page and "250 duplicates will be skipped" in text_of(page)
    again = import_all(client, address, page)
    assert again.status_code == 422
    assert "Nothing to import" in text_of(again.get_data(as_text=True))
    assert count(HistoricalRecord) == 220
    # and the same upload posted twice (a second click) imports nothing twice
    second_click = import_all(client, done.headers["Location"], page)
    assert second_click.status_code == 303 and count(HistoricalRecord) == 220


def test_the_impact_figures_are_the_historical_records_plus_the_portals(client, login, staff, clinics, make_user,
                                                                         make_application, make_conference):
    north, south = clinics
    login(staff)
    trips = [trip(n) for n in range(40)] + [trip(n, doctor="Doctor 000") for n in range(40, 45)]  # one doctor again
    address, page = uploaded(client, "trip", as_csv([TRIP_HEADER, *trips]), "trips.csv")
    assert import_all(client, address, page).status_code == 303
    visits = [["Arrival", "Departure", "Expert", "Host clinic", "Purpose", "Patients", "Trained", "Operations",
               "Travel"]] + [[f"{2012 + n % 10}-04-0{1 + n % 5}", f"{2012 + n % 10}-04-1{n % 5}", f"Prof {n}",
                              "North Clinic" if n % 3 else "South Clinic", "Master class", str(20 + n), str(n % 6),
                              str(n % 4), "1500"] for n in range(12)]
    address, page = uploaded(client, "visit", as_xlsx(visits), "visits.xlsx")
    assert import_all(client, address, page).status_code == 303

    doctor = make_user(roles=["doctor"], clinic_id=north.id)
    conference = make_conference(start_date=dt.date(2025, 5, 1), end_date=dt.date(2025, 5, 3))
    make_application(doctor=doctor, conference=conference, status="approved")
    expert = make_user(roles=["expert"])
    db.session.add(ExpertVisit(beneficiary=expert, host_clinic_id=south.id, status="completed", purpose="Lectures",
                               arrival_on=dt.date(2025, 2, 1), departure_on=dt.date(2025, 2, 5),
                               patients_consulted=40, doctors_trained=6, operations_performed=3))
    db.session.commit()

    history_doctors = db.session.scalar(select(func.count(distinct(HistoricalRecord.person_key)))
                                        .where(HistoricalRecord.kind == "trip"))
    portal_doctors = db.session.scalar(select(func.count(distinct(Application.beneficiary_id)))
                                       .where(Application.is_funded()))
    assert (history_doctors, portal_doctors) == (40, 1)
    history_patients = db.session.scalar(select(func.sum(HistoricalRecord.patients_consulted)))
    history_travel = db.session.scalar(select(func.sum(HistoricalRecord.spent_travel)))
    history_colleagues = db.session.scalar(select(func.sum(HistoricalRecord.colleagues_reached)))
    history_conferences = db.session.scalar(select(func.count(distinct(HistoricalRecord.event_key))))
    before = organisation().doctors_before_portal

    totals = impact_summary()["totals"]
    assert totals["applications.doctors"] == before + history_doctors + portal_doctors
    assert totals["applications.conferences"] == history_conferences + 1
    assert totals["applications.colleagues"] == history_colleagues
    assert totals["expert_visits.visits"] == 12 + 1
    assert totals["expert_visits.patients"] == history_patients + 40
    assert totals["expenses.spent.travel"] == history_travel
    by_year = {figure.key: figure.by_year for figure in impact_summary()["figures"]}
    history_2013 = count(HistoricalRecord, HistoricalRecord.kind == "visit",
                         func.extract("year", HistoricalRecord.starts_on) == 2013)
    assert by_year["expert_visits.visits"][2013] == history_2013

    html = client.get("/impact").get_data(as_text=True)
    totals_text = text_of(re.search(r'<dl class="facts totals impact-totals">(.*?)</dl>', html, re.S)[1])
    assert f"Doctors supported {before + 41}" in totals_text
    assert f"Patients consulted {history_patients + 40}" in totals_text


def test_files_that_cannot_be_imported_are_refused_beside_the_field(client, login, staff):
    login(staff)
    cases = [
        (b"", "", "Choose the CSV or Excel file"),
        (b"  \r\n", "history.csv", "The file is empty"),
        (b"\x00\x01binary", "x.csv", "This is not a CSV file"),
        (b"PK\x03\x04broken zip", "x.xlsx", "cannot be read as an Excel workbook"),
        (b"Doctor\nAnna\n", "one.csv", "Only one column was found"),
        (b"Doctor,Conference\n", "header.csv", "no rows of trips or visits"),
        (b"a,b\x07,c\n1,2,3\n", "control.csv", "This is not a CSV file"),
    ]
    for content, filename, message in cases:
        response = upload(client, "trip", content, filename)
        assert response.status_code == 422, filename
        assert message in text_of(response.get_data(as_text=True)), filename
    response = client.post("/history", data={"file": (io.BytesIO(as_csv([TRIP_HEADER, trip(1)])), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "conference trips or expert visits" in text_of(response.get_data(as_text=True))
    assert count(HistoryImport) == 0


def test_a_workbook_is_read_as_its_values_never_its_formulas():
    book = Workbook()
    sheet = book.active
    sheet.append(["Doctor", "Start", "Colleagues", "Note"])
    sheet.append(["=HYPERLINK(\"http://evil\",\"x\")", dt.datetime(2015, 9, 30), 12.0, "  padded  "])
    out = io.BytesIO()
    book.save(out)
    table = read_upload(out.getvalue())
    assert table.header == ["Doctor", "Start", "Colleagues", "Note"]
    # openpyxl writes no cached value for a formula: the cell reads empty, its formula is never run or kept
    assert table.rows == [(2, ["", "2015-09-30", "12", "padded"])]
    with pytest.raises(CsvProblem):
        read_upload(b"PK\x03\x04" + b"\x00" * 100)


def test_the_mapping_is_guessed_from_russian_headers_and_checked(client, login, staff, clinics):
    login(staff)
    rows = [["Дата начала", "ФИО", "Клиника", "Конференция", "Город"],
            ["01.10.2014", "Иванова Анна", "North Clinic", "Конгресс кардиологов", "Москва"]]
    address, page = uploaded(client, "trip", as_csv(rows), "история.csv")
    data = posted_mapping(page)
    assert (data["col_starts_on"], data["col_person"], data["col_clinic"], data["col_event"], data["col_city"]) == (
        "0", "1", "2", "3", "4")
    assert "will be imported" in row_text(page, 2)
    twice = client.post(address, data={**data, "col_city": "1", "action": "preview"})
    assert twice.status_code == 422
    assert "This column is already chosen for “Doctor”" in text_of(twice.get_data(as_text=True))
    assert count(HistoricalRecord) == 0


def _import_in_thread(app, upload_id: int, staff_id: int):
    from portal import history
    from portal.errors import UserError
    from portal.models import User

    with app.app_context():
        try:
            upload_row = db.session.get(HistoryImport, upload_id)
            table = read_upload(upload_row.content)
            mapping = history.guess_mapping("trip", table)
            return history.import_history(upload_row, mapping, skip_errors=False, confirmed_errors=None,
                                          by=db.session.get(User, staff_id))["imported"]
        except UserError as refused:
            return type(refused).__name__
        finally:
            db.session.remove()


def test_two_imports_of_overlapping_files_at_once_never_record_a_trip_twice(app, staff, clinics):
    for round_number in range(6):
        base = round_number * 100
        shared = [trip(base + n) for n in range(30)]
        files = [[TRIP_HEADER, *shared, *[trip(base + 50 + n) for n in range(10)]],
                 [TRIP_HEADER, *reversed(shared), *[trip(base + 70 + n) for n in range(10)]]]
        uploads = [HistoryImport(kind="trip", filename=f"r{round_number}-{n}.csv", content=as_csv(rows),
                                 uploaded_by_id=staff.id) for n, rows in enumerate(files)]
        db.session.add_all(uploads)
        db.session.commit()
        before = count(HistoricalRecord)
        # two people import the two files, and one of them double-clicks
        outcomes = at_once([functools.partial(_import_in_thread, app, upload_row.id, staff.id)
                            for upload_row in (uploads[0], uploads[1], uploads[1])])
        db.session.expire_all()
        imported = [n for n in outcomes if isinstance(n, int)]
        assert imported, outcomes
        assert set(outcomes) - set(imported) <= {"ImportFailed", "AlreadyImported", "Conflict", "NothingToImport"}
        assert count(HistoricalRecord) - before == sum(imported)  # nothing half-imported
        keys = db.session.scalars(select(HistoricalRecord.natural_key)).all()
        assert len(keys) == len(set(keys))
        assert count(HistoricalRecord) - before <= 50
