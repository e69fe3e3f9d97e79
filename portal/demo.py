"""Demo data for a new installation: a user of every role, clinics, upcoming conferences, donors,
and trips from the years before the portal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from . import audit, clock, history
from .blueprints.auth.services import hash_password
from .extensions import db
from .models import (
    Application,
    BudgetLine,
    Clinic,
    Conference,
    Donation,
    Donor,
    ExchangeRate,
    ExpertVisit,
    GiftAidAggregate,
    GiftAidDeclaration,
    HistoryImport,
    OrganisationSettings,
    ProgrammeBudget,
    User,
    VisitActivity,
)
from .models.types import utcnow
from .tabular import read_upload

# Units of GBP for one unit of each currency: demo figures, not market rates.
DEMO_RATES = {"EUR": "0.85", "USD": "0.79", "CHF": "0.89", "SEK": "0.073", "RUB": "0.0095"}

# Demo accounts only exist outside production (the command refuses there).
DEMO_LOGINS = [
    ("doctor", "doctor@demo.example.org", "demo-doctor-2026"),
    ("expert", "expert@demo.example.org", "demo-expert-2026"),
    ("staff", "staff@demo.example.org", "demo-staff-2026"),
    ("finance", "finance@demo.example.org", "demo-finance-2026"),
    ("admin", "admin@demo.example.org", "demo-admin-2026"),
]

NAMES = {
    "doctor": ("Dr Anna Sokolova", "ru"),
    "expert": ("Prof. James Whitfield", "en"),
    "staff": ("Emma Clarke", "en"),
    "finance": ("Oliver Grant", "en"),
    "admin": ("Sarah Mitchell", "en"),
}

CLINICS = [
    ("Dmitry Rogachev National Medical Research Centre of Paediatric Haematology, Oncology and Immunology",
     "Moscow", "Russia", "1 Samory Mashela St, Moscow 117997"),
    ("Russian Children's Clinical Hospital", "Moscow", "Russia", "117 Leninsky Prospekt, Moscow 119571"),
    ("N. N. Blokhin National Medical Research Centre of Oncology", "Moscow", "Russia",
     "24 Kashirskoye Shosse, Moscow 115478"),
    ("Raisa Gorbacheva Memorial Research Institute of Children Oncology, Haematology and Transplantation",
     "Saint Petersburg", "Russia", "6/8 Lva Tolstogo St, Saint Petersburg 197022"),
]


def _conferences(today: dt.date) -> list[dict[str, object]]:
    year = today.year + 1
    return [
        dict(name="ASH Annual Meeting and Exposition", organiser="American Society of Hematology",
             city="San Diego", country="USA", start_date=dt.date(year, 12, 5), end_date=dt.date(year, 12, 8),
             website="https://www.hematology.org/meetings/annual-meeting"),
        dict(name="EHA Congress", organiser="European Hematology Association", city="Stockholm",
             country="Sweden", start_date=dt.date(year, 6, 11), end_date=dt.date(year, 6, 14),
             website="https://ehaweb.org/"),
        dict(name="SIOP Annual Congress", organiser="International Society of Paediatric Oncology",
             city="Lisbon", country="Portugal", start_date=dt.date(year, 10, 15), end_date=dt.date(year, 10, 18),
             website="https://siop-online.org/"),
        dict(name="EBMT Annual Meeting", organiser="European Society for Blood and Marrow Transplantation",
             city="Vienna", country="Austria", start_date=dt.date(year, 3, 22), end_date=dt.date(year, 3, 25),
             website="https://www.ebmt.org/"),
    ]


def load_demo_data(today: dt.date | None = None) -> None:
    today = today or clock.today()
    clinics = [Clinic(name=n, city=c, country=k, address=a) for n, c, k, a in CLINICS]
    clinics[0].name_ru = "НМИЦ детской гематологии, онкологии и иммунологии им. Дмитрия Рогачёва"
    clinics[0].address_ru = "Москва, ул. Саморы Машела, 1"
    db.session.add_all(clinics)
    users = {}
    for role, email, password in DEMO_LOGINS:
        name, language = NAMES[role]
        user = User(email=email, name=name, password_hash=hash_password(password), preferred_language=language)
        user.set_roles({role})
        db.session.add(user)
        users[role] = user
    doctor = users["doctor"]
    doctor.clinic = clinics[0]
    doctor.specialty = "Paediatric haematology"
    doctor.position = "Haematologist"
    doctor.passport_full_name = "ANNA SOKOLOVA"
    doctor.nationality = "Russian Federation"
    doctor.date_of_birth = dt.date(1986, 4, 17)
    doctor.passport_number = "751234567"
    doctor.passport_expiry = dt.date(today.year + 6, 8, 31)
    users["expert"].specialty = "Paediatric neurosurgery"
    conferences = [Conference(confirmed=True, **values) for values in _conferences(today)]
    db.session.add_all(conferences)
    for currency, rate in DEMO_RATES.items():
        db.session.add(ExchangeRate(currency=currency, base_currency="GBP", rate=Decimal(rate),
                                    valid_from=today - dt.timedelta(days=30)))
    _demo_applications(doctor, conferences)
    db.session.add(ProgrammeBudget(year=today.year, amount_gbp=6_000_000))
    _demo_visit(users["expert"], clinics[0], today)
    _demo_donors(today)
    db.session.add(OrganisationSettings(
        id=1, name="Gift of Life", charity_number="1076562 (demo)",
        address="Demo address: 1 Example Street\nLondon EC1A 1AA\nUnited Kingdom",
        signatory_name="Sarah Mitchell", signatory_title="Programme Director", reference_prefix="EP",
        doctors_before_portal=12))
    db.session.flush()
    for user in users.values():
        audit.record("account_created", user, actor=None, to_state="active", details={"by": "demo data"})
    db.session.commit()
    _demo_history(users["staff"], clinics)


HISTORY_CONFERENCES = [("EHA Congress", "Europe"), ("ASH Annual Meeting", "USA"), ("SIOP Annual Congress", "Europe"),
                       ("EBMT Annual Meeting", "Europe")]


def _demo_history(staff: User, clinics: list[Clinic]) -> None:
    """Trips from the years before the portal, imported as staff would import the old spreadsheet."""
    rows = ["Start date,Doctor,Clinic,Conference,Country,Colleagues,Registration,Travel,Accommodation"]
    for n in range(36):
        year = 2011 + n // 4
        name, country = HISTORY_CONFERENCES[n % 4]
        start = dt.date(year, 3 + 2 * (n % 4), 10 + n % 7)
        rows.append(f"{start.isoformat()},Demo Doctor {n % 23 + 1},\"{clinics[n % 2].name}\",{name} {year},"
                    f"{country},{12 + n % 9},{450 + 10 * (n % 5)},{380 + 15 * (n % 6)},{520 + 20 * (n % 3)}")
    content = "\r\n".join(rows).encode()
    upload = HistoryImport(kind="trip", filename="programme-2011-2019.csv", content=content, uploaded_by_id=staff.id)
    db.session.add(upload)
    db.session.commit()
    table = read_upload(content)
    history.import_history(upload, history.guess_mapping("trip", table), skip_errors=False, confirmed_errors=None,
                           by=staff)


def _demo_applications(doctor: User, conferences: list[Conference]) -> None:
    """One application waiting for review and one draft, so every screen has something."""
    ash, eha = conferences[0], conferences[1]
    submitted = Application(
        beneficiary=doctor, conference=eha, status="submitted", submitted_at=utcnow() - dt.timedelta(days=2),
        purpose="To hear the latest results on CAR-T therapy in children with relapsed leukaemia.",
        expected_benefit="A seminar for the haematology department and a written summary for the clinic.",
        participation="poster", visa_needed=True, visa_country="Sweden", visa_city="Moscow")
    submitted.budget_lines = [
        BudgetLine(category="registration", requested_amount=72000, requested_currency="EUR"),
        BudgetLine(category="travel", requested_amount=45000, requested_currency="EUR"),
        BudgetLine(category="accommodation", requested_amount=480000, requested_currency="SEK"),
        BudgetLine(category="visa", requested_amount=8000, requested_currency="EUR"),
    ]
    draft = Application(
        beneficiary=doctor, conference=ash, status="draft",
        purpose="To learn new approaches to paediatric stem-cell transplantation.",
        expected_benefit="A talk to colleagues.", participation="attending")
    draft.budget_lines = [BudgetLine(category="registration", requested_amount=95000, requested_currency="USD")]
    db.session.add_all([submitted, draft])


def _demo_visit(expert: User, clinic: Clinic, today: dt.date) -> None:
    """A planned visit with its programme, so the expert and staff screens have something."""
    arrival = today + dt.timedelta(days=60)
    visit = ExpertVisit(
        beneficiary=expert, host_clinic=clinic, status="planned", arrival_on=arrival,
        departure_on=arrival + dt.timedelta(days=4),
        purpose="Consultations and master classes in paediatric neurosurgery.",
        purpose_ru="Консультации и мастер-классы по детской нейрохирургии.")
    visit.budget_lines = [
        BudgetLine(category=c, requested_amount=a, requested_currency="EUR", approved_amount=a, approved_currency="EUR")
        for c, a in (("travel", 90000), ("visa", 12000), ("accommodation", 80000))]
    visit.activities = [
        VisitActivity(kind="consultation", day=arrival + dt.timedelta(days=1), title="Consultations: brain tumours",
                      title_ru="Консультации: опухоли головного мозга"),
        VisitActivity(kind="lecture", day=arrival + dt.timedelta(days=2), title="Modern neurosurgical approaches",
                      title_ru="Современные нейрохирургические доступы"),
        VisitActivity(kind="joint_surgery", day=arrival + dt.timedelta(days=3), title="Joint operation",
                      title_ru="Совместная операция"),
    ]
    db.session.add(visit)


def _demo_donors(today: dt.date) -> None:
    """Three donors with gifts awaiting thanks: one with Gift Aid, one by post in Russian, a company;
    and a collection's small gifts waiting for a Gift Aid claim."""
    jane = Donor(kind="individual", title="Mrs", first_name="Jane", last_name="Whitfield",
                 email="jane@demo.example.org", house="14", address="Orchard Lane\nCambridge", postcode="CB2 1TN",
                 contact_preference="email")
    jane.declarations.append(GiftAidDeclaration(made_on=today - dt.timedelta(days=400)))
    olga = Donor(kind="individual", title="Ms", first_name="Olga", last_name="Smirnova", language="ru",
                 house="3", address="Kensington Court\nLondon", postcode="W8 5DL", contact_preference="post")
    firm = Donor(kind="organisation", organisation_name="Northbridge Capital LLP", email="giving@demo.example.org",
                 house="1", address="Bishopsgate\nLondon", postcode="EC2N 4AY", contact_preference="email")
    for donor in (jane, olga, firm):
        donor.refresh_search_name()
    db.session.add_all([
        Donation(donor=jane, amount=5000, currency="GBP", received_on=today - dt.timedelta(days=5),
                 method="card", reference="DEMO-CARD-0001", restricted=True),
        Donation(donor=olga, amount=30000, currency="GBP", received_on=today - dt.timedelta(days=1),
                 method="bank_transfer", reference="DEMO-BANK-0002", restricted=True),
        Donation(donor=firm, amount=500000, currency="GBP", received_on=today - dt.timedelta(days=3),
                 method="bank_transfer", reference="DEMO-BANK-0003", restricted=False, campaign="Annual appeal"),
        # A collection at a concert: small gifts claimed as one aggregated line of the schedule.
        GiftAidAggregate(description="Concert collection", received_on=today - dt.timedelta(days=20), gifts=42,
                         total=31850),
    ])
