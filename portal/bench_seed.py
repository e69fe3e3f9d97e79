"""Benchmark data: ``flask --app portal bench-seed --size 1k|10k|100k [--seed N]``.

Fills an empty, migrated database with fifteen years of a programme's history (2011 to
today), reproducibly: the same size, seed and ``--today`` give the same rows. At 100k:
100,000 applications from 2,000 doctors to 300 conferences, 300,000 expense lines in claims
on approved and completed items (mostly paid, in payments), 50,000 gifts from 10,000 donors
(Gift Aid declarations, weekly thank-you batches, allocations), a few hundred expert visits,
monthly exchange rates and a budget per year. Smaller sizes scale every count down, except
that every size keeps work in progress to look at: at least 20 conferences (some ahead, some
just over), ``CURRENT_FLOOR`` applications for them and ``PENDING_FLOOR`` gifts awaiting
thanks, so the queues' first pages are full at 1k too and 1k and 100k pages compare like
with like. Session tokens, password salts and Fernet ciphertexts are random; everything else
follows from the seed. (Passwords: one argon2 hash of ``PASSWORD`` for every account.)

The rows are the ones the services would leave (the same columns, states, versions and
audit events), but they are written with SQLAlchemy Core ``insert()`` in chunks of
``CHUNK`` rows, parents before children, with explicit ids in the order things happened.
Every application and visit has its full audit trail; expenses, gifts and rates have theirs
for the last ``RECENT_DAYS`` days. Not made: letters (and so no PDF behind a thank-you),
outbox messages, uploaded files on disk (receipts and certificates are ``stored_files`` rows
only), application documents and CSV imports.

The last audit event (``bench_seeded``) records the size, seed, ``SEED_VERSION`` and the
counts, so ``bench/pages.py`` can tell whether a database it finds is the one it wants.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from .extensions import db

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
# Bump when the data this module makes changes, so benchmarks re-seed instead of reusing.
SEED_VERSION = 1
MARKER_ACTION = "bench_seeded"
PASSWORD = "bench-password-2026"
CHUNK = 5_000
RECENT_DAYS = 730
# At least this many applications are for meetings ahead or just over, whatever the size.
CURRENT_FLOOR = 150
# At least this many gifts await thanks (a page of the donations list), whatever the size.
PENDING_FLOOR = 60  # expenses, gifts and rates keep their audit events for the last two years
FIRST_YEAR = 2011
UTC = dt.UTC

# (role, e-mail, name): the accounts to sign in with; every other user shares the password.
LOGINS = [
    ("admin", "admin@bench.example.org", "Sarah Mitchell"),
    ("staff", "staff@bench.example.org", "Emma Clarke"),
    ("finance", "finance@bench.example.org", "Oliver Grant"),
    ("doctor", "doctor@bench.example.org", "Dr Anna Sokolova"),
    ("expert", "expert@bench.example.org", "Prof. James Whitfield"),
]
MORE_STAFF = ["Hannah Reed", "Thomas Ward", "Lucy Bennett", "George Hughes", "Amelia Price", "Jack Turner",
              "Isla Morgan"]
MORE_FINANCE = ["William Scott", "Grace Cooper"]

# Tables in the order their rows must go in (parents first).
TABLE_ORDER = [
    "clinics", "users", "user_roles", "conferences", "exchange_rates", "programme_budgets", "organisation_settings",
    "funded_items", "applications", "expert_visits", "budget_lines", "stored_files", "application_comments",
    "conference_reports", "visit_activities", "payments", "expense_claims", "expense_lines", "donors",
    "gift_aid_declarations", "acknowledgement_batches", "acknowledgements", "donations", "donation_allocations",
    "audit_events",
]
# Any row here means the database is not empty: bench-seed refuses it.
MUST_BE_EMPTY = ["applications", "funded_items", "expense_lines", "donors", "donations", "clinics", "conferences",
                 "exchange_rates", "programme_budgets"]

# GBP for one unit, around which the monthly rates wander.
RATE_CENTRES = {"EUR": 0.86, "USD": 0.76, "CHF": 0.82, "SEK": 0.078, "RUB": 0.0125}
# What a euro of a request is in each currency (requests are typed in whole units).
PER_EUR = {"EUR": 1.0, "USD": 1.1, "GBP": 0.86, "CHF": 1.0, "SEK": 11.0, "RUB": 80.0}

FEMALE = ["Anna", "Maria", "Elena", "Olga", "Natalia", "Irina", "Tatiana", "Svetlana", "Ekaterina", "Yulia",
          "Daria", "Ksenia", "Anastasia", "Polina", "Alina", "Vera", "Marina", "Galina"]
MALE = ["Dmitry", "Alexei", "Sergei", "Andrei", "Ivan", "Mikhail", "Nikolai", "Pavel", "Artem", "Maxim",
        "Vladimir", "Igor", "Roman", "Kirill", "Denis", "Yuri", "Oleg", "Boris"]
SURNAMES = ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Petrov", "Sokolov", "Mikhailov", "Novikov",
            "Fedorov", "Morozov", "Volkov", "Alekseev", "Lebedev", "Semenov", "Egorov", "Pavlov", "Kozlov",
            "Stepanov", "Nikolaev", "Orlov", "Andreev", "Makarov", "Nikitin", "Zakharov", "Zaitsev", "Soloviev",
            "Borisov", "Yakovlev", "Grigoriev", "Romanov", "Vorobiev", "Sergeev", "Frolov", "Belov", "Gusev"]
SPECIALTIES = ["Paediatric haematology", "Paediatric oncology", "Bone marrow transplantation",
               "Paediatric neurosurgery", "Radiology", "Anaesthesiology", "Paediatric intensive care", "Immunology",
               "Clinical pharmacology", "Oncology nursing", "Radiotherapy", "Pathology"]
POSITIONS = ["Haematologist", "Oncologist", "Head of department", "Resident", "Senior researcher", "Nurse",
             "Surgeon", "Deputy chief physician"]
CITIES = [("Moscow", 6), ("Saint Petersburg", 3), ("Kazan", 1), ("Yekaterinburg", 1), ("Novosibirsk", 1),
          ("Nizhny Novgorod", 1), ("Samara", 1), ("Rostov-on-Don", 1), ("Krasnoyarsk", 1), ("Voronezh", 1),
          ("Tyumen", 1), ("Irkutsk", 1), ("Minsk", 1), ("Almaty", 1), ("Yerevan", 1)]
CLINIC_KINDS = ["Regional Children's Clinical Hospital", "Children's Oncology and Haematology Centre",
                "City Clinical Hospital No. {n}", "Research Institute of Paediatric Haematology",
                "Federal Centre for Paediatric Surgery", "Children's Bone Marrow Transplant Unit",
                "Regional Oncology Dispensary", "Children's Republican Clinical Hospital"]
# Conference series: name, organiser, month, [(city, country)].
SERIES = [
    ("ASH Annual Meeting and Exposition", "American Society of Hematology", 12,
     [("San Diego", "USA"), ("Orlando", "USA"), ("Atlanta", "USA"), ("New Orleans", "USA")]),
    ("EHA Congress", "European Hematology Association", 6,
     [("Stockholm", "Sweden"), ("Vienna", "Austria"), ("Madrid", "Spain"), ("Milan", "Italy"),
      ("Amsterdam", "Netherlands"), ("Frankfurt", "Germany")]),
    ("SIOP Annual Congress", "International Society of Paediatric Oncology", 10,
     [("Lisbon", "Portugal"), ("Barcelona", "Spain"), ("Dublin", "Ireland"), ("Prague", "Czechia")]),
    ("EBMT Annual Meeting", "European Society for Blood and Marrow Transplantation", 3,
     [("Vienna", "Austria"), ("Lisbon", "Portugal"), ("Paris", "France"), ("Glasgow", "United Kingdom")]),
    ("ESMO Congress", "European Society for Medical Oncology", 9,
     [("Barcelona", "Spain"), ("Madrid", "Spain"), ("Paris", "France"), ("Munich", "Germany")]),
    ("ASCO Annual Meeting", "American Society of Clinical Oncology", 6, [("Chicago", "USA")]),
    ("European Congress of Radiology", "European Society of Radiology", 3, [("Vienna", "Austria")]),
    ("ESPID Annual Meeting", "European Society for Paediatric Infectious Diseases", 5,
     [("Ljubljana", "Slovenia"), ("Athens", "Greece"), ("Gothenburg", "Sweden"), ("Copenhagen", "Denmark")]),
    ("Euroanaesthesia", "European Society of Anaesthesiology and Intensive Care", 6,
     [("Copenhagen", "Denmark"), ("Milan", "Italy"), ("Munich", "Germany"), ("Berlin", "Germany")]),
    ("ESPNIC Congress", "European Society of Paediatric and Neonatal Intensive Care", 6,
     [("Salzburg", "Austria"), ("Lisbon", "Portugal"), ("Athens", "Greece")]),
    ("International Conference on Malignant Lymphoma", "ICML", 6, [("Lugano", "Switzerland")]),
    ("BSH Annual Scientific Meeting", "British Society for Haematology", 4,
     [("Birmingham", "United Kingdom"), ("Liverpool", "United Kingdom"), ("Glasgow", "United Kingdom")]),
    ("ISTH Congress", "International Society on Thrombosis and Haemostasis", 7,
     [("Berlin", "Germany"), ("Melbourne", "Australia"), ("Montreal", "Canada")]),
    ("ESCMID Global", "European Society of Clinical Microbiology and Infectious Diseases", 4,
     [("Copenhagen", "Denmark"), ("Amsterdam", "Netherlands"), ("Barcelona", "Spain")]),
    ("SIOPE Annual Meeting", "European Society for Paediatric Oncology", 5,
     [("Valencia", "Spain"), ("Ghent", "Belgium"), ("Stockholm", "Sweden")]),
    ("ESTRO Congress", "European Society for Radiotherapy and Oncology", 5,
     [("Vienna", "Austria"), ("Madrid", "Spain"), ("Copenhagen", "Denmark")]),
    ("Paediatric Haematology Masterclass", "Great Ormond Street Hospital", 11, [("London", "United Kingdom")]),
    ("EANS Congress", "European Association of Neurosurgical Societies", 10,
     [("Brussels", "Belgium"), ("Belgrade", "Serbia"), ("Barcelona", "Spain")]),
    ("ESPN Congress", "European Society for Paediatric Nephrology", 9,
     [("Glasgow", "United Kingdom"), ("Ljubljana", "Slovenia"), ("Antalya", "Türkiye")]),
    ("European School of Haematology Course", "European School of Haematology", 2,
     [("Paris", "France"), ("Mandelieu", "France"), ("Berlin", "Germany")]),
]
COUNTRY_CURRENCY = {"USA": "USD", "Sweden": "SEK", "Switzerland": "CHF", "United Kingdom": "GBP", "Denmark": "EUR",
                    "Canada": "USD", "Australia": "USD", "Serbia": "EUR", "Türkiye": "EUR", "Czechia": "EUR"}
PURPOSES = [
    "To hear the latest results on {topic} and meet the teams running the trials.",
    "To present our centre's results on {topic} as a poster and discuss them with colleagues.",
    "To attend the educational sessions on {topic} that our department cannot offer at home.",
    "To learn new approaches to {topic} and bring the protocols back to our clinic.",
]
TOPICS = ["CAR-T therapy in children", "relapsed acute lymphoblastic leukaemia", "stem-cell transplantation",
          "supportive care in neutropenia", "paediatric brain tumours", "thrombosis in children with cancer",
          "imaging of solid tumours", "antifungal prophylaxis", "late effects of treatment", "palliative care"]
BENEFITS = ["A seminar for the department and a written summary for the clinic.",
            "A talk to colleagues at the hospital's monthly meeting.",
            "New protocols for our transplant unit and a lecture for residents.",
            "A report to the head of department and a session for the nursing staff."]
DECLINE_REASONS = ["The programme's budget for this conference is already committed.",
                   "We support one doctor per department for this meeting; a colleague was approved.",
                   "The application arrived after the deadline for this conference.",
                   "The conference is outside the programme's fields of medicine."]
CHANGE_REQUESTS = ["Please attach the acceptance letter for your poster.",
                   "The accommodation estimate looks high: please check it against the venue's hotels.",
                   "Please say how you will share what you learn with your colleagues."]
CANCEL_REASONS = ["The visa was refused.", "The doctor could not travel for family reasons.",
                  "The conference moved online."]
LINE_TEXT = {
    "registration": ["Registration fee", "Congress registration (early rate)", "Registration and course fee"],
    "travel": ["Return flight Moscow – {city}", "Train to the airport", "Taxi from the airport to the hotel",
               "Airport express, both ways", "Return flight via Istanbul"],
    "accommodation": ["Hotel, {n} nights", "Hostel near the venue, {n} nights", "Guest house, {n} nights"],
    "visa": ["Visa fee", "Visa centre service fee", "Travel insurance for the visa"],
    "other": ["Printing the poster", "Local transport pass", "Conference dinner", "Poster tube and printing"],
}
EN_FIRST = ["John", "Mary", "Sarah", "David", "James", "Susan", "Emily", "Robert", "Helen", "Peter", "Claire",
            "Richard", "Alison", "Michael", "Catherine", "Andrew", "Rachel", "Paul", "Joanna", "Mark"]
EN_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas", "Johnson",
           "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
           "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Clark", "Turner", "Hill", "Scott"]
RU_DONORS = [("Иван", "Петров"), ("Анна", "Смирнова"), ("Ольга", "Кузнецова"), ("Дмитрий", "Соколов"),
             ("Мария", "Попова"), ("Елена", "Морозова"), ("Сергей", "Волков"), ("Наталья", "Лебедева")]
ORG_WORDS = ["Northbridge", "Harbour", "Kingsway", "Meridian", "Oakfield", "Riverside", "Sterling", "Beacon",
             "Thames", "Crown", "Falcon", "Summit"]
ORG_SUFFIX = ["Capital LLP", "Foundation", "Trust", "Partners", "Holdings plc", "Charitable Trust", "Ltd"]
STREETS = ["High Street", "Orchard Lane", "Church Road", "Station Road", "Victoria Road", "Kensington Court",
           "Mill Lane", "The Avenue", "Queens Road", "Park View"]
TOWNS = [("London", "SW1A"), ("London", "W8"), ("London", "N1"), ("Cambridge", "CB2"), ("Oxford", "OX1"),
         ("Bath", "BA1"), ("Manchester", "M1"), ("Edinburgh", "EH1"), ("Bristol", "BS1"), ("York", "YO1")]
ABROAD = [("US", "New York", "10001"), ("DE", "Berlin", "10115"), ("FR", "Paris", "75001"), ("CH", "Geneva", "1201"),
          ("RU", "Moscow", "119571")]
CAMPAIGNS = ["Winter appeal {y}", "Summer appeal {y}", "Christmas appeal {y}", "London Marathon {y}",
             "Annual dinner {y}"]
STATE_WEIGHTS = {
    # The conference is still ahead.
    "future": {"draft": 10, "submitted": 32, "changes_requested": 6, "approved": 36, "declined": 11, "withdrawn": 5},
    # It ended in the last four months: reports coming in.
    "recent": {"draft": 3, "approved": 52, "completed": 22, "declined": 14, "withdrawn": 5, "cancelled": 4},
    # History.
    "historic": {"draft": 4, "completed": 58, "declined": 24, "withdrawn": 7, "cancelled": 4, "approved": 2,
                 "changes_requested": 1},
}


class SeedRefused(click.ClickException):
    """The database is not one bench-seed may fill."""


def counts_for(size: str) -> dict[str, int]:
    """How many of each thing a size means (100k is the reference; smaller sizes scale down)."""
    n = SIZES[size]
    f = n / 100_000
    return {
        "applications": n,
        "doctors": max(20, round(2_000 * f)),
        "conferences": max(20, round(300 * f)),
        "clinics": max(4, round(60 * f)),
        "visits": max(3, round(300 * f)),
        "experts": max(2, round(60 * f)),
        "expense_lines": 3 * n,
        "donors": max(100, round(10_000 * f)),
        "donations": max(500, round(50_000 * f)),
    }


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A moment in the working day of ``day``, in UTC."""
    return dt.datetime(day.year, day.month, day.day, rng.randint(7, 18), rng.randrange(60), rng.randrange(60),
                       tzinfo=UTC)


