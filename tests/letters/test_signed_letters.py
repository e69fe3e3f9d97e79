"""Letters that prove themselves: every kind is signed (PAdES, pyHanko's own validation against
the portal's certificate as the only trust root), tagged and archival, and still reads back with
pdftotext and zbar; production refuses to issue unsigned; a new key signs new letters while the
old ones keep verifying; a configured timestamp authority (a real one, on loopback) stamps them."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import threading
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from portal.extensions import db
from portal.letters import letter_kind, obtain, signing
from portal.letters.service import CHECK_CODE_ALPHABET
from portal.models import Letter, LetterCounter, SigningCertificate, User
from tests.fixtures.pdf import flat_text, pdf_text, pdf_to_png, qr_codes

KINDS = ("visa_support", "invitation", "donation_thanks", "donor_impact")


def validation(pdf: bytes, certificate_der: bytes, *, extra_roots: tuple[bytes, ...] = ()):
    """pyHanko's verdict on the file's one signature, trusting only the given certificates."""
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    roots = [asn1_x509.Certificate.load(der) for der in (certificate_der, *extra_roots)]
    return signature, validate_pdf_signature(signature, ValidationContext(trust_roots=roots))


def fails_validation(pdf: bytes, certificate_der: bytes) -> bool:
    try:
        _signature, status = validation(pdf, certificate_der)
    except Exception:  # noqa: BLE001 - a file pyHanko cannot even read is as good as refused
        return True
    return not (status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)


@pytest.mark.parametrize("key", KINDS)
def test_each_kind_is_signed_over_the_whole_file_and_one_flipped_byte_breaks_it(letter_of_kind, key):
    letter = letter_of_kind(key)
    pdf = letter.pdf
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256  # the hash kept is of the signed file
    certificate = letter.certificate.der
    signature, status = validation(pdf, certificate)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.dump() == certificate
    assert letter.certificate.fingerprint == hashlib.sha256(certificate).hexdigest()
    # what the signature says: who, why, and where to check
    assert str(signature.sig_object["/Name"]) == "Gift of Life"
    reason = str(signature.sig_object["/Reason"])
    assert re.fullmatch(rf"Issued by Gift of Life on \d{{1,2}} [A-Z][a-z]+ \d{{4}}, reference {letter.reference}",
                        reason), reason
    assert str(signature.sig_object["/ContactInfo"]) == f"http://127.0.0.1:5000/verify/{letter.token}"
    # the visible block: the widget lies over the footer's signature block, on the last page
    reader = PdfFileReader(io.BytesIO(pdf))
    last_page = reader.root["/Pages"]["/Kids"][-1].get_object()
    [widget] = [a.get_object() for a in last_page["/Annots"] if a.get_object().get("/FT") == "/Sig"]
    left, bottom, right, top = (float(v) for v in widget["/Rect"])
    assert right - left > 100 and top - bottom > 20  # about 48 mm by 12 mm: visible, not a point
    assert top <= 32 / 25.4 * 72 + 0.5 and left > 300  # in the bottom margin, to the right of the QR code
    text = flat_text(pdf)
    assert "Digitally signed by" in text or "Электронная подпись" in text
    assert signing.spaced(letter.certificate.fingerprint)[:23] in text.replace(" ", "")

    middle = bytearray(pdf)
    middle[len(middle) // 2] ^= 0x01
    assert fails_validation(bytes(middle), certificate)
    header = bytearray(pdf)  # the binary comment on the second line: the file still parses
    header[pdf.index(b"\n") + 2] ^= 0x01
    _signature, status = validation(bytes(header), certificate)
    assert not status.intact


def test_a_signature_made_with_another_key_is_not_trusted(letter_of_kind):
    letter = letter_of_kind("visa_support")
    stranger = signing.Seal(signing.self_signed_pkcs12("Gift of Life"), None)
    other_certificate = signing._loaded(stranger).certificate.public_bytes(signing.serialization.Encoding.DER)
    _signature, status = validation(letter.pdf, other_certificate)
    assert status.intact and not status.trusted  # same name, another key: not ours


def catalogue_languages(pdf: bytes) -> tuple[str, set[str]]:
    """The document's language and every language marked on a part of its structure."""
    reader = PdfFileReader(io.BytesIO(pdf))
    found: set[str] = set()

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, DictionaryObject):
            if "/Lang" in node and node.get("/Type") == "/StructElem":
                found.add(str(node["/Lang"]))
            if "/K" in node:
                walk(node["/K"])
        elif isinstance(node, ArrayObject):
            for child in node:
                walk(child)

    walk(reader.root["/StructTreeRoot"])
    return str(reader.root["/Lang"]), found


def pdfinfo(pdf: bytes, folder: Path) -> str:
    """What pdfinfo says of the file, then its XMP metadata."""
    path = folder / "info.pdf"
    path.write_bytes(pdf)
    return "\n".join(subprocess.run(["pdfinfo", *options, str(path)], capture_output=True, check=True).stdout.decode()
                     for options in ([], ["-meta"]))


