"""Letters: an approved application whose doctor can have a visa-support letter.

The PDF readers (pdftotext, pdftoppm, zbar …) are in ``tests/fixtures/pdf.py``."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def approved_application(make_user, make_clinic, make_conference, make_application):
    """An approved application with a visa, for a doctor whose passport details are complete."""

    def _create(**doctor_overrides):
        from portal.extensions import db
        from portal.models import Clinic

        clinic = db.session.scalar(db.select(Clinic).where(Clinic.name == "Moscow Partner Clinic")) or make_clinic(
            name="Moscow Partner Clinic", city="Moscow", country="Russia")
        values = dict(roles=["doctor"], name="Dr Anna Sokolova", passport_full_name="ANNA SOKOLOVA",
                      nationality="Russian Federation", passport_number="751234567",
                      date_of_birth=dt.date(1986, 4, 17), passport_expiry=dt.date(2032, 8, 31),
                      position="Haematologist", specialty="Paediatric haematology", clinic=clinic)
        values.update(doctor_overrides)
        doctor = make_user(**values)
        conference = make_conference(name="EHA Congress", city="Stockholm", country="Sweden",
                                     start_date=dt.date(2027, 6, 11), end_date=dt.date(2027, 6, 14))
        application = make_application(doctor=doctor, conference=conference, status="approved",
                                       visa_country="Sweden", visa_city="Moscow",
                                       lines={"registration": (72000, "EUR"), "travel": (45000, "EUR"),
                                              "other": (5000, "EUR")})
        for line in application.budget_lines:
            line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
        application.budget_line("registration").approved_amount = 60000
        db.session.commit()
        return application

    return _create


@pytest.fixture
def letter_of_kind(app, make_user, make_clinic, approved_application):
    """``letter_of_kind(key, language="en")``: a letter of each kind the modules offer, issued
    (numbered, rendered, signed) the way the portal issues it."""
    from portal.blueprints.donors import services as donors
    from portal.extensions import db
    from portal.letters import letter_kind, obtain
    from portal.models import BudgetLine, Donation, Donor, ExpertVisit, VisitActivity

    staff = make_user(roles=["staff"], name="Emma Clarke")

    def donor(language: str) -> Donor:
        person = Donor(kind="individual", title="Mrs", first_name="Jane" if language == "en" else "Анна",
                       last_name="Smith" if language == "en" else "Смирнова", email="jane@example.org",
                       house="12", address="High Street\nLondon", postcode="SW1A 1AA", country="GB",
                       language=language, contact_preference="email")
        person.refresh_search_name()
        db.session.add(person)
        return person

    def gift(person: Donor) -> Donation:
        donation = Donation(donor=person, amount=50000, currency="GBP", method="bank_transfer", restricted=True,
                            received_on=dt.date(2026, 11, 2))
        db.session.add(donation)
        db.session.commit()
        return donation

    def _issue(key: str, language: str = "en"):
        if key == "visa_support":
            subject = approved_application()
        elif key == "invitation":
            clinic = make_clinic(name="Moscow Children's Clinic", city="Moscow", country="Russia",
                                 name_ru="Московская детская клиника")
            expert = make_user(roles=["expert"], name="Prof. Maria Rossi", passport_full_name="MARIA ROSSI",
                               nationality="Italy", passport_number="YA1234567",
                               passport_expiry=dt.date(2033, 1, 31))
            subject = ExpertVisit(beneficiary=expert, host_clinic=clinic, status="confirmed",
                                  arrival_on=dt.date(2027, 3, 1), departure_on=dt.date(2027, 3, 5),
                                  purpose="Master classes in paediatric neurosurgery.",
                                  purpose_ru="Мастер-классы по детской нейрохирургии.")
            subject.budget_lines = [BudgetLine(category="travel", requested_amount=90000, requested_currency="EUR",
                                               approved_amount=90000, approved_currency="EUR")]
            subject.activities = [VisitActivity(kind="lecture", day=dt.date(2027, 3, 2),
                                                title="Modern neurosurgical approaches",
                                                title_ru="Современные нейрохирургические доступы")]
            db.session.add(subject)
            db.session.commit()
        elif key == "donation_thanks":
            return donors.acknowledge([gift(donor(language))], by=staff).letter
        elif key == "donor_impact":
            person, place = donor(language), approved_application()
            for line in place.budget_lines:  # the gift's currency: no exchange rate needed
                line.requested_currency = line.approved_currency = "GBP"
            donors.allocate(gift(person), place, 30000, by=staff)
            subject = person
        else:
            raise AssertionError(f"no subject made for letters of kind {key}")
        return obtain(letter_kind(key), subject, by=staff)

    return _issue


@pytest.fixture
def timestamp_authority():
    """A real RFC 3161 timestamp authority over HTTP on loopback (pyHanko's own TSA logic behind
    a plain HTTP server), with its certificate and how many requests it answered."""
    import http.server
    import threading
    from types import SimpleNamespace

    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's TSA signs with RSA only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback timestamp authority")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                   .sign(key, hashes.SHA256()))
    der = certificate.public_bytes(serialization.Encoding.DER)
    stamper = DummyTimeStamper(tsa_cert=asn1_x509.Certificate.load(der), tsa_key=keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())))
    state = SimpleNamespace(requests=0, certificate=der, url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            state.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
