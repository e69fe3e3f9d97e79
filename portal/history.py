"""The programme's history before the portal: past conference trips and expert visits imported
from the charity's spreadsheets (CSV or Excel).

Upload a file and say whether it lists trips or visits; say which column holds what (guessed
from the header row, in English or Russian); preview what becomes of every row (imported, a
duplicate of a record or of an earlier row, or an error and why); import. The import reads the
stored file again with the posted mapping, never trusting the preview, and writes every good
row in one transaction or nothing. A record's ``natural_key`` is unique, so importing the same
rows again, from the same file or another, adds nothing.

Historical records have no state, letters or claims. The modules count them in their impact
figures through ``history_breakdown``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import format_date, lazy_pgettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from . import audit, clock
from .errors import UserError
from .extensions import db
from .letters import organisation
from .models import BUDGET_CATEGORIES, Clinic, HistoricalRecord, HistoryImport, User
from .money import AmountError, to_minor
from .tabular import (
    DATE_FORMAT_NAMES,
    DUPLICATE,
    ERROR,
    IMPORT,
    RowOutcomes,
    Table,
    claim_upload,
    guess_columns,
    guess_date_format,
    parse_amount,
    parse_date,
    read_upload,
)
from .transactions import transaction

MAX_MB = 5
MAX_BYTES = MAX_MB * 1024 * 1024
CHUNK = 500
MAX_COUNT = 1_000_000  # more patients (or colleagues) than this on one row is a typing error
MAX_SPENT = Decimal(1_000_000)  # in the base currency, for one trip or visit and one category
RECENT_IMPORTS = 10

KIND_LABELS = {"trip": _l("Conference trips"), "visit": _l("Expert visits")}
IMPORT_TITLES = {"trip": _l("Import conference trips from %(file)s"), "visit": _l("Import expert visits from %(file)s")}

SPENT_TARGETS = tuple(f"spent_{category}" for category in BUDGET_CATEGORIES)
COMMON_TARGETS = ("starts_on", "ends_on", "person", "clinic", "event", "city", "country")
TARGETS = {
    "trip": COMMON_TARGETS + ("colleagues_reached",) + SPENT_TARGETS,
    "visit": COMMON_TARGETS + ("patients_consulted", "doctors_trained", "operations_performed") + SPENT_TARGETS,
}
REQUIRED = {"trip": ("starts_on", "person", "event"), "visit": ("starts_on", "person", "clinic")}
COUNTS = ("colleagues_reached", "patients_consulted", "doctors_trained", "operations_performed")
TEXT_LIMITS = {"person": 200, "event": 300, "city": 100, "country": 100}

# What each column is called on the form and in a row's problems.
TARGET_LABELS: dict[str, dict[str, Any]] = {
    "trip": {"starts_on": _l("First day of the conference"), "person": _l("Doctor"),
             "event": _l("Conference"), "clinic": _l("Doctor's clinic")},
    "visit": {"starts_on": _l("Arrival"), "ends_on": _l("Departure"), "person": _l("Expert"),
              "event": _l("Purpose of the visit"), "clinic": _l("Host clinic")},
    "": {"ends_on": _l("Last day"), "city": _l("City"), "country": _l("Country"),
         "colleagues_reached": _l("Colleagues reached"), "patients_consulted": _l("Patients consulted"),
         "doctors_trained": _l("Doctors trained"), "operations_performed": _l("Operations performed"),
         "spent_registration": lazy_pgettext("spent on", "Spent on registration"),
         "spent_travel": lazy_pgettext("spent on", "Spent on travel"),
         "spent_accommodation": lazy_pgettext("spent on", "Spent on accommodation"),
         "spent_visa": lazy_pgettext("spent on", "Spent on visas"),
         "spent_other": lazy_pgettext("spent on", "Spent on other costs")},
}

# Header words that suggest a column, most telling first (any case, word by word; Russian too).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "starts_on": ("start date", "start", "from", "arrival", "arrived", "date", "year", "дата начала", "начало",
                  "прибытие", "дата приезда", "дата"),
    "ends_on": ("end date", "end", "to", "until", "departure", "departed", "дата окончания", "окончание",
                "отъезд", "дата отъезда"),
    "person": ("doctor", "expert", "name", "participant", "delegate", "specialist", "full name", "врач", "эксперт",
               "фио", "участник", "специалист", "имя"),
    "clinic": ("clinic", "hospital", "host clinic", "host", "institution", "клиника", "больница", "учреждение"),
    "event": ("conference", "congress", "event", "meeting", "purpose", "specialty", "конференция", "конгресс",
              "мероприятие", "цель", "цель визита"),
    "city": ("city", "town", "город"),
    "country": ("country", "страна"),
    "colleagues_reached": ("colleagues reached", "colleagues", "audience", "коллеги", "слушатели"),
    "patients_consulted": ("patients consulted", "patients", "consultations", "пациенты", "консультации"),
    "doctors_trained": ("doctors trained", "trained", "trainees", "обучено", "обучено врачей"),
    "operations_performed": ("operations performed", "operations", "surgeries", "операции"),
    "spent_registration": ("registration", "registration fee", "fee", "регистрация", "регистрационный взнос"),
    "spent_travel": ("travel", "flights", "flight", "airfare", "tickets", "перелёт", "перелет", "билеты",
                     "проезд"),
    "spent_accommodation": ("accommodation", "hotel", "lodging", "проживание", "гостиница"),
    "spent_visa": ("visa", "visas", "виза"),
    "spent_other": ("other", "other costs", "other expenses", "прочее", "прочие расходы"),
}
GUESS_ORDER = ("ends_on", "starts_on", "colleagues_reached", "patients_consulted", "doctors_trained",
               "operations_performed", "clinic", "event", "city", "country", *SPENT_TARGETS, "person")
DATE_TARGETS = ("starts_on", "ends_on")


def target_label(kind: str, target: str) -> Any:
    return TARGET_LABELS[kind].get(target) or TARGET_LABELS[""][target]


# --- Which column holds what -------------------------------------------------------------

@dataclass
class Mapping:
    kind: str
    columns: dict[str, int | None]
    date_format: str = "dmy"

    @property
    def complete(self) -> bool:
        return all(self.columns.get(target) is not None for target in REQUIRED[self.kind])

    def as_json(self, table: Table) -> dict[str, Any]:
        return {"columns": dict(self.columns), "date_format": self.date_format,
                "headers": {target: table.header[index] for target, index in self.columns.items()
                            if index is not None and index < table.width}}

    @classmethod
    def from_json(cls, kind: str, data: dict[str, Any] | None, table: Table) -> Mapping | None:
        """A saved mapping, if it still fits the file."""
        if not data or not isinstance(data.get("columns"), dict):
            return None
        columns: dict[str, int | None] = {}
        for target in TARGETS[kind]:
            index = data["columns"].get(target)
            if index is not None and (not isinstance(index, int) or not 0 <= index < table.width):
                return None
            columns[target] = index
        date_format = data.get("date_format")
        return cls(kind, columns, date_format if date_format in DATE_FORMAT_NAMES else "dmy")


def guess_mapping(kind: str, table: Table) -> Mapping:
    columns = guess_columns(table.header, TARGETS[kind], KEYWORDS, GUESS_ORDER, DATE_TARGETS)
    dates = [cells[index] for _number, cells in table.rows for index in
             (columns["starts_on"], columns["ends_on"]) if index is not None and index < len(cells)]
    return Mapping(kind, columns, guess_date_format(dates))


# --- One row -----------------------------------------------------------------------------

MESSAGES = {
    "missing": _l("No %(field)s."),
    "date_invalid": _l("%(field)s: “%(value)s” is not a date written %(format)s."),
    "date_too_early": _l("%(field)s: %(value)s is before the programme began (%(year)d)."),
    "date_future": _l("%(field)s: %(value)s is in the future; only past trips and visits are history."),
    "ends_before_start": _l("The last day (%(ends)s) is before the first (%(starts)s)."),
    "clinic_unknown": _l("No partner clinic is called “%(value)s”: correct the name, or add the clinic under "
                         "Clinics first."),
    "count_invalid": _l("%(field)s: “%(value)s” is not a whole number."),
    "count_too_large": _l("%(field)s: %(value)s is far more than one trip or visit could reach: check it."),
    "amount_invalid": _l("%(field)s: “%(value)s” is not an amount in %(currency)s."),
    "amount_too_large": _l("%(field)s: %(value)s is far more than one trip or visit costs: check it."),
    "too_long": _l("%(field)s is longer than %(max)d characters."),
    "duplicate_recorded": _l("already recorded (imported on %(day)s)"),
    "duplicate_in_file": _l("the same as row %(row)d of this file"),
}


def describe(kind: str, code: str, params: dict[str, Any] | None = None) -> str:
    """A row's problem in the reader's language (the codes are kept with the import's result)."""
    params = dict(params or {})
    if "field" in params:
        params["field"] = str(target_label(kind, params["field"]))
    if "format" in params:
        params["format"] = str(DATE_FORMAT_NAMES.get(params["format"], params["format"]))
    for key in ("day", "value", "starts", "ends"):
        if key in params and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(params[key])):
            params[key] = format_date(dt.date.fromisoformat(params[key]), "medium")
    params.setdefault("currency", current_app.config["BASE_CURRENCY"])
    template = MESSAGES.get(code)
    return str(template) % params if template is not None else code


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class Row:
    number: int
    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outcome: str = IMPORT
    clinic_name: str | None = None

    def problem(self, code: str, **params: Any) -> None:
        self.problems.append((code, params))

    @property
    def messages(self) -> list[str]:
        return [describe(self.kind, code, params) for code, params in self.problems]

    @property
    def natural_key(self) -> str:
        values = self.values
        return _digest(self.kind, _key(values["person"]), _key(values.get("event") or ""),
                       _key(self.clinic_name or "") if self.kind == "visit" else "",
                       values["starts_on"].isoformat())

    @property
    def event_key(self) -> str | None:
        event = self.values.get("event")
        return _digest(_key(event), self.values["starts_on"].isoformat()) if event and self.kind == "trip" else None