def _choice(rng: random.Random, table: Mapping[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _growth(year: int) -> float:
    """How busy the programme was in a year, relative to its first (it grew steadily)."""
    return 1 + 0.12 * (year - FIRST_YEAR)


def _minor(units: float) -> int:
    return max(100, int(round(units)) * 100)


@dataclass
class Item:
    """What the expenses and gifts need to know about a funded item once it is written."""

    id: int
    kind: str
    beneficiary_id: int
    status: str
    created_at: dt.datetime
    start: dt.date
    end: dt.date
    city: str
    approved: list[tuple[str, int, str]]  # (category, minor units, currency), approved amount > 0
    approved_at: dt.datetime


@dataclass
class Report:
    size: str
    seed: int
    today: dt.date
    rows: Counter[str] = field(default_factory=Counter)
    phases: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0


class Loader:
    """Buffers rows per table and writes them in chunks; a full buffer flushes every table
    in ``TABLE_ORDER``, so a row never goes in before a row it refers to (callers add parents
    first)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.tables = db.metadata.tables
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.rows: Counter[str] = Counter()

    def add(self, table: str, row: dict[str, Any]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for name in TABLE_ORDER:
            rows = self.buffers.pop(name, None)
            if rows:
                self.connection.execute(insert(self.tables[name]), rows)
                self.rows[name] += len(rows)


class Seeder:
    def __init__(self, connection: Connection, size: str, seed: int, today: dt.date,
                 password_hash: str, echo: Callable[[str], None]) -> None:
        self.connection = connection
        self.size, self.seed, self.today = size, seed, today
        self.counts = counts_for(size)
        self.rng = random.Random(seed)
        self.now = dt.datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)
        self.recent = self.now - dt.timedelta(days=RECENT_DAYS)
        self.password_hash = password_hash
        self.echo = echo
        self.load = Loader(connection)
        self.audit: list[tuple[Any, ...]] = []
        self.next_id: dict[str, int] = {}
        for name in TABLE_ORDER:
            table = db.metadata.tables[name]
            if "id" in table.c:
                self.next_id[name] = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
        self.rates: dict[tuple[str, int, int], Decimal] = {}
        self.previous_sha: str | None = None

    # -- helpers ------------------------------------------------------------------------

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def clamp(self, moment: dt.datetime) -> dt.datetime:
        """Nothing happens after the seed's "now"."""
        if moment >= self.now:
            return self.now - dt.timedelta(minutes=self.rng.randint(1, 600))
        return moment

    def later(self, moment: dt.datetime, low_days: float, high_days: float) -> dt.datetime:
        """A while after ``moment`` (never before it, never after "now")."""
        target = moment + dt.timedelta(seconds=self.rng.uniform(low_days, high_days) * 86400)
        if target >= self.now:
            target = max(moment, self.now - dt.timedelta(minutes=self.rng.randint(1, 600)))
        return target

    def record(self, occurred_at: dt.datetime, actor: tuple[int, str] | None, action: str, subject_type: str,
               subject_id: int, from_state: str | None = None, to_state: str | None = None, note: str | None = None,
               details: dict[str, Any] | None = None) -> None:
        """An audit event as ``audit.record`` writes it (collected, then written in time order)."""
        self.audit.append((occurred_at, actor[0] if actor else None, actor[1] if actor else None, action,
                           subject_type, subject_id, from_state, to_state, note, details))

    def stored_file(self, name: str, uploaded_by: int | None, at: dt.datetime, *, resent: bool = False) -> int:
        """An upload's row (the file itself is not written). ``resent``: the same file as the
        previous upload (a receipt sent twice, which the claims queue flags)."""
        file_id = self.new_id("stored_files")
        pdf = self.rng.random() < 0.6
        if not resent or self.previous_sha is None:
            self.previous_sha = f"{self.rng.getrandbits(256):064x}"
        self.load.add("stored_files", {
            "id": file_id, "storage_key": f"{self.rng.getrandbits(128):032x}",
            "original_name": f"{name}.{'pdf' if pdf else 'jpg'}",
            "content_type": "application/pdf" if pdf else "image/jpeg",
            "size": self.rng.randint(40_000, 2_500_000), "sha256": self.previous_sha,
            "uploaded_by_id": uploaded_by, "created_at": at})
        return file_id

    def rate(self, currency: str, day: dt.date) -> Decimal:
        if currency == "GBP":
            return Decimal(1)
        return self.rates[(currency, day.year, day.month)]

    def to_gbp(self, minor: int, currency: str, rate: Decimal) -> int:
        # portal.money.to_base_minor's arithmetic (every currency here has two decimals).
        return int((Decimal(minor).scaleb(-2) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP).scaleb(2))

    def phase(self, name: str, report: Report, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        step()
        self.load.flush()
        report.phases.append((name, time.perf_counter() - started))
        self.echo(f"  {name:<34} {time.perf_counter() - started:6.1f} s")

    # -- people, places, rates --------------------------------------------------------------

    def people(self) -> None:
        rng, c = self.rng, self.counts
        self.clinic_ids = []
        used_names: set[str] = set()
        cities = [city for city, weight in CITIES for _ in range(weight)]
        for n in range(c["clinics"]):
            city = cities[n % len(cities)] if n < len(cities) else rng.choice(cities)
            kind = CLINIC_KINDS[n % len(CLINIC_KINDS)].format(n=rng.randint(1, 70))
            name = f"{kind}, {city}"
            while name in used_names:
                name = f"{kind} No. {rng.randint(2, 99)}, {city}"
            used_names.add(name)
            clinic_id = self.new_id("clinics")
            self.clinic_ids.append(clinic_id)
            created = _at(dt.date(FIRST_YEAR, 1, 10) + dt.timedelta(days=rng.randrange(365 * 3)), rng)
            self.load.add("clinics", {
                "id": clinic_id, "name": name, "city": city, "country": "Russia" if city not in (
                    "Minsk", "Almaty", "Yerevan") else {"Minsk": "Belarus", "Almaty": "Kazakhstan",
                                                        "Yerevan": "Armenia"}[city],
                "address": f"{rng.randint(1, 120)} {rng.choice(['Lenina', 'Mira', 'Sadovaya', 'Gagarina'])} St, "
                           f"{city}", "name_ru": None, "address_ru": None,
                "website": f"https://clinic{clinic_id}.example.ru" if rng.random() < 0.7 else None,
                "created_at": created})
        # Staff, finance, admin: the sign-in accounts first.
        self.logins: dict[str, int] = {}
        self.staff: list[tuple[int, str]] = []
        self.finance: list[tuple[int, str]] = []
        start = dt.datetime(FIRST_YEAR, 1, 5, 10, tzinfo=UTC)
        team = [(role, email, name) for role, email, name in LOGINS if role in ("admin", "staff", "finance")]
        team += [("staff", f"staff{n}@bench.example.org", name) for n, name in enumerate(MORE_STAFF, start=2)]
        team += [("finance", f"finance{n}@bench.example.org", name) for n, name in enumerate(MORE_FINANCE, start=2)]
        for role, email, name in team:
            user_id = self.user(email, name, [role], start, language="en")
            self.logins.setdefault(role, user_id)
            if role == "staff":
                self.staff.append((user_id, name))
            elif role == "finance":
                self.finance.append((user_id, name))
            else:
                self.admin = (user_id, name)
            self.record(start, None, "account_created", "users", user_id, to_state="active",
                        details={"roles": [role], "by": "command line"})
        # Doctors join over the years (ids in the order they joined); the sign-in doctor first.
        years = list(range(FIRST_YEAR, self.today.year + 1))
        joined = sorted(self.day_in(rng.choices(years, weights=[_growth(y) for y in years])[0])
                        for _ in range(c["doctors"] - 1))
        joined.insert(0, dt.date(FIRST_YEAR, 2, 1))
        self.doctors: list[tuple[int, str]] = []
        self.doctor_joined: list[dt.date] = joined
        for n, day in enumerate(joined):
            female = rng.random() < 0.68
            first = rng.choice(FEMALE if female else MALE)
            last = rng.choice(SURNAMES) + ("a" if female else "")
            name = f"Dr {first} {last}"
            email = f"{first}.{last}.{n}@bench.example.org".lower()
            if n == 0:
                name, email = LOGINS[3][2], LOGINS[3][1]
            moment = _at(day, rng)
            has_passport = rng.random() < 0.6 or n == 0
            user_id = self.user(email, name, ["doctor"], moment, language="ru" if rng.random() < 0.7 else "en",
                                clinic_id=rng.choice(self.clinic_ids), specialty=rng.choice(SPECIALTIES),
                                position=rng.choice(POSITIONS), phone=f"+7 9{rng.randint(10, 99)} "
                                f"{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
                                passport=(name.removeprefix("Dr ").upper(), "Russian Federation",
                                          dt.date(rng.randint(1960, 1997), rng.randint(1, 12), rng.randint(1, 28)),
                                          f"{rng.randint(70, 76)}{rng.randint(0, 9_999_999):07d}",
                                          dt.date(self.today.year + rng.randint(0, 9), rng.randint(1, 12),
                                                  rng.randint(1, 28))) if has_passport else None,
                                active=n == 0 or rng.random() > 0.04)
            self.doctors.append((user_id, name))
            self.record(moment, (user_id, name), "account_registered", "users", user_id, to_state="active")
        # Experts are invited by staff when their first visit is planned.
        self.experts: list[tuple[int, str]] = []
        for n in range(c["experts"]):
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            name, email = f"Prof. {first} {last}", f"expert{n}@bench.example.org"
            if n == 0:
                name, email = LOGINS[4][2], LOGINS[4][1]
            moment = _at(dt.date(FIRST_YEAR, 3, 1) + dt.timedelta(days=rng.randrange(365 * 12)), rng)
            user_id = self.user(email, name, ["expert"], moment, language="en",
                                specialty=rng.choice(SPECIALTIES), position="Consultant")
            self.experts.append((user_id, name))
            self.record(moment, rng.choice(self.staff), "account_invited", "users", user_id, to_state="active",
                        details={"role": "expert"})

    def user(self, email: str, name: str, roles: list[str], created: dt.datetime, *, language: str,
             clinic_id: int | None = None, specialty: str | None = None, position: str | None = None,
             phone: str | None = None, passport: tuple[Any, ...] | None = None, active: bool = True) -> int:
        user_id = self.new_id("users")
        full_name, nationality, born, number, expiry = passport or (None, None, None, None, None)
        last_login = self.now - dt.timedelta(seconds=self.rng.randint(600, 400 * 86400))
        self.load.add("users", {
            "id": user_id, "email": email, "name": name, "password_hash": self.password_hash, "active": active,
            "session_token": secrets.token_urlsafe(32), "preferred_language": language, "created_at": created,
            "last_login_at": max(created, last_login), "clinic_id": clinic_id, "specialty": specialty,
            "position": position, "phone": phone, "passport_full_name": full_name, "nationality": nationality,
            "date_of_birth": born, "passport_number": number, "passport_expiry": expiry})
        for role in roles:
            self.load.add("user_roles", {"id": self.new_id("user_roles"), "user_id": user_id, "role": role})
        return user_id

    def day_in(self, year: int) -> dt.date:
        first = dt.date(year, 1, 1)
        last = min(dt.date(year, 12, 31), self.today)
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def catalogue(self) -> None:
        """Conferences (more each year, as the programme grew), monthly rates, yearly budgets."""
        rng = self.rng
        years = list(range(FIRST_YEAR, self.today.year + 2))
        horizon = self.today + dt.timedelta(days=240)  # next year's meetings are announced, not all
        # Next year's meetings: only those announced by the horizon.
        announced = max(0, (horizon - dt.date(self.today.year + 1, 1, 1)).days) / 365
        weights = [_growth(y) * (announced if y > self.today.year else 1) for y in years]
        per_year = Counter(rng.choices(years, weights=weights, k=self.counts["conferences"]))
        planned: list[list[Any]] = []
        for year in years:
            series = rng.sample(SERIES, min(len(SERIES), per_year[year])) if per_year[year] else []
            series += [rng.choice(SERIES) for _ in range(per_year[year] - len(series))]
            for name, organiser, month, places in series:
                start = dt.date(year, month, rng.randint(1, 24))
                if start > horizon:
                    start = horizon - dt.timedelta(days=rng.randint(0, 200))
                planned.append([start, name, organiser, places])
        # However small the catalogue, some meetings are ahead and some just over, so every
        # size has work in progress (the queues' first pages are full at 1k too).
        for low, high in ((20, 240), (-120, -25)):
            window = [c for c in planned if low <= (c[0] - self.today).days <= high]
            spare = [c for c in planned if c[0].year < self.today.year - 1]
            for conference in rng.sample(spare, max(0, min(len(spare), 2 - len(window)))):
                conference[0] = self.today + dt.timedelta(days=rng.randint(low, high))
        self.conferences: list[tuple[int, str, dt.date, dt.date, str, str, float]] = []
        for start, name, organiser, places in sorted(planned, key=lambda c: (c[0], c[1])):
            end = start + dt.timedelta(days=rng.randint(2, 4))
            city, country = rng.choice(places)
            conference_id = self.new_id("conferences")
            staff = rng.choice(self.staff)
            added = self.clamp(_at(start - dt.timedelta(days=rng.randint(250, 400)), rng))
            self.load.add("conferences", {
                "id": conference_id, "name": name, "organiser": organiser, "city": city, "country": country,
                "start_date": start, "end_date": end,
                "website": f"https://www.{organiser.split()[0].lower()}.example.org/{start.year}",
                "confirmed": True, "proposed_by_id": None, "created_at": added})
            self.record(added, staff, "conference_added", "conferences", conference_id, to_state="confirmed")
            self.conferences.append((conference_id, name, start, end, city, country,
                                     rng.uniform(0.5, 1.5) * _growth(start.year)))
        # Monthly rates (as HMRC publishes them), from the year before the first to today.
        valid_from = dt.date(FIRST_YEAR - 1, 1, 1)
        level = {currency: centre for currency, centre in RATE_CENTRES.items()}
        finance = self.finance[0]
        while valid_from <= self.today:
            for currency, centre in RATE_CENTRES.items():
                level[currency] = max(centre * 0.6, min(centre * 1.4, level[currency] * rng.uniform(0.97, 1.03)))
                rate = Decimal(f"{level[currency]:.6g}")
                self.rates[(currency, valid_from.year, valid_from.month)] = rate
                moment = self.clamp(_at(valid_from - dt.timedelta(days=rng.randint(0, 3)), rng))
                rate_id = self.new_id("exchange_rates")
                self.load.add("exchange_rates", {
                    "id": rate_id, "currency": currency, "base_currency": "GBP", "rate": rate, "valid_from": valid_from,
                    "recorded_by_id": finance[0], "created_at": moment})
                if moment >= self.recent:
                    self.record(moment, finance, "rate_set", "exchange_rates", rate_id, details={
                        "currency": currency, "rate": str(rate), "valid_from": valid_from.isoformat()})
            valid_from = (valid_from + dt.timedelta(days=32)).replace(day=1)
        scale = self.counts["applications"] / 100_000
        for year in range(FIRST_YEAR, self.today.year + 2):
            amount = int(round(400_000 * _growth(year) * scale, -2)) * 100  # GBP minor units
            moment = self.clamp(_at(dt.date(year - 1, 12, rng.randint(1, 20)), rng))
            self.load.add("programme_budgets", {"year": year, "amount_gbp": amount, "updated_by_id": self.admin[0],
                                                "updated_at": moment})
            self.record(moment, self.admin, "budget_set", "programme_budgets", year,
                        details={"year": year, "from": None, "to": amount})
        if not self.connection.scalar(select(func.count()).select_from(db.metadata.tables["organisation_settings"])):
            self.load.add("organisation_settings", {
                "id": 1, "name": "Gift of Life", "address": "1 Example Street\nLondon EC1A 1AA\nUnited Kingdom",
                "charity_number": "1076562 (bench)", "signatory_name": "Sarah Mitchell",
                "signatory_title": "Programme Director", "reference_prefix": "EP", "programme_since": FIRST_YEAR,
                "doctors_before_portal": 70, "logo": None, "logo_type": None, "signature": None,
                "signature_type": None, "updated_at": self.now - dt.timedelta(days=400)})

    # -- funded items -------------------------------------------------------------------------

    def funded_items(self) -> None:
        """Applications and visits, in the order they were created (one id sequence)."""
        rng = self.rng
        # Meetings ahead or just over get applications in proportion to their weight, but at
        # least CURRENT_FLOOR of them: a small database still has a queue to work through.
        cutoff = self.today - dt.timedelta(days=120)
        current = [c for c in self.conferences if c[3] >= cutoff]
        historic = [c for c in self.conferences if c[3] < cutoff] or current
        weight_current, weight_all = sum(c[6] for c in current), sum(c[6] for c in self.conferences)
        share = max(weight_current / weight_all, min(0.5, CURRENT_FLOOR / self.counts["applications"]))
        pools = [(c, list(itertools.accumulate(x[6] for x in c))) for c in (current, historic)]
        specs: list[tuple[dt.datetime, str, Any]] = []
        for _ in range(self.counts["applications"]):
            conferences, cumulative = pools[0] if rng.random() < share else pools[1]
            conference = conferences[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
            start = conference[2]
            created = _at(start - dt.timedelta(days=rng.randint(45, 240)), rng)
            if created >= self.now:
                created = self.now - dt.timedelta(seconds=rng.randint(3600, 86400 * 40))
            specs.append((created, "application", conference))
        for _ in range(self.counts["visits"]):
            arrival = self.day_in(rng.choices(range(FIRST_YEAR, self.today.year + 1),
                                              weights=[_growth(y) for y in range(FIRST_YEAR, self.today.year + 1)])[0])
            if rng.random() < 0.08:
                arrival = self.today + dt.timedelta(days=rng.randint(10, 150))
            created = self.clamp(_at(arrival - dt.timedelta(days=rng.randint(60, 180)), rng))
            specs.append((created, "visit", arrival))
        specs.sort(key=lambda spec: spec[0])
        self.items: list[Item] = []
        for created, kind, what in specs:
            if kind == "application":
                self.application(created, what)
            else:
                self.visit(created, what)

    def pick_doctor(self, day: dt.date) -> tuple[int, str]:
        joined = bisect.bisect_right(self.doctor_joined, day)
        return self.doctors[self.rng.randrange(max(joined, min(5, len(self.doctors))))]

    def budget_lines(self, item_id: int, currency: str, visa: bool,
                     status: str) -> tuple[list[dict[str, Any]], list[tuple[str, int, str]]]:
        """The amounts asked for (and, once decided, approved): the rows, and the approved amounts."""
        rng = self.rng
        wanted = [("registration", 1.0, 350, 1100), ("travel", 0.9, 250, 900), ("accommodation", 0.85, 400, 1500),
                  ("visa", 0.7 if visa else 0.0, 60, 120), ("other", 0.1, 40, 250)]
        approved, rows = [], []
        decided = status in ("approved", "completed", "cancelled")
        for category, chance, low, high in wanted:
            if rng.random() >= chance:
                continue
            requested = _minor(rng.uniform(low, high) * PER_EUR[currency])
            amount = None
            if decided:
                amount = requested if rng.random() < 0.75 else _minor(requested / 100 * rng.uniform(0.6, 0.95))
                if category == "other" and rng.random() < 0.5:
                    amount = 0
            rows.append({
                "id": self.new_id("budget_lines"), "funded_item_id": item_id, "category": category,
                "requested_amount": requested, "requested_currency": currency,
                "approved_amount": amount, "approved_currency": currency if decided else None})
            if amount:
                approved.append((category, amount, currency))
        return rows, approved

    def application(self, created: dt.datetime, conference: tuple[Any, ...]) -> None:
        rng = self.rng
        conference_id, conference_name, start, end, city, country, _ = conference
        doctor = self.pick_doctor(created.date())
        if start > self.today:
            state = _choice(rng, STATE_WEIGHTS["future"])
        elif (self.today - end).days <= 120:
            state = _choice(rng, STATE_WEIGHTS["recent"])
            if state == "completed" and (self.today - end).days < 25:
                state = "approved"
        else:
            state = _choice(rng, STATE_WEIGHTS["historic"])
        if state not in ("draft", "submitted", "withdrawn") and created > self.now - dt.timedelta(days=3):
            state = "submitted"
        item_id = self.new_id("funded_items")
        currency = COUNTRY_CURRENCY.get(country, "EUR")
        visa = country not in ("Serbia", "Türkiye") and rng.random() < 0.8
        staff = rng.choice(self.staff)
        events: list[tuple[Any, ...]] = [(created, doctor, "application_created", None, "draft", None, None)]
        submitted_at = decided_at = None
        decided_by = None
        version = 1
        status = "draft"
        moment = created

        def step(action: str, to_state: str, who: tuple[int, str], low: float, high: float,
                 note: str | None = None, details: dict[str, Any] | None = None) -> dt.datetime:
            nonlocal status, version, moment
            moment = self.later(moment, low, high)
            events.append((moment, who, f"application_{action}", status, to_state, note, details))
            status, version = to_state, version + 1
            return moment

        comments: list[tuple[dt.datetime, tuple[int, str], str]] = []
        if state == "withdrawn":
            if rng.random() < 0.6:
                submitted_at = step("submit", "submitted", doctor, 0, 14)
            step("withdraw", "withdrawn", doctor, 1, 20)
        elif state != "draft":
            submitted_at = step("submit", "submitted", doctor, 0, 14)
            if state == "changes_requested" or (state != "submitted" and rng.random() < 0.12):
                note = rng.choice(CHANGE_REQUESTS)
                decided_at, decided_by = step("request_changes", "changes_requested", staff, 2, 20, note=note), staff
                comments.append((decided_at, staff, note))
                if state != "changes_requested":
                    submitted_at = step("submit", "submitted", doctor, 1, 10)
        budget_rows, approved_lines = self.budget_lines(item_id, currency, visa, state)
        approved_at = created
        if state in ("approved", "completed", "cancelled"):
            decided_at = approved_at = step("approve", "approved", staff, 2, 25, details={
                "approved": {c: [a, cur] for c, a, cur in sorted(approved_lines)}})
            decided_by = staff
        elif state == "declined":
            note = rng.choice(DECLINE_REASONS)
            decided_at, decided_by = step("decline", "declined", staff, 2, 25, note=note), staff
            comments.append((decided_at, staff, note))
        visa_on = visa_outcome = None
        if visa and state in ("approved", "completed", "cancelled") and start - dt.timedelta(days=25) < self.today:
            visa_on = start - dt.timedelta(days=rng.randint(25, 60))
            visa_outcome = "refused" if state == "cancelled" and rng.random() < 0.5 else (
                "granted" if state == "completed" or rng.random() < 0.9 else None)
            recorded = self.clamp(max(moment, _at(visa_on, rng)) + dt.timedelta(days=rng.randint(1, 10)))
            events.append((recorded, staff, "visa_recorded", None, None, None,
                           {"appointment_on": visa_on.isoformat(), "outcome": visa_outcome}))
        report: dict[str, Any] | None = None
        reminded_on = None
        if state == "cancelled":
            note = rng.choice(CANCEL_REASONS)
            decided_at = step("cancel", "cancelled", staff, 5, 40, note=note)
            comments.append((decided_at, staff, note))
        elif state in ("completed", "approved") and (self.today - end).days > 14:
            report_status = "accepted" if state == "completed" else _choice(
                rng, {"submitted": 45, "returned": 10, "none": 45})
            if report_status != "none":
                sent = self.clamp(_at(end + dt.timedelta(days=rng.randint(5, 40)), rng))
                events.append((sent, doctor, "report_submitted", None, None, None, None))
                decided_report = self.later(sent, 1, 14) if report_status != "submitted" else None
                report = {"status": report_status, "submitted_at": sent, "decided_at": decided_report,
                          "staff_comment": "Please add how many colleagues came to your seminar."
                          if report_status == "returned" else None,
                          "shared_on": min(self.today, end + dt.timedelta(days=rng.randint(7, 60)))}
                moment = max(moment, sent)
                if report_status == "accepted":
                    decided_at = step("complete", "completed", staff, 1, 14)
                elif report_status == "returned" and decided_report is not None:
                    events.append((decided_report, staff, "report_returned", None, None,
                                   report["staff_comment"], None))
                    comments.append((decided_report, staff, report["staff_comment"]))
            elif (self.today - end).days > 14:
                reminded_on = self.today - dt.timedelta(days=rng.randint(0, 20))
                events.append((_at(reminded_on, rng), None, "report_reminder_sent", None, None, None, None))
        if status != state:  # the steps above always reach the chosen state
            raise AssertionError(f"application {item_id}: reached {status}, wanted {state}")
        updated = max(event[0] for event in events)
        self.load.add("funded_items", {"id": item_id, "kind": "application", "status": state,
                                       "beneficiary_id": doctor[0], "version": version, "created_at": created,
                                       "updated_at": updated})
        self.load.add("applications", {
            "id": item_id, "conference_id": conference_id,
            "purpose": rng.choice(PURPOSES).format(topic=rng.choice(TOPICS)),
            "expected_benefit": rng.choice(BENEFITS),
            "participation": _choice(rng, {"attending": 55, "poster": 30, "oral": 12, "invited_talk": 3}),
            "visa_needed": visa, "visa_country": country if visa else None, "visa_city": "Moscow" if visa else None,
            "submitted_at": submitted_at, "decided_at": decided_at,
            "decided_by_id": decided_by[0] if decided_by else None, "visa_appointment_on": visa_on,
            "visa_outcome": visa_outcome, "report_reminded_on": reminded_on})
        for row in budget_rows:
            self.load.add("budget_lines", row)
        for at, who, body in comments:
            self.load.add("application_comments", {
                "id": self.new_id("application_comments"), "application_id": item_id, "author_id": who[0],
                "author_name": who[1], "body": body, "internal": False, "created_at": at})
        if report is not None:
            certificate = self.stored_file(f"certificate-{item_id}", doctor[0], report["submitted_at"])
            self.load.add("conference_reports", {
                "id": self.new_id("conference_reports"), "application_id": item_id,
                "learned": f"New approaches to {rng.choice(TOPICS)}; contacts with two European centres.",
                "shared_by": sorted(rng.sample(["talk", "seminar", "summary"], rng.randint(1, 3))),
                "shared_on": report["shared_on"], "colleagues_reached": rng.randint(5, 120),
                "certificate_file_id": certificate, "status": report["status"],
                "staff_comment": report["staff_comment"], "submitted_at": report["submitted_at"],
                "decided_at": report["decided_at"]})
        for at, who, action, from_state, to_state, note, details in events:
            self.record(at, who, action, "applications", item_id, from_state, to_state, note, details)
        if state in ("approved", "completed"):
            self.items.append(Item(item_id, "application", doctor[0], state, created, start, end, city,
                                   approved_lines, approved_at))

    def visit(self, created: dt.datetime, arrival: dt.date) -> None:
        rng = self.rng
        item_id = self.new_id("funded_items")
        expert = rng.choice(self.experts)
        staff = rng.choice(self.staff)
        departure = arrival + dt.timedelta(days=rng.randint(3, 7))
        if arrival > self.today:
            state = _choice(rng, {"planned": 45, "confirmed": 50, "cancelled": 5})
        else:
            state = _choice(rng, {"completed": 85, "cancelled": 15})
        events: list[tuple[Any, ...]] = [(created, staff, "visit_planned", None, "planned", None, None)]
        version, moment = 1, created
        confirmed_at = created
        if state in ("confirmed", "completed") or (state == "cancelled" and rng.random() < 0.5):
            moment = confirmed_at = self.later(moment, 5, 40)
            events.append((moment, staff, "visit_confirm", "planned", "confirmed", None, None))
            version += 1
        if state == "completed":
            moment = self.clamp(max(moment, _at(departure + dt.timedelta(days=rng.randint(1, 10)), rng)))
            events.append((moment, staff, "visit_complete", "confirmed", "completed", None, None))
            version += 1
        if state == "cancelled":
            moment = self.later(moment, 2, 30)
            events.append((moment, staff, "visit_cancel", "confirmed" if version > 1 else "planned", "cancelled",
                           "The expert could not travel on these dates.", None))
            version += 1
        outcomes = {}
        if state == "completed":
            outcomes = {"patients_consulted": rng.randint(10, 80), "doctors_trained": rng.randint(5, 60),
                        "operations_performed": rng.randint(0, 12)}
            moment = self.later(moment, 1, 20)
            events.append((moment, staff, "visit_outcomes", None, None, None, dict(outcomes)))
            version += 1
        self.load.add("funded_items", {"id": item_id, "kind": "expert_visit", "status": state,
                                       "beneficiary_id": expert[0], "version": version, "created_at": created,
                                       "updated_at": max(e[0] for e in events)})
        clinic_id = rng.choice(self.clinic_ids)
        self.load.add("expert_visits", {
            "id": item_id, "host_clinic_id": clinic_id, "arrival_on": arrival, "departure_on": departure,
            "purpose": f"Consultations and master classes in {rng.choice(SPECIALTIES).lower()}.",
            "purpose_ru": "Консультации и мастер-классы для врачей клиники.",
            "patients_consulted": outcomes.get("patients_consulted"),
            "doctors_trained": outcomes.get("doctors_trained"),
            "operations_performed": outcomes.get("operations_performed"),
            "outcome_notes": "Joint protocol agreed for relapsed patients." if outcomes else None})
        approved = []
        for category, low, high in (("travel", 400, 1200), ("accommodation", 400, 1200), ("visa", 60, 150)):
            amount = _minor(rng.uniform(low, high))
            self.load.add("budget_lines", {
                "id": self.new_id("budget_lines"), "funded_item_id": item_id, "category": category,
                "requested_amount": amount, "requested_currency": "EUR", "approved_amount": amount,
                "approved_currency": "EUR"})
            approved.append((category, amount, "EUR"))
        day = arrival
        for position in range(rng.randint(3, 6)):
            day = min(departure, arrival + dt.timedelta(days=position // 2 + 1))
            kind = _choice(rng, {"consultation": 40, "lecture": 25, "master_class": 20, "joint_surgery": 15})
            activity_id = self.new_id("visit_activities")
            self.load.add("visit_activities", {
                "id": activity_id, "visit_id": item_id, "kind": kind, "day": day,
                "starts_at": dt.time(9 + 3 * (position % 2), 0), "ends_at": dt.time(11 + 3 * (position % 2), 0),
                "title": {"consultation": "Consultations", "lecture": "Lecture for residents",
                          "master_class": "Master class", "joint_surgery": "Joint operation"}[kind],
                "place": "Main building, hall 2", "participants": None, "position": position % 2})
            events.append((self.later(created, 0, 3), staff, "activity_added", None, None, None,
                           {"activity": activity_id, "title": kind.replace("_", " ")}))
        for at, who, action, from_state, to_state, note, details in events:
            self.record(at, who, action, "expert_visits", item_id, from_state, to_state, note, details)
        if state in ("confirmed", "completed"):
            self.items.append(Item(item_id, "expert_visit", expert[0], state, created, arrival, departure,
                                   "Moscow", approved, confirmed_at))

    # -- expenses -------------------------------------------------------------------------------

    def expenses(self) -> None:
        rng = self.rng
        # Claims come once a trip is booked: every completed item, most approved ones.
        claimed = [item for item in self.items if item.approved and (
            item.status == "completed" or item.start <= self.today + dt.timedelta(days=30) or rng.random() < 0.3)]
        if not claimed:
            return
        target = self.counts["expense_lines"]
        mean = target / max(1, len(claimed))
        sizes = [max(1, round(rng.gauss(mean, mean * 0.35))) for _ in claimed]
        difference = target - sum(sizes)
        while difference:
            index = rng.randrange(len(sizes))
            if difference > 0:
                sizes[index] += 1
                difference -= 1
            elif sizes[index] > 1:
                sizes[index] -= 1
                difference += 1
        for item, size in zip(claimed, sizes, strict=True):
            self.claims_for(item, size)

    def claims_for(self, item: Item, size: int) -> None:
        rng = self.rng
        historic = (self.today - item.end).days > 120
        direct = item.kind == "application" and size > 1 and rng.random() < 0.08
        if direct:  # the charity paid the registration fee to the organiser itself
            size -= 1
            self.direct_cost(item)
        # Categories for each line: every approved category once, then in proportion.
        categories = [c for c, _, _ in item.approved]
        picks = (categories * (size // len(categories) + 1))[:size] if size >= len(categories) else \
            rng.sample(categories, size)
        by_category = Counter(picks)
        lines: list[dict[str, Any]] = []
        for category, amount, currency in item.approved:
            count = by_category.get(category, 0)
            if not count:
                continue
            spend = amount * rng.uniform(0.8, 1.04)
            weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
            for weight in weights:
                part = spend * weight / sum(weights)
                line_currency = currency
                if category in ("travel", "visa", "other") and rng.random() < 0.12:
                    line_currency = "RUB"  # the taxi home, the visa centre in Moscow
                    part = part / PER_EUR[currency] * PER_EUR["RUB"]
                lines.append({"category": category, "currency": line_currency,
                              "amount": max(100, int(round(part))), "spent_on": self.spent_on(item, category)})
        rng.shuffle(lines)
        claims = 1 if len(lines) < 3 else _choice(rng, {"1": 80, "2": 17, "3": 3})
        claims = int(claims)
        groups = [lines[n::claims] for n in range(claims)]
        for group in groups:
            if group:
                self.claim(item, sorted(group, key=lambda line: line["spent_on"]), historic)

    def spent_on(self, item: Item, category: str) -> dt.date:
        rng = self.rng
        offsets = {"registration": (-150, -30), "travel": (-3, 0), "accommodation": (0, 0), "visa": (-60, -20),
                   "other": (0, 2)}
        low, high = offsets[category]
        base = item.end if category == "accommodation" else item.start
        day = base + dt.timedelta(days=rng.randint(low, high))
        if day > self.today:
            day = self.today - dt.timedelta(days=rng.randint(0, 30))
        return max(day, item.created_at.date())

    def claim(self, item: Item, lines: list[dict[str, Any]], historic: bool) -> None:
        rng = self.rng
        who = (item.beneficiary_id, self.name_of(item.beneficiary_id))
        claim_id = self.new_id("expense_claims")
        # Opened once the receipts are in (after the trip, or after paying a fee in advance),
        # its lines added over the next few days.
        opened = self.later(max(item.approved_at, _at(lines[-1]["spent_on"], rng)), 0, 7)
        draft = not historic and rng.random() < 0.12
        last_added = opened
        for line in lines:
            line["created_at"] = last_added = self.later(last_added, 0, 1.5)
        submitted_at = None if draft else self.later(last_added, 0, 5)
        if historic:
            weights = {"paid": 93, "rejected": 5, "approved": 0.3, "submitted": 0.2}
        else:
            weights = {"submitted": 30, "queried": 5, "approved": 15, "paid": 45, "rejected": 5}
        approver = rng.choice(self.staff)
        payer = rng.choice(self.finance)
        decided_at = None if submitted_at is None else self.later(submitted_at, 1, 14)
        paid_on = None if decided_at is None else self.later(decided_at, 2, 20)
        states = []
        for _ in lines:
            state = "draft" if draft else _choice(rng, weights)
            if state == "paid" and (paid_on is None or paid_on >= self.now - dt.timedelta(hours=1)):
                state = "approved"
            states.append(state)
        paid = [line for line, state in zip(lines, states, strict=True) if state == "paid"]
        for line in lines:
            rate = self.rate(line["currency"], line["spent_on"])
            line["rate"], line["amount_gbp"] = rate, self.to_gbp(line["amount"], line["currency"], rate)
        payment_id = None
        if paid:
            assert paid_on is not None
            payment_id = self.new_id("payments")
            total = sum(line["amount_gbp"] for line in paid)
            self.load.add("payments", {
                "id": payment_id, "payee_id": item.beneficiary_id, "paid_on": paid_on.date(),
                "method": _choice(rng, {"bank_transfer": 85, "card": 5, "cash": 5, "other": 5}),
                "reference": f"BACS-{paid_on:%Y%m%d}-{payment_id:06d}", "amount_gbp": total,
                "recorded_by_id": payer[0], "created_at": paid_on})
        self.load.add("expense_claims", {"id": claim_id, "funded_item_id": item.id, "claimant_id": item.beneficiary_id,
                                         "direct": False, "submitted_at": submitted_at, "created_at": opened})
        recent = opened >= self.recent
        if recent:
            self.record(opened, who, "claim_opened", "expense_claims", claim_id, to_state="draft")
        line_ids = []
        for line, state in zip(lines, states, strict=True):
            line_id = self.new_id("expense_lines")
            line_ids.append(line_id)
            receipt = self.stored_file(f"receipt-{line_id}", item.beneficiary_id, line["created_at"],
                                       resent=rng.random() < 0.002)
            decided = state in ("approved", "rejected", "queried", "paid")
            version = {"draft": 1, "submitted": 2, "approved": 3, "rejected": 3, "queried": 3, "paid": 4}[state]
            answered = state in ("submitted", "approved", "paid") and rng.random() < 0.03
            text_choice = rng.choice(LINE_TEXT[line["category"]])
            self.load.add("expense_lines", {
                "id": line_id, "claim_id": claim_id, "category": line["category"], "spent_on": line["spent_on"],
                "description": text_choice.format(city=item.city, n=max(1, (item.end - item.start).days + 1)),
                "amount": line["amount"], "currency": line["currency"], "rate": line["rate"],
                "amount_gbp": line["amount_gbp"], "receipt_id": receipt, "status": state,
                "decided_by_id": approver[0] if decided else None, "decided_at": decided_at if decided else None,
                "reject_reason": "This was not part of the approved budget." if state == "rejected" else None,
                "question": "Please send the boarding pass as well." if state == "queried" or answered else None,
                "answer": "Attached: the boarding pass." if answered else None, "override_reason": None,
                "payment_id": payment_id if state == "paid" else None, "version": version + (2 if answered else 0),
                "created_at": line["created_at"]})
            if not recent:
                continue
            self.record(line["created_at"], who, "line_added", "expense_lines", line_id, to_state="draft")
            if decided:
                assert decided_at is not None
                action = {"approved": "approve", "paid": "approve", "rejected": "reject", "queried": "query"}[state]
                self.record(decided_at, approver, f"line_{action}", "expense_lines", line_id, "submitted",
                            "approved" if state == "paid" else state,
                            details={"amount_gbp": line["amount_gbp"], "rate": str(line["rate"])}
                            if action == "approve" else None)
            if state == "paid":
                assert paid_on is not None
                self.record(paid_on, payer, "line_pay", "expense_lines", line_id, "approved", "paid",
                            details={"payment": payment_id})
        if recent and submitted_at is not None:
            self.record(submitted_at, who, "claim_submitted", "expense_claims", claim_id, "draft", "submitted",
                        details={"lines": len(lines)})
        if recent and payment_id is not None and paid_on is not None:
            self.record(paid_on, payer, "payment_recorded", "payments", payment_id, details={
                "lines": [i for i, s in zip(line_ids, states, strict=True) if s == "paid"],
                "amount_gbp": sum(line["amount_gbp"] for line in paid)})

    def direct_cost(self, item: Item) -> None:
        rng = self.rng
        category, amount, currency = next((a for a in item.approved if a[0] == "registration"), item.approved[0])
        staff = rng.choice(self.staff)
        spent_on = self.spent_on(item, category)
        moment = self.clamp(_at(spent_on, rng) + dt.timedelta(days=rng.randint(0, 5)))
        rate = self.rate(currency, spent_on)
        claim_id, line_id = self.new_id("expense_claims"), self.new_id("expense_lines")
        self.load.add("expense_claims", {"id": claim_id, "funded_item_id": item.id, "claimant_id": staff[0],
                                         "direct": True, "submitted_at": moment, "created_at": moment})
        invoice = self.stored_file(f"invoice-{line_id}", staff[0], moment)
        amount_gbp = self.to_gbp(amount, currency, rate)
        self.load.add("expense_lines", {
            "id": line_id, "claim_id": claim_id, "category": category, "spent_on": spent_on,
            "description": "Registration fee paid to the organiser", "amount": amount, "currency": currency,
            "rate": rate, "amount_gbp": amount_gbp, "receipt_id": invoice, "status": "paid",
            "decided_by_id": staff[0], "decided_at": moment, "reject_reason": None, "question": None, "answer": None,
            "override_reason": None, "payment_id": None, "version": 1, "created_at": moment})
        if moment >= self.recent:
            self.record(moment, staff, "direct_cost_recorded", "expense_lines", line_id, to_state="paid",
                        details={"amount_gbp": amount_gbp, "funded_item": item.id})

    def name_of(self, user_id: int) -> str:
        if not hasattr(self, "_names"):
            self._names = {uid: name for uid, name in self.doctors + self.experts + self.staff + self.finance}
        return self._names.get(user_id, "")

    # -- donors ---------------------------------------------------------------------------------

    def donors(self) -> None:
        rng = self.rng
        years = list(range(FIRST_YEAR, self.today.year + 1))
        year_weights = [_growth(y) for y in years]
        joined = sorted(self.day_in(rng.choices(years, weights=year_weights)[0])
                        for _ in range(self.counts["donors"]))
        donors: list[dict[str, Any]] = []
        regular: list[int] = []
        for n, day in enumerate(joined):
            donor_id = self.new_id("donors")
            kind = "organisation" if rng.random() < 0.08 else "individual"
            russian = kind == "individual" and rng.random() < 0.15
            country, town, postcode = "GB", *rng.choice(TOWNS)
            if rng.random() < 0.08:
                country, town, postcode = rng.choice(ABROAD)
            else:
                postcode = f"{postcode} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                           f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            title = first = last = organisation = None
            if kind == "organisation":
                organisation = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIX)}"
                email = f"giving{n}@org{n}.example.org" if rng.random() < 0.8 else None
            elif russian and rng.random() < 0.5:
                first, last = rng.choice(RU_DONORS)
                email = f"donor{n}@example.org" if rng.random() < 0.7 else None
            else:
                title = _choice(rng, {"Mr": 30, "Mrs": 25, "Ms": 20, "Dr": 10, "Miss": 5, "": 10}) or None
                first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
                email = f"{first}.{last}{n}@example.org".lower() if rng.random() < 0.75 else None
            preference = _choice(rng, {"email": 60, "post": 30, "none": 10}) if email else \
                _choice(rng, {"post": 85, "none": 15})
            created = _at(day, rng)
            search = " ".join(part for part in (first, last, organisation) if part).lower()
            donors.append({
                "id": donor_id, "kind": kind, "title": title, "first_name": first, "last_name": last,
                "organisation_name": organisation, "email": email, "house": str(rng.randint(1, 200)),
                "address": f"{rng.choice(STREETS)}\n{town}", "postcode": postcode, "country": country,
                "language": "ru" if russian else "en", "contact_preference": preference,
                "notes": "Prefers not to be phoned." if rng.random() < 0.02 else None, "search_name": search,
                "created_at": created, "updated_at": created})
            if rng.random() < 0.2:
                regular.append(n)
        for donor in donors:
            self.load.add("donors", donor)
            if donor["created_at"] >= self.recent:
                self.record(donor["created_at"], rng.choice(self.staff), "donor_added", "donors", donor["id"])
        # Gift Aid: many UK individuals declare, usually with their first gift.
        self.declarations: dict[int, list[tuple[dt.date, bool, bool, dt.date | None]]] = defaultdict(list)
        for donor, day in zip(donors, joined, strict=True):
            if donor["kind"] != "individual" or donor["country"] != "GB" or rng.random() >= 0.45:
                continue
            made_on = day if rng.random() < 0.6 else min(self.today, day + dt.timedelta(days=rng.randint(1, 400)))
            past, future = rng.random() < 0.85, True
            cancelled = None
            if rng.random() < 0.05:
                cancelled = made_on + dt.timedelta(days=rng.randint(100, 2000))
                cancelled = cancelled if cancelled <= self.today else None
            staff = rng.choice(self.staff)
            created = self.clamp(_at(made_on, rng))
            self.load.add("gift_aid_declarations", {
                "id": self.new_id("gift_aid_declarations"), "donor_id": donor["id"], "made_on": made_on,
                "covers_past": past, "covers_future": future, "cancelled_on": cancelled,
                "cancelled_reason": "No longer pays UK income tax." if cancelled else None, "created_at": created,
                "created_by_id": staff[0]})
            self.declarations[donor["id"]].append((made_on, past, future, cancelled))
            if created >= self.recent:
                self.record(created, staff, "gift_aid_declared", "donors", donor["id"], to_state="valid",
                            details={"made_on": made_on.isoformat(), "past": past, "future": future})
            if cancelled and _at(cancelled, rng) >= self.recent:
                self.record(self.clamp(_at(cancelled, rng)), staff, "gift_aid_cancelled", "donors", donor["id"],
                            "valid", "cancelled", "No longer pays UK income tax.",
                            {"made_on": made_on.isoformat(), "from": cancelled.isoformat()})
        self.gifts(donors, joined, regular, years, year_weights)

    def gifts(self, donors: list[dict[str, Any]], joined: list[dt.date], regular: list[int], years: list[int],
              year_weights: list[float]) -> None:
        rng = self.rng
        regular_joined = [joined[n] for n in regular]
        specs = [(day, n) for n, day in enumerate(joined)]  # every donor's first gift
        for _ in range(self.counts["donations"] - len(specs)):
            day = self.day_in(rng.choices(years, weights=year_weights)[0])
            if regular and rng.random() < 0.6 and bisect.bisect_right(regular_joined, day):
                n = regular[rng.randrange(bisect.bisect_right(regular_joined, day))]
            else:
                n = rng.randrange(max(1, bisect.bisect_right(joined, day)))
            specs.append((max(day, joined[n]), n))
        specs.sort()
        # Gifts of the last fortnight await thanks; a small database keeps a page of them.
        pending_from = min(self.today - dt.timedelta(days=14), specs[-min(len(specs), PENDING_FLOOR * 6 // 5)][0])
        impact = self.impact_by_year()
        batches: dict[dt.date, tuple[int, dt.datetime, tuple[int, str]]] = {}
        acknowledgements: dict[tuple[int, dt.date], tuple[int, dt.datetime, tuple[int, str], str]] = {}
        funded = sorted(self.items, key=lambda item: item.created_at)
        funded_created = [item.created_at.date() for item in funded]
        rows = []
        for received, n in specs:
            donor = donors[n]
            donation_id = self.new_id("donations")
            organisation = donor["kind"] == "organisation"
            if organisation:
                amount = rng.choice([500, 1000, 2500, 5000, 10000, 25000]) * 100
            else:
                amount = rng.choices([5, 10, 20, 25, 50, 100, 250, 500, 1000],
                                     weights=[8, 20, 20, 15, 18, 10, 5, 3, 1])[0] * 100
            currency = "GBP" if donor["country"] == "GB" or rng.random() < 0.3 else rng.choice(["EUR", "USD"])
            method = _choice(rng, {"bank_transfer": 35, "card": 30, "online_platform": 20, "cheque": 10, "cash": 5})
            reference = {"bank_transfer": f"BANK-{received:%Y%m%d}-{donation_id:06d}",
                         "card": f"CARD-{donation_id:08d}", "online_platform": f"JG-{donation_id:08d}",
                         "cheque": f"CHQ-{100000 + donation_id}" if rng.random() < 0.7 else None,
                         "cash": None}[method]
            staff = rng.choice(self.staff)
            created = self.clamp(_at(received, rng) + dt.timedelta(days=rng.randint(0, 3)))
            pending = (received >= pending_from and rng.random() < 0.85) or rng.random() < 0.0005
            acknowledgement_id = None
            thanked_at = None
            if not pending:
                batch = rng.random() < 0.8
                if batch:  # Monday's "acknowledge all pending"
                    monday = created.date() + dt.timedelta(days=7 - created.weekday())
                    started = _at(monday, rng).replace(hour=10)
                    if started >= self.now:
                        batch = False
                if batch:
                    if monday not in batches:
                        batch_staff = rng.choice(self.staff)
                        batches[monday] = (self.new_id("acknowledgement_batches"), started, batch_staff)
                        self.load.add("acknowledgement_batches", {
                            "id": batches[monday][0], "started_at": started,
                            "finished_at": started + dt.timedelta(minutes=rng.randint(1, 20)),
                            "started_by_id": batch_staff[0]})
                    batch_id, started, by = batches[monday]
                    key = (donor["id"], monday)
                    thanked_at = started + dt.timedelta(seconds=rng.randint(5, 600))
                else:
                    batch_id, by = None, staff
                    thanked_at = self.later(created, 0, 3)
                    key = (donor["id"], thanked_at.date())
                if key not in acknowledgements:
                    acknowledgement_id = self.new_id("acknowledgements")
                    channel = "none" if donor["contact_preference"] == "none" else (
                        "email" if donor["contact_preference"] == "email" and donor["email"] else "post")
                    acknowledgements[key] = (acknowledgement_id, thanked_at, by, channel)
                    self.load.add("acknowledgements", {
                        "id": acknowledgement_id, "donor_id": donor["id"], "batch_id": batch_id, "letter_id": None,
                        "channel": channel, "acknowledged_at": thanked_at, "acknowledged_by_id": by[0],
                        "impact": impact[thanked_at.year]})
                acknowledgement_id, thanked_at, by, channel = acknowledgements[key]
            rows.append({
                "id": donation_id, "donor_id": donor["id"], "amount": amount, "currency": currency,
                "received_on": received, "method": method, "reference": reference,
                "restricted": rng.random() < 0.65,
                "campaign": rng.choice(CAMPAIGNS).format(y=received.year) if rng.random() < 0.25 else None,
                "anonymous": rng.random() < 0.03, "notes": None, "import_id": None,
                "acknowledgement_id": acknowledgement_id, "created_at": created, "created_by_id": staff[0]})
            if created >= self.recent:
                self.record(created, staff, "donation_recorded", "donations", donation_id, to_state="pending",
                            details={"amount": amount, "currency": currency, "donor": donor["id"]})
                if thanked_at is not None:
                    self.record(thanked_at, by, "donation_acknowledged", "donations", donation_id, "pending",
                                "acknowledged", details={"letter": None, "channel": channel})
        for row in rows:
            self.load.add("donations", row)
        # Restricted gifts paid for particular trips and visits.
        for row in rows:
            if not (row["restricted"] and row["acknowledgement_id"] and rng.random() < 0.2):
                continue
            count = bisect.bisect_right(funded_created, row["received_on"])
            if not count:
                continue
            item = funded[rng.randrange(max(0, count - 300), count)]
            amount = row["amount"] if rng.random() < 0.7 else max(100, int(row["amount"] * rng.uniform(0.3, 0.9)))
            staff = rng.choice(self.staff)
            created = self.later(row["created_at"], 5, 60)
            self.load.add("donation_allocations", {
                "id": self.new_id("donation_allocations"), "donation_id": row["id"], "funded_item_id": item.id,
                "amount": amount, "created_at": created, "created_by_id": staff[0]})
            if created >= self.recent:
                self.record(created, staff, "donation_allocated", "donations", row["id"],
                            details={"item": item.id, "amount": amount, "currency": row["currency"]})

    def impact_by_year(self) -> dict[int, dict[str, int]]:
        """What a thank-you letter quoted in each year: the programme's figures so far."""
        figures = {}
        for year in range(FIRST_YEAR, self.today.year + 1):
            end = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
            done = [i for i in self.items if i.approved_at < end]
            figures[year] = {"since": FIRST_YEAR,
                             "doctors": 70 + len({i.beneficiary_id for i in done if i.kind == "application"}),
                             "conferences": len({(i.start, i.city) for i in done if i.kind == "application"}),
                             "expert_visits": sum(1 for i in done if i.kind == "expert_visit")}
        return figures

    # -- audit, marker, sequences -----------------------------------------------------------------

    def write_audit(self) -> None:
        self.audit.sort(key=lambda event: event[0])
        columns = ("occurred_at", "actor_id", "actor_name", "action", "subject_type", "subject_id", "from_state",
                   "to_state", "note", "details")
        for event in self.audit:
            row = dict(zip(columns, event, strict=True))
            row["id"] = self.new_id("audit_events")
            self.load.add("audit_events", row)
        self.audit = []


def check_empty(connection: Connection) -> None:
    tables = db.metadata.tables
    try:
        found = {name: connection.scalar(select(func.count()).select_from(tables[name])) for name in MUST_BE_EMPTY}
    except Exception as exc:  # the schema is missing
        raise SeedRefused("the database has no portal tables: run `flask --app portal db upgrade` first "
                          f"({type(exc).__name__})") from exc
    full = {name: count for name, count in found.items() if count}
    if full:
        listed = ", ".join(f"{count} {name}" for name, count in full.items())
        raise SeedRefused(f"the database is not empty ({listed}): bench-seed fills only an empty database. "
                          "Point DATABASE_URL at a new one (for example postgresql:///portal_bench_new) and run "
                          "`flask --app portal db upgrade` there first.")
    emails = [email for _, email, _ in LOGINS]
    taken = connection.scalars(select(tables["users"].c.email).where(
        func.lower(tables["users"].c.email).in_(emails))).all()
    if taken:
        raise SeedRefused(f"these accounts already exist: {', '.join(taken)}")


def reset_sequences(connection: Connection) -> None:
    """PostgreSQL: the rows went in with explicit ids, so move each id sequence past them."""
    if connection.dialect.name != "postgresql":
        return
    for name in TABLE_ORDER:
        table = db.metadata.tables[name]
        if "id" not in table.c or not table.c.id.autoincrement:
            continue
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {name}), 1), "
            f"(SELECT COUNT(*) FROM {name}) > 0)"))


def seed_database(size: str, seed: int, today: dt.date, echo: Callable[[str], None] = click.echo) -> Report:
    """Fill the app's (empty) database; returns the rows written and how long each part took."""
    from .blueprints.auth.services import hash_password
    from .page_cache import raise_generation

    if current_app.config.get("ENV") == "production":
        raise SeedRefused("refusing to fill a production database with benchmark data")
    if size not in SIZES:
        raise SeedRefused(f"unknown size {size!r}: use one of {', '.join(SIZES)}")
    report = Report(size, seed, today)
    started = time.perf_counter()
    password_hash = hash_password(PASSWORD)  # once: every account shares it
    engine = db.engine
    with engine.begin() as connection:
        check_empty(connection)
        seeder = Seeder(connection, size, seed, today, password_hash, echo)
        echo(f"Seeding {size} (seed {seed}, today {today.isoformat()}) into {engine.url.render_as_string()}")
        seeder.phase("users, clinics", report, seeder.people)
        seeder.phase("conferences, rates, budgets", report, seeder.catalogue)
        seeder.phase("applications and visits", report, seeder.funded_items)
        seeder.phase("claims, lines, payments", report, seeder.expenses)
        seeder.phase("donors, gifts, thanks", report, seeder.donors)
        seeder.phase("audit events", report, seeder.write_audit)
        report.rows = Counter(seeder.load.rows)
        marker = {"size": size, "seed": seed, "version": SEED_VERSION, "today": today.isoformat(),
                  "counts": dict(sorted(report.rows.items()))}
        connection.execute(insert(db.metadata.tables["audit_events"]), [{
            "id": seeder.new_id("audit_events"), "occurred_at": dt.datetime.now(UTC), "actor_id": None,
            "actor_name": None, "action": MARKER_ACTION, "subject_type": "database", "subject_id": 0,
            "from_state": None, "to_state": None, "note": "flask --app portal bench-seed", "details": marker}])
        reset_sequences(connection)
        raise_generation(connection)  # Core writes: no session to do it
    if engine.dialect.name == "postgresql":
        analysing = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum would do within the minute
        report.phases.append(("ANALYZE", time.perf_counter() - analysing))
        echo(f"  {'ANALYZE':<34} {time.perf_counter() - analysing:6.1f} s")
    report.seconds = time.perf_counter() - started
    return report


def seed_marker(connection: Connection) -> dict[str, Any] | None:
    """What bench-seed recorded in this database (None if it did not fill it)."""
    events = db.metadata.tables["audit_events"]
    details = connection.scalar(select(events.c.details).where(events.c.action == MARKER_ACTION)
                                .order_by(events.c.id.desc()).limit(1))
    if isinstance(details, str):
        details = json.loads(details)
    return details


def _print_report(report: Report, echo: Callable[[str], None]) -> None:
    echo(f"\nDone in {report.seconds:.1f} s. Rows written:")
    for name in TABLE_ORDER:
        if report.rows.get(name):
            echo(f"  {name:<26} {report.rows[name]:>9,}")
    echo(f"\nSign in with any of these (every seeded account has the password {PASSWORD}):")
    for role, email, _ in LOGINS:
        echo(f"  {role:<8} {email:<28} {PASSWORD}")


@click.command("bench-seed")
@click.option("--size", type=click.Choice(list(SIZES)), required=True, help="100k: 100,000 applications.")
@click.option("--seed", default=1, show_default=True, help="The same seed (and --today) gives the same data.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the history ends (default: today).")
@with_appcontext
def bench_seed_command(size: str, seed: int, today: dt.datetime | None) -> None:
    """Fill an empty database with fifteen years of realistic data, for benchmarks."""
    from . import clock

    report = seed_database(size, seed, today.date() if today else clock.today())
    _print_report(report, click.echo)


__all__ = ["bench_seed_command", "seed_database", "seed_marker", "counts_for", "SIZES", "LOGINS",
                          "PASSWORD", "SEED_VERSION"]