@pytest.mark.parametrize("key,language", [("visa_support", "en"), ("invitation", "en"), ("donation_thanks", "ru"),
                                          ("donor_impact", "en")])
def test_letters_are_tagged_archival_and_still_read_back(letter_of_kind, key, language, tmp_path):
    letter = letter_of_kind(key, language)
    info = pdfinfo(letter.pdf, tmp_path)
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    assert re.search(rf"^Title:\s+.+ {letter.reference}$", info, re.M), info
    assert re.search(r"^Author:\s+Gift of Life$", info, re.M), info
    assert re.search(r"^Subject:\s+\S.+$", info, re.M), info
    assert 'pdfaid:part="2"' in info and 'pdfaid:conformance="A"' in info  # PDF/A-2, level A (accessible)
    assert 'pdfuaid:part="1"' in info  # and PDF/UA-1
    document_language, marked = catalogue_languages(letter.pdf)
    assert document_language == language
    if key == "invitation":
        assert marked == {"en", "ru"}  # the English and the Russian halves, each marked as such
    text = flat_text(letter.pdf)
    assert letter.reference in text
    [png] = pdf_to_png(letter.pdf, tmp_path)[:1]
    assert qr_codes(png) == [f"http://127.0.0.1:5000/verify/{letter.token}"]
    # the check code, beside the QR code: eight characters of an alphabet without 0/O, 1/I/L
    printed = re.search(r"(?:check code|код проверки) ([A-Z0-9]{4})-([A-Z0-9]{4})", text)
    assert printed and "".join(printed.groups()) == letter.check_code
    assert set(letter.check_code) <= set(CHECK_CODE_ALPHABET) and not set("0O1IL") & set(CHECK_CODE_ALPHABET)


def test_both_scripts_extract_from_the_bilingual_invitation(letter_of_kind):
    text = pdf_text(letter_of_kind("invitation").pdf)
    for expected in ("Dear MARIA ROSSI", "Уважаемый(ая) MARIA ROSSI", "Московская детская клиника",
                     "Современные нейрохирургические доступы", "Modern neurosurgical approaches"):
        assert expected in text, expected


def test_development_makes_its_certificate_once_and_keeps_it(app, letter_of_kind):
    first, second = letter_of_kind("visa_support"), letter_of_kind("visa_support")
    path = Path(app.instance_path) / signing.DEVELOPMENT_FILE
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    assert first.certificate_id == second.certificate_id
    assert db.session.scalar(select(func.count()).select_from(SigningCertificate)) == 1
    assert list(Path(app.instance_path).glob(f".{signing.DEVELOPMENT_FILE}*")) == []  # no draft left behind


def test_production_without_a_certificate_issues_nothing(app, client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    app.config["ENV"] = "production"
    response = client.post(f"/letters/visa_support/{application.id}/issue")
    assert response.status_code == 503
    assert "signing certificate is not configured" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
    assert db.session.scalar(select(func.count()).select_from(LetterCounter)) == 0  # no number taken
    assert not (Path(app.instance_path) / signing.DEVELOPMENT_FILE).exists()


def test_production_signs_with_the_configured_file_and_refuses_a_wrong_passphrase(app, client, login,
                                                                                 approved_application, tmp_path):
    bundle = tmp_path / "organisation.p12"
    bundle.write_bytes(signing.self_signed_pkcs12("Gift of Life", passphrase=b"a long passphrase"))
    application = approved_application()
    login(application.doctor)
    app.config.update(ENV="production", LETTER_SIGNING_PKCS12=str(bundle), LETTER_SIGNING_PASSPHRASE="wrong")
    response = client.post(f"/letters/visa_support/{application.id}/issue")
    assert response.status_code == 503 and "does not open" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0

    app.config["LETTER_SIGNING_PASSPHRASE"] = "a long passphrase"
    assert client.post(f"/letters/visa_support/{application.id}/issue").status_code == 303
    letter = db.session.scalars(select(Letter)).one()
    expected = signing.Seal(bundle.read_bytes(), b"a long passphrase").fingerprint
    assert letter.certificate.fingerprint == expected
    assert validation(letter.pdf, letter.certificate.der)[1].trusted


def test_a_new_key_signs_new_letters_and_the_old_ones_still_verify(app, client, letter_of_kind, tmp_path):
    paths = []
    for name in ("2026", "2027"):
        path = tmp_path / f"{name}.p12"
        path.write_bytes(signing.self_signed_pkcs12("Gift of Life"))
        paths.append(path)
    app.config["LETTER_SIGNING_PKCS12"] = str(paths[0])
    old = letter_of_kind("visa_support")
    app.config["LETTER_SIGNING_PKCS12"] = str(paths[1])
    new = letter_of_kind("invitation")
    assert old.certificate_id != new.certificate_id
    for letter in (old, new):
        assert validation(letter.pdf, letter.certificate.der)[1].trusted
        page = client.get(f"/verify/{letter.token}").get_data(as_text=True)
        assert signing.spaced(letter.certificate.fingerprint) in page
        upload = client.post("/verify/file", data={"letter": (io.BytesIO(letter.pdf), "letter.pdf")})
        assert "Genuine" in upload.get_data(as_text=True) and "Its digital signature is intact" in upload.get_data(
            as_text=True)
    listing = client.get("/verify/certificates").get_data(as_text=True)
    for letter in (old, new):
        assert signing.spaced(letter.certificate.fingerprint) in listing
    der = client.get(f"/verify/certificates/{old.certificate.fingerprint}.cer").data
    assert der == old.certificate.der


def test_two_first_letters_at_once_record_one_certificate(app, approved_application, make_user):
    staff_id = make_user(roles=["staff"]).id
    subject_ids = [approved_application().id for _ in range(2)]
    db.session.remove()
    barrier, errors, fingerprints = threading.Barrier(2), [], []

    def issue(subject_id: int) -> None:
        from portal.models import Application
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                letter = obtain(letter_kind("visa_support"), db.session.get(Application, subject_id),
                                by=db.session.get(User, staff_id))
                fingerprints.append(letter.certificate.fingerprint)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(subject_id,)) for subject_id in subject_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(fingerprints) == 2 and len(set(fingerprints)) == 1
    assert db.session.scalar(select(func.count()).select_from(SigningCertificate)) == 1