@dataclass
class _Rules:
    mapping: Mapping
    since: dt.date
    today: dt.date
    clinics: dict[str, int]  # by the clinic name's key
    currency: str


def _cell(cells: list[str], index: int | None) -> str:
    return " ".join(cells[index].split()) if index is not None and index < len(cells) else ""


def _date(row: Row, target: str, text: str, rules: _Rules) -> None:
    day = parse_date(text, rules.mapping.date_format)
    if day is None and re.fullmatch(r"\d{4}", text):
        day = dt.date(int(text), 1, 1) if target == "starts_on" else None  # a year alone: the trip's year
    if day is None:
        row.problem("date_invalid", field=target, value=text, format=rules.mapping.date_format)
    elif day < rules.since:
        row.problem("date_too_early", field=target, value=day.isoformat(), year=rules.since.year)
    elif day > rules.today:
        row.problem("date_future", field=target, value=day.isoformat())
    else:
        row.values[target] = day


def _count(row: Row, target: str, text: str) -> None:
    plain = re.sub(r"[\s\u00a0\u202f,']", "", text)
    if not plain.isdigit() and not re.fullmatch(r"\d+\.0+", plain):
        row.problem("count_invalid", field=target, value=text)
    elif int(Decimal(plain)) > MAX_COUNT:
        row.problem("count_too_large", field=target, value=text)
    else:
        row.values[target] = int(Decimal(plain))


