"""Every page of the portal answers each kind of visitor exactly as intended.

``PAGES`` has a row for every page a browser can open (every GET route, and every letter
kind), its URL filled with the records ``seeded`` creates, and a column for each identity:
what that person must get, status and (for a redirect) where to. Each identity signs in and
opens every page; any other answer fails, so a permission that opens too wide or too narrow
shows. A new route, or a new kind of letter, without a row fails too: give it one.

Identities: ``doctor`` is the doctor whose application, documents, report and expense claim
these are, and ``other_doctor`` a doctor who owns none of them; ``expert`` is the expert of the
visit, ``other_expert`` one who is not; ``admin`` holds the admin role only (which implies staff
and finance). Records somebody does not own answer 404, as if they did not exist.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import MethodNotAllowed, NotFound

from portal import storage
from portal.blueprints.auth.services import password_reset_token
from portal.blueprints.donors import services as donor_services
from portal.extensions import db
from portal.letters.kinds import letter_kinds
from portal.models import (
    Acknowledgement,
    ApplicationDocument,
    ConferenceReport,
    DataExport,
    Donation,
    DonationAllocation,
    DonationImport,
    Donor,
    ExpenseClaim,
    ExpenseLine,
    ExpertVisit,
    GiftAidClaim,
    HistoryImport,
    User,
)

LOGIN = "302 → /login"  # signed out: sent to sign in first
HOME = "302 → /"  # the sign-in and registration pages, once signed in
QUEUE = "302 → /applications/review"  # staff have no applications of their own: the review queue

IDENTITIES = ("anonymous", "doctor", "other_doctor", "expert", "other_expert", "staff", "finance", "admin")

# Every page, and what each identity gets. Placeholders name the records of ``seeded``.
PAGES: dict[str, tuple[Any, ...]] = {
    #                                                          anon   doctor o.doc  expert o.exp  staff  fin.   admin
    "/":                                                      (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/inbox":                                                 (LOGIN, 403,   403,   403,   403,   200,   200,   200),
    "/impact":                                                (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/privacy":                                               (200,   200,   200,   200,   200,   200,   200,   200),
    "/history":                                               (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/history/imports/{history_import}":                      (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/login":                                                 (200,   HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    "/register":                                              (200,   HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    # Opening a valid link creates an account and signs its owner in: a spent one shows here.
    "/register/{spent_token}":                                (410,   410,   410,   410,   410,   410,   410,   410),
    "/password/forgot":                                       (200,   200,   200,   200,   200,   200,   200,   200),
    "/password/reset/{reset_token}":                          (200,   200,   200,   200,   200,   200,   200,   200),
    "/invitation/{invitation_token}":                         (200,   200,   200,   200,   200,   200,   200,   200),
    "/password":                                              (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/profile":                                               (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/static/css/portal.css":                                 (200,   200,   200,   200,   200,   200,   200,   200),
    "/verify/{letter_token}":                                 (200,   200,   200,   200,   200,   200,   200,   200),
    # No consumer runs here, so the health check fails (tests/core/test_health.py has the rest).
    "/healthz":                                               (503,   503,   503,   503,   503,   503,   503,   503),
    "/verify":                                                (200,   200,   200,   200,   200,   200,   200,   200),
    "/verify/certificates":                                   (200,   200,   200,   200,   200,   200,   200,   200),
    "/verify/certificates/{certificate}.cer":                 (200,   200,   200,   200,   200,   200,   200,   200),
    # The catalogue: anyone signed in sees confirmed conferences and proposes one; staff edit.
    "/conferences":                                           (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/conferences/new":                                       (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/conferences/{conference}/edit":                         (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/clinics":                                               (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/clinics/new":                                           (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/clinics/{clinic}/edit":                                 (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/admin/users":                                           (LOGIN, 403,   403,   403,   403,   403,   403,   200),
    "/admin/passport-reads":                                  (LOGIN, 403,   403,   403,   403,   403,   403,   200),
    "/data-exports/{data_export}":                            (LOGIN, 404,   404,   404,   404,   200,   404,   404),
    "/data-exports/{data_export}/{data_export_token}.zip":    (LOGIN, 404,   404,   404,   404,   404,   404,   404),
    "/admin/users/{other_doctor}":                            (LOGIN, 403,   403,   403,   403,   403,   403,   200),
    "/admin/organisation":                                    (LOGIN, 403,   403,   403,   403,   403,   403,   200),
    # Applications: the doctor's own; staff see them once submitted, never a draft.
    "/applications/":                                         (LOGIN, 200,   200,   403,   403,   QUEUE, 403,   QUEUE),
    "/applications/new":                                      (LOGIN, 200,   200,   403,   403,   403,   403,   403),
    "/applications/conference-options":                       (LOGIN, 200,   200,   403,   403,   403,   403,   403),
    "/applications/review":                                   (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/applications/review.csv":                               (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/applications/{application}":                            (LOGIN, 200,   404,   403,   403,   200,   403,   200),
    "/applications/{draft}":                                  (LOGIN, 200,   404,   403,   403,   404,   403,   404),
    "/applications/{draft}/edit":                             (LOGIN, 200,   404,   403,   403,   403,   403,   403),
    "/applications/{draft}/withdraw":                         (LOGIN, 200,   404,   403,   403,   403,   403,   403),
    # A queue row's decision form, loaded when opened: only the decisions open now (approved: cancel).
    "/applications/{application}/decision/cancel":            (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/applications/{application}/decision/approve":           (LOGIN, 403,   403,   403,   403,   409,   403,   409),
    "/applications/{application}/documents/{document}":       (LOGIN, 200,   404,   403,   403,   200,   403,   200),
    "/applications/{application}/report":                     (LOGIN, 200,   404,   403,   403,   200,   403,   200),
    "/applications/{application}/report/certificate":         (LOGIN, 200,   404,   403,   403,   200,   403,   200),
    # Expenses: claimants (doctors, experts) see their own claims; staff and finance every claim.
    "/expenses/":                                             (LOGIN, 200,   200,   200,   200,   200,   200,   200),
    "/expenses/claims/{claim}":                               (LOGIN, 200,   404,   404,   404,   200,   200,   200),
    "/expenses/lines/{line}/receipt":                         (LOGIN, 200,   404,   404,   404,   200,   200,   200),
    "/expenses/review":                                       (LOGIN, 403,   403,   403,   403,   200,   200,   200),
    "/expenses/review.csv":                                   (LOGIN, 403,   403,   403,   403,   200,   200,   200),
    "/expenses/budget":                                       (LOGIN, 403,   403,   403,   403,   200,   200,   200),
    "/expenses/direct":                                       (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/expenses/payments":                                     (LOGIN, 403,   403,   403,   403,   403,   200,   200),
    "/expenses/payments.xlsx":                                (LOGIN, 403,   403,   403,   403,   403,   200,   200),
    "/expenses/payments/bank.csv":                            (LOGIN, 403,   403,   403,   403,   403,   200,   200),
    "/expenses/rates":                                        (LOGIN, 403,   403,   403,   403,   403,   200,   200),
    # Expert visits: the expert's own; staff plan and see every visit.
    "/visits/":                                               (LOGIN, 403,   403,   200,   200,   200,   403,   200),
    "/visits/new":                                            (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/visits/visits.csv":                                     (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/visits/{visit}":                                        (LOGIN, 403,   403,   200,   404,   200,   403,   200),
    "/visits/{visit}/edit":                                   (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/visits/{visit}/programme.ics":                          (LOGIN, 403,   403,   200,   404,   200,   403,   200),
    # Donors: staff only; donors never sign in.
    "/donors/":                                               (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/new":                                            (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/{donor}":                                        (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/{donor}/edit":                                   (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/donations":                                      (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/donations.csv":                                  (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/export.xlsx":                                    (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/donations/{donation}":                           (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/gift-aid":                                       (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/gift-aid/claims/{gift_aid_claim}":               (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/gift-aid/claims/{gift_aid_claim}/schedule-1.ods": (LOGIN, 403,  403,   403,   403,   200,   403,   200),
    "/donors/imports/new":                                    (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/imports/{donation_import}":                      (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/batches/{batch}":                                (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/batches/{batch}/post.pdf":                       (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    "/donors/acknowledgements/{acknowledgement}/letter.pdf":  (LOGIN, 403,   403,   403,   403,   200,   403,   200),
    # Letters: anyone signed in may ask; the kind says who may have it (404 for anyone else).
    "/letters/visa_support/{application}":                    (LOGIN, 200,   404,   404,   404,   200,   404,   200),
    "/letters/invitation/{visit}":                            (LOGIN, 404,   404,   200,   404,   200,   404,   200),
    "/letters/donation_thanks/{acknowledgement}":             (LOGIN, 404,   404,   404,   404,   200,   404,   200),
    "/letters/donor_impact/{donor}":                          (LOGIN, 404,   404,   404,   404,   200,   404,   200),
    "/letters/no_such_kind/{application}":                    (LOGIN, 404,   404,   404,   404,   404,   404,   404),
}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Seeded:
    people: dict[str, User]
    values: dict[str, Any]  # what the placeholders of PAGES stand for


def _stored(name: str, owner: User) -> Any:
    return storage.store_upload(FileStorage(io.BytesIO(PDF), filename=name), by=owner)


@pytest.fixture
def seeded(app, make_user, make_clinic, make_conference, make_application) -> Seeded:
    """One record of each kind a page is about, and the people of IDENTITIES."""
    clinic = make_clinic(name="Moscow Children's Clinic", name_ru="Московская детская клиника")
    passport = {"nationality": "Russian Federation", "passport_number": "751234567",
                "passport_expiry": dt.date(2032, 8, 31), "date_of_birth": dt.date(1980, 1, 1)}
    people = {
        "doctor": make_user(roles=["doctor"], name="Dr Anna Sokolova", passport_full_name="ANNA SOKOLOVA",
                            position="Haematologist", clinic=clinic, **passport),
        "other_doctor": make_user(roles=["doctor"], name="Dr Boris Orlov"),
        "expert": make_user(roles=["expert"], name="Prof. Maria Rossi", passport_full_name="MARIA ROSSI", **passport),
        "other_expert": make_user(roles=["expert"], name="Prof. Hans Weber"),
        "staff": make_user(roles=["staff"], name="Emma Clarke"),
        "finance": make_user(roles=["finance"], name="Oliver Price"),
        "admin": make_user(roles=["admin"], name="Alex Admin"),
    }
    doctor, staff = people["doctor"], people["staff"]
    invited = make_user(roles=["expert"], name="Dr Invited Expert")  # no password until the link is used
    invited.password_hash = None
    db.session.commit()

    # An approved application whose conference is over: it has a report, documents and a claim.
    ended = make_conference(start_date=dt.date.today() - dt.timedelta(days=10),
                            end_date=dt.date.today() - dt.timedelta(days=7))
    application = make_application(doctor=doctor, conference=ended, status="approved")
    for line in application.budget_lines:
        line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
    document = ApplicationDocument(kind="acceptance_letter", file=_stored("acceptance.pdf", doctor))
    application.documents.append(document)
    db.session.add(ConferenceReport(application=application, learned="The new CAR-T protocols.",
                                    shared_by=["seminar"], shared_on=dt.date.today() - dt.timedelta(days=2),
                                    colleagues_reached=12, certificate=_stored("certificate.pdf", doctor)))
    draft = make_application(doctor=doctor, status="draft")
    claim = ExpenseClaim(funded_item=application, claimant_id=doctor.id)
    line = ExpenseLine(category="travel", spent_on=dt.date.today() - dt.timedelta(days=8),
                       description="Train to the airport", amount=12000, currency="EUR",
                       receipt=_stored("receipt.pdf", doctor))
    claim.lines.append(line)
    db.session.add(claim)

    start = dt.date.today() + dt.timedelta(days=60)
    visit = ExpertVisit(beneficiary=people["expert"], status="confirmed", host_clinic=clinic, arrival_on=start,
                        departure_on=start + dt.timedelta(days=4), purpose="Master classes in neurosurgery",
                        purpose_ru="Мастер-классы по нейрохирургии")
    db.session.add(visit)

    donor = Donor(kind="individual", title="Mrs", first_name="Jane", last_name="Smith", email=None, house="12",
                  address="High Street\nLondon", postcode="SW1A 1AA", country="GB", language="en",
                  contact_preference="post")
    donor.refresh_search_name()
    donation = Donation(donor=donor, amount=50000, currency="GBP", method="bank_transfer", restricted=True,
                        received_on=dt.date.today() - dt.timedelta(days=3))
    db.session.add_all([donor, donation])
    db.session.flush()
    db.session.add(DonationAllocation(donation=donation, funded_item_id=application.id, amount=20000,
                                      created_by_id=staff.id))
    donation_import = DonationImport(filename="bank.csv", uploaded_by_id=staff.id,
                                     content="Date,Amount,Reference,Name\r\n01/03/2025,25.00,BANK-1,Alice New\r\n")
    history_import = HistoryImport(kind="trip", filename="trips.csv", uploaded_by_id=staff.id,
                                   content=b"Start date,Doctor,Conference\r\n2014-05-02,Anna Petrova,ESC 2014\r\n")
    data_export = DataExport(subject_type="users", subject_id=staff.id, requested_by_id=staff.id, token="t" * 43)
    gift_aid_claim = GiftAidClaim(up_to=dt.date.today(), created_by_id=staff.id)
    db.session.add_all([donation_import, history_import, data_export, gift_aid_claim])
    db.session.commit()
    # Thanked by post in a batch: the batch's printable PDF and the letter are real.
    report = donor_services.acknowledge_pending(by=staff, workers=1)
    acknowledgement = db.session.scalars(db.select(Acknowledgement)).one()

    values = {
        "application": application.id, "draft": draft.id, "document": document.id, "claim": claim.id,
        "line": line.id, "visit": visit.id, "donor": donor.id, "donation": donation.id, "batch": report.batch_id,
        "acknowledgement": acknowledgement.id, "donation_import": donation_import.id,
        "gift_aid_claim": gift_aid_claim.id,
        "history_import": history_import.id, "data_export": data_export.id,
        "data_export_token": data_export.token, "clinic": clinic.id,
        "conference": ended.id, "other_doctor": people["other_doctor"].id,
        "letter_token": acknowledgement.letter.token, "spent_token": "not-a-valid-link",
        "certificate": acknowledgement.letter.certificate.fingerprint,
        "reset_token": password_reset_token(people["other_doctor"]),
        "invitation_token": password_reset_token(invited, "invitation"),
    }
    return Seeded(people, values)


def answer(response: Any) -> Any:
    """The status, with where to for a redirect (its path: the query is the page's business)."""
    if 300 <= response.status_code < 400:
        return f"{response.status_code} → {urlsplit(response.headers['Location']).path}"
    return response.status_code


def _route_of(app: Any, path: str) -> tuple[Any, dict[str, Any]]:
    """The rule a row of PAGES opens, and its arguments (placeholders filled with 1)."""
    url = path.format_map(defaultdict(lambda: "1"))
    return app.url_map.bind("localhost").match(url, method="GET", return_rule=True)


def test_every_page_and_letter_kind_has_a_row(app):
    covered, kinds, stale = set(), set(), []
    for path in PAGES:
        try:
            rule, arguments = _route_of(app, path)
        except (NotFound, MethodNotAllowed):
            stale.append(path)
            continue
        covered.add(rule.rule)
        if rule.endpoint == "letters.download":
            kinds.add(arguments["key"])
    assert stale == [], f"rows of PAGES that no GET route serves: {stale}"
    missing = [f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
               if "GET" in rule.methods and rule.rule not in covered]
    assert missing == [], "pages without a row in PAGES (give every identity its answer): " + ", ".join(missing)
    missing_kinds = sorted(set(letter_kinds()) - kinds)
    assert missing_kinds == [], f"letter kinds without a row /letters/<kind>/… in PAGES: {missing_kinds}"
    assert all(len(row) == len(IDENTITIES) for row in PAGES.values())


@pytest.mark.parametrize("identity", IDENTITIES)
def test_each_page_gives_each_identity_its_exact_answer(client, login, seeded, identity):
    if identity != "anonymous":
        login(seeded.people[identity])
    column = IDENTITIES.index(identity)
    wrong = []
    for path, expected in PAGES.items():
        url = path.format(**seeded.values)
        try:
            response = client.get(url)
        except Exception as exc:  # noqa: BLE001 (every page is reported, not only the first to fail)
            wrong.append(f"GET {url} ({path}): expected {expected[column]}, raised {exc!r}")
            continue
        got = answer(response)
        response.close()
        if got != expected[column]:
            wrong.append(f"GET {url} ({path}): expected {expected[column]}, got {got}")
    assert wrong == [], f"as {identity}:\n" + "\n".join(wrong)