def test_a_configured_timestamp_authority_stamps_each_signature(app, letter_of_kind, timestamp_authority):
    app.config["LETTER_TIMESTAMP_URL"] = timestamp_authority.url
    letter = letter_of_kind("visa_support")
    assert timestamp_authority.requests == 1
    _signature, status = validation(letter.pdf, letter.certificate.der,
                                    extra_roots=(timestamp_authority.certificate,))
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert status.timestamp_validity.trusted


def test_an_unreachable_timestamp_authority_issues_nothing(app, client, login, approved_application):
    application = approved_application()
    login(application.doctor)
    app.config["LETTER_TIMESTAMP_URL"] = "http://127.0.0.1:9/tsa"  # nothing listens there
    response = client.post(f"/letters/visa_support/{application.id}/issue")
    assert response.status_code == 503 and "could not be signed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0


def test_the_signature_widget_is_part_of_the_tagged_structure(letter_of_kind):
    """PDF/UA: a visible annotation sits in the structure tree (a Form element), which the
    parent tree finds from the widget; the widget says in words what it is."""
    letter = letter_of_kind("invitation")
    reader = PdfFileReader(io.BytesIO(letter.pdf))
    form_fields = reader.root["/AcroForm"]["/Fields"]
    [field_ref] = [form_fields.raw_get(n) for n in range(len(form_fields))
                   if form_fields.raw_get(n).get_object().get("/FT") == "/Sig"]
    field = field_ref.get_object()
    assert str(field["/TU"]).startswith("Issued by Gift of Life on ")
    structure = reader.root["/StructTreeRoot"]
    numbers = structure["/ParentTree"]["/Nums"]
    parents = {int(numbers[n]): numbers[n + 1] for n in range(0, len(numbers), 2)}
    form = parents[int(field["/StructParent"])].get_object()
    assert form["/S"] == "/Form" and form["/K"]["/Type"] == "/OBJR"
    assert form["/K"].raw_get("/Obj").idnum == field_ref.idnum  # the Form element holds this very widget
    document = structure["/K"][0].get_object() if isinstance(structure["/K"], ArrayObject) else structure["/K"]
    assert any(kid.get_object().get("/S") == "/Form" for kid in document["/K"])
    assert int(structure["/ParentTreeNextKey"]) == int(field["/StructParent"]) + 1


def _ca_issued_pkcs12(folder: Path) -> tuple[Path, bytes]:
    """A PKCS#12 as a certificate authority issues it: the organisation's key and certificate,
    signed by an intermediate, signed by a root; the chain inside. Returns it and the root."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool):
        name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # noqa: E731
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not ca,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                                                decipher_only=False), critical=True))
        return builder.sign(issuer_key, hashes.SHA256())

    root_key = ec.generate_private_key(ec.SECP384R1())
    middle_key = ec.generate_private_key(ec.SECP256R1())
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # RSA, as many CAs issue
    root = certificate("Test Root CA", root_key, "Test Root CA", root_key, ca=True)
    middle = certificate("Test Issuing CA", middle_key, "Test Root CA", root_key, ca=True)
    own = certificate("Gift of Life letters", own_key, "Test Issuing CA", middle_key, ca=False)
    path = folder / "issued.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"letters", own_key, own, [middle, root], serialization.BestAvailableEncryption(b"passphrase")))
    return path, root.public_bytes(serialization.Encoding.DER)


def test_a_certificate_issued_by_an_authority_signs_with_its_chain_and_validates_to_the_root(
        app, letter_of_kind, tmp_path):
    path, root = _ca_issued_pkcs12(tmp_path)
    app.config.update(LETTER_SIGNING_PKCS12=str(path), LETTER_SIGNING_PASSPHRASE="passphrase")
    letter = letter_of_kind("visa_support")
    _signature, status = validation(letter.pdf, root)  # only the root is trusted: the chain is in the file
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert letter.certificate.subject == "CN=Gift of Life letters"