def _spent(row: Row, target: str, text: str, rules: _Rules) -> None:
    try:
        amount, negative, currency = parse_amount(text)
        if negative or (currency and currency != rules.currency):
            raise ValueError(text)
        if amount > MAX_SPENT:
            row.problem("amount_too_large", field=target, value=text)
            return
        row.values[target] = to_minor(amount, rules.currency)
    except (ValueError, AmountError):
        row.problem("amount_invalid", field=target, value=text, currency=rules.currency)


def parse_row(number: int, cells: list[str], rules: _Rules) -> Row:
    kind, columns = rules.mapping.kind, rules.mapping.columns
    row = Row(number, kind)
    for target in TARGETS[kind]:
        text = _cell(cells, columns.get(target))
        if not text:
            if target in REQUIRED[kind]:
                row.problem("missing", field=target)
            continue
        if target in DATE_TARGETS:
            _date(row, target, text, rules)
        elif target in COUNTS:
            _count(row, target, text)
        elif target in SPENT_TARGETS:
            _spent(row, target, text, rules)
        elif target == "clinic":
            row.clinic_name = text
            if _key(text) not in rules.clinics:
                row.problem("clinic_unknown", value=text)
            else:
                row.values["clinic_id"] = rules.clinics[_key(text)]
        elif len(text) > TEXT_LIMITS[target]:
            row.problem("too_long", field=target, max=TEXT_LIMITS[target])
        else:
            row.values[target] = text
    starts, ends = row.values.get("starts_on"), row.values.get("ends_on")
    if starts and ends and ends < starts:
        row.problem("ends_before_start", starts=starts.isoformat(), ends=ends.isoformat())
    return row


# --- The whole file ----------------------------------------------------------------------

@dataclass
class Preview(RowOutcomes):
    rows: list[Row]

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "imported": self.to_import, "duplicates": self.duplicates,
                "errors": self.errors}


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def recorded_keys(keys: Iterable[str]) -> dict[str, dt.datetime]:
    """When each of these natural keys was imported, for those already recorded."""
    found: dict[str, dt.datetime] = {}
    for chunk in _chunks(sorted(set(keys))):
        query = (select(HistoricalRecord.natural_key, HistoricalRecord.created_at)
                 .where(HistoricalRecord.natural_key.in_(chunk)))
        found.update({key: created for key, created in db.session.execute(query)})
    return found


def _rules(mapping: Mapping, today: dt.date | None) -> _Rules:
    clinics = {_key(name): clinic_id for clinic_id, name in db.session.execute(select(Clinic.id, Clinic.name))}
    return _Rules(mapping=mapping, since=dt.date(organisation().programme_since, 1, 1),
                  today=today or clock.today(), clinics=clinics, currency=current_app.config["BASE_CURRENCY"])


def build_preview(table: Table, mapping: Mapping, today: dt.date | None = None) -> Preview:
    """What becomes of every row: imported, skipped as a duplicate, or an error and why."""
    rules = _rules(mapping, today)
    rows = [parse_row(number, cells, rules) for number, cells in table.rows]
    recorded = recorded_keys(row.natural_key for row in rows if not row.problems)
    seen: dict[str, int] = {}
    for row in rows:
        if row.problems:
            row.outcome = ERROR
            continue
        key = row.natural_key
        if key in recorded:
            row.outcome = DUPLICATE
            row.problem("duplicate_recorded", day=recorded[key].date().isoformat())
        elif key in seen:
            row.outcome = DUPLICATE
            row.problem("duplicate_in_file", row=seen[key])
        else:
            seen[key] = row.number
    return Preview(rows)


# --- The import --------------------------------------------------------------------------

class ImportRefused(UserError):
    """Nothing was imported; ``preview`` is what the file holds now."""

    message_text: Any = _l("Nothing was imported.")
    field_name: str | None = None

    def __init__(self, preview: Preview | None = None) -> None:
        super().__init__(self.explain(preview), self.field_name, status=409)
        self.preview = preview

    def explain(self, preview: Preview | None) -> Any:
        return self.message_text


class AlreadyImported(ImportRefused):
    message_text = _l("This file has been imported already: nothing was imported again.")


class FileRemoved(ImportRefused):
    message_text = _l("The file was removed after the retention period before anyone imported it: upload it again.")


class NothingToImport(ImportRefused):
    message_text = _l("Nothing to import: every row is already recorded, repeats an earlier row or has an error.")


class ImportFailed(ImportRefused):
    message_text = _l("Nothing was imported: someone imported some of the same trips or visits at the same "
                      "moment. The preview below is up to date: check it and import again.")


class NeedsConfirmation(ImportRefused):
    field_name = "skip_errors"

    def explain(self, preview: Preview | None) -> Any:
        return ngettext("%(num)d row has an error, so nothing was imported. Correct the file and upload it again, "
                        "or tick this box to import the other rows without it.",
                        "%(num)d rows have errors, so nothing was imported. Correct the file and upload it again, "
                        "or tick this box to import the other rows without them.", preview.errors if preview else 0)


class ConfirmationOutdated(NeedsConfirmation):
    def explain(self, preview: Preview | None) -> Any:
        return ngettext("Nothing was imported: with these columns %(num)d row has an error. Check the preview "
                        "below and tick the box again.",
                        "Nothing was imported: with these columns %(num)d rows have errors. Check the preview "
                        "below and tick the box again.", preview.errors if preview else 0)


def _record(row: Row, upload: HistoryImport) -> HistoricalRecord:
    values = row.values
    return HistoricalRecord(
        import_id=upload.id, kind=row.kind, natural_key=row.natural_key, person_name=values["person"],
        person_key=_key(values["person"]), clinic_id=values.get("clinic_id"), event_name=values.get("event"),
        event_key=row.event_key, city=values.get("city"), country=values.get("country"),
        starts_on=values["starts_on"], ends_on=values.get("ends_on"),
        **{target: values.get(target) for target in COUNTS + SPENT_TARGETS})


@transaction
def import_history(upload: HistoryImport, mapping: Mapping, *, skip_errors: bool, confirmed_errors: int | None,
                   by: User) -> dict[str, Any]:
    """Read the stored file again and record its good rows, all in one transaction."""
    try:
        if not claim_upload(upload):
            raise AlreadyImported()
        if upload.purged_at is not None:
            raise FileRemoved()
        table = read_upload(upload.content)
        preview = build_preview(table, mapping)
        if preview.errors and not skip_errors:
            raise NeedsConfirmation(preview)
        if preview.errors and confirmed_errors != preview.errors:
            raise ConfirmationOutdated(preview)
        if not preview.to_import:
            raise NothingToImport(preview)
        db.session.add_all(_record(row, upload) for row in preview.rows if row.outcome == IMPORT)
        db.session.flush()  # a record imported meanwhile by someone else is refused here, before the commit
        counts = preview.counts()
        upload.mapping = mapping.as_json(table)
        upload.result = {**counts, "imported_by": by.name, "imported_by_id": by.id,
                         "skipped": [{"row": row.number, "outcome": row.outcome,
                                      "problems": [{"code": code, "params": params} for code, params in row.problems]}
                                     for row in preview.rows if row.outcome != IMPORT]}
        audit.record("history_imported", upload, actor=by, details={**counts, "kind": upload.kind})
        return counts
    except IntegrityError as exc:
        current_app.logger.warning("a history import was rolled back: %s", exc.orig)
        raise ImportFailed() from exc


# --- What the pages and the impact figures read ------------------------------------------

def recent_imports() -> list[HistoryImport]:
    return list(db.session.scalars(
        select(HistoryImport).options(defer(HistoryImport.content), selectinload(HistoryImport.uploaded_by))
        .order_by(HistoryImport.id.desc()).limit(RECENT_IMPORTS)))


def imported_records(upload: HistoryImport, limit: int) -> list[HistoricalRecord]:
    return list(db.session.scalars(
        select(HistoricalRecord).options(selectinload(HistoricalRecord.clinic))
        .where(HistoricalRecord.import_id == upload.id).order_by(HistoricalRecord.id).limit(limit)))


def record_counts() -> dict[str, int]:
    """How many historical records there are of each kind."""
    query = select(HistoricalRecord.kind, func.count()).group_by(HistoricalRecord.kind)
    return {kind: 0 for kind in KIND_LABELS} | {kind: n for kind, n in db.session.execute(query)}


Breakdown = tuple[int, dict[int, int], dict[str, int]]


def history_breakdowns(kind: str | None, measures: dict[str, Any]) -> dict[str, Breakdown]:
    """Each of ``measures`` (aggregates over ``HistoricalRecord``) over the records of one kind (or all):
    in all, by the calendar year of their first day, and by clinic name ("—" for none). Three
    statements however many measures."""
    year = extract("year", HistoricalRecord.starts_on)
    clinic = func.coalesce(Clinic.name, "—")

    def query(*columns: Any) -> list[Any]:
        q = (select(*columns, *measures.values()).select_from(HistoricalRecord)
             .outerjoin(Clinic, Clinic.id == HistoricalRecord.clinic_id))
        q = q if kind is None else q.where(HistoricalRecord.kind == kind)
        return list(db.session.execute(q.group_by(*columns) if columns else q))

    [totals], by_year, by_clinic = query(), query(year), query(clinic)
    return {name: (int(totals[n] or 0), {int(row[0]): int(row[n + 1]) for row in by_year if row[n + 1]},
                   {row[0]: int(row[n + 1]) for row in by_clinic if row[n + 1]})
            for n, name in enumerate(measures)}


def with_history(portal: Breakdown, history: Breakdown) -> Breakdown:
    """A module's own breakdown (total, by year, by clinic) with its historical records' added."""
    return (portal[0] + history[0], {y: portal[1].get(y, 0) + history[1].get(y, 0) for y in {*portal[1], *history[1]}},
            {c: portal[2].get(c, 0) + history[2].get(c, 0) for c in {*portal[2], *history[2]}})
