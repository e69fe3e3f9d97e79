"""The organisation's digital signature on its letters: PAdES baseline signatures (pyHanko).

Production signs with the PKCS#12 file and passphrase in ``LETTER_SIGNING_PKCS12`` and
``LETTER_SIGNING_PASSPHRASE`` and refuses to issue letters without them; development makes a
self-signed certificate into the instance folder the first time a letter is issued (as it does
the secret key). With ``LETTER_TIMESTAMP_URL`` set, each signature carries a timestamp from
that RFC 3161 authority (PAdES B-T; B-B without).

A ``Seal`` is the key material as plain bytes, so a render worker process can sign too: a
letter is rendered, signed and hashed in one step, and the SHA-256 kept is that of the signed
file. Each certificate that signed a letter is kept (``SigningCertificate``), so letters signed
before a key was replaced still verify, and the verification page names the certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.stamp import NoOpStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from sqlalchemy.exc import IntegrityError

from ..errors import UserError
from ..extensions import db
from ..models import SigningCertificate

log = logging.getLogger("portal.letters.signing")
# The development certificate, made in the instance folder on first use.
DEVELOPMENT_FILE = "letter-signing.p12"
FIELD_NAME = "Signature"
# Room kept in the file for the signature, worked out from the certificates it embeds rather than
# by a trial signature per letter: their size twice over, and room for the rest (a timestamp
# token embeds the authority's certificates too).
RESERVED_BEYOND_CERTIFICATES = 4 * 1024
RESERVED_FOR_TIMESTAMP = 12 * 1024


class SigningUnavailable(UserError):
    """Letters cannot be signed, so none is issued."""

    status = 503


@dataclass(frozen=True)
class Seal:
    """The signing key and certificate (a PKCS#12 file's bytes) and the timestamp authority."""

    pkcs12: bytes
    passphrase: bytes | None
    timestamp_url: str | None = None

    @property
    def fingerprint(self) -> str:
        return _loaded(self).fingerprint


@dataclass(frozen=True)
class SignatureText:
    """What one letter's signature says: who signed, why, and where to check it."""

    name: str
    reason: str
    contact: str


# --- The key ------------------------------------------------------------------------------

def current_seal() -> Seal:
    """The seal new letters are signed with (``SigningUnavailable`` when production has none)."""
    config = current_app.config
    path, passphrase = config.get("LETTER_SIGNING_PKCS12"), config.get("LETTER_SIGNING_PASSPHRASE")
    if not path:
        if config.get("ENV") == "production":
            current_app.logger.error("LETTER_SIGNING_PKCS12 is not set: letters cannot be signed or issued")
            raise SigningUnavailable(_l("Letters cannot be issued at the moment: the organisation's signing "
                                        "certificate is not configured. The administrators have been told."))
        path, passphrase = _development_file(Path(current_app.instance_path), config["ORGANISATION_NAME"]), None
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        current_app.logger.error("cannot read the letter-signing file %s: %s", path, exc)
        raise SigningUnavailable(_l("Letters cannot be issued at the moment: the organisation's signing "
                                    "certificate cannot be read. The administrators have been told.")) from exc
    seal = Seal(content, passphrase.encode() if isinstance(passphrase, str) else passphrase,
                config.get("LETTER_TIMESTAMP_URL") or None)
    try:
        _loaded(seal)
    except ValueError as exc:
        current_app.logger.error("the letter-signing file %s does not open: %s", path, exc)
        raise SigningUnavailable(_l("Letters cannot be issued at the moment: the organisation's signing "
                                    "certificate does not open. The administrators have been told.")) from exc
    return seal


def _development_file(instance: Path, organisation: str) -> Path:
    """The instance folder's self-signed certificate, made the first time it is needed. Two
    processes at once: both make one, the first to link it in wins, the other uses that."""
    path = instance / DEVELOPMENT_FILE
    if not path.exists():
        draft = instance / f".{DEVELOPMENT_FILE}.{os.getpid()}.{threading.get_ident()}"
        draft.write_bytes(self_signed_pkcs12(organisation))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path


def self_signed_pkcs12(organisation: str, *, passphrase: bytes | None = None, years: int = 10) -> bytes:
    """A PKCS#12 file with a new P-256 key and a self-signed certificate for ``organisation``:
    fit for development and tests, never for letters anyone outside relies on."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} letters"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(b"letters", key, certificate, None, encryption)


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's ``SimpleSigner`` with the private key parsed once: its own ``sign_raw`` parses
    (and, for RSA, checks) the key again for every signature, which costs more than the rest of
    the signing together."""

    def __init__(self, key: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(digest))
        if mechanism == "ed25519" and isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return super().sign_raw(data, digest_algorithm)  # the rarer mechanisms, as pyHanko does them


@dataclass(frozen=True)
class _Loaded:
    signer: _KeptKeySigner
    certificate: x509.Certificate
    fingerprint: str
    certificates_size: int  # the signing certificate and its chain, DER


_LOADED: dict[tuple[bytes, bytes | None], _Loaded] = {}
_LOADED_LOCK = threading.Lock()


def _loaded(seal: Seal) -> _Loaded:
    """The seal's signer, opened once per process (``ValueError`` if the file does not open)."""
    cache_key = (hashlib.sha256(seal.pkcs12).digest(), seal.passphrase)
    with _LOADED_LOCK:
        found = _LOADED.get(cache_key)
        if found is None:
            key, certificate, chain = pkcs12.load_key_and_certificates(seal.pkcs12, seal.passphrase)
            if key is None or certificate is None:
                raise ValueError("the PKCS#12 file holds no key and certificate")
            der = certificate.public_bytes(serialization.Encoding.DER)
            signer = _KeptKeySigner(
                key, signing_cert=asn1_x509.Certificate.load(der),
                signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
                cert_registry=SimpleCertificateStore.from_certs([
                    asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain or []]))
            chain_size = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in chain or [])
            found = _LOADED[cache_key] = _Loaded(signer, certificate, fingerprint(der), len(der) + chain_size)
        return found


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 fingerprint, as hex."""
    return hashlib.sha256(der).hexdigest()


def spaced(fingerprint_hex: str) -> str:
    """A fingerprint for reading aloud or comparing by eye: ``AB:CD:…``."""
    upper = fingerprint_hex.upper()
    return ":".join(upper[n:n + 2] for n in range(0, len(upper), 2))


def certificate_record(seal: Seal) -> SigningCertificate:
    """The kept record of the seal's certificate, made the first time it signs a letter."""
    loaded = _loaded(seal)
    record = db.session.scalar(db.select(SigningCertificate).where(
        SigningCertificate.fingerprint == loaded.fingerprint))
    if record is None:
        certificate = loaded.certificate
        try:
            with db.session.begin_nested():  # two first letters at once: one records it, one reads it
                record = SigningCertificate(
                    fingerprint=loaded.fingerprint, subject=certificate.subject.rfc4514_string(),
                    not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
                    der=certificate.public_bytes(serialization.Encoding.DER))
                db.session.add(record)
        except IntegrityError:
            record = db.session.scalars(db.select(SigningCertificate).where(
                SigningCertificate.fingerprint == loaded.fingerprint)).one()
    return record


# --- Signing ------------------------------------------------------------------------------

PdfBox = tuple[float, float, float, float]
T = TypeVar("T")


def _outside_event_loops(work: Callable[[], T]) -> T:
    """Run ``work`` where pyHanko's synchronous calls can start their own event loop: here, or
    on a thread of its own when this thread already runs one (an async server, a browser test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


class _AsRenderedMetadataWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's metadata as rendered: its Info and XMP
    already agree (PDF/A asks it) and describe the letter; pyHanko would rewrite both to name
    itself and the time, which costs a tenth of the signing and says nothing of use."""

    def _update_meta(self) -> None:
        return None


def sign(pdf: bytes, seal: Seal, text: SignatureText, box: PdfBox | None) -> bytes:
    """``pdf`` signed with the seal, the signature covering the whole file; its widget sits on
    the last page at ``box`` (PDF points), over the signature block the letter prints there."""
    loaded = _loaded(seal)
    left, bottom, right, top = (round(edge) for edge in box) if box else (0, 0, 0, 0)
    writer = _AsRenderedMetadataWriter(io.BytesIO(pdf), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(FIELD_NAME, on_page=-1, box=(left, bottom, right, top)))
    _tag_widget(writer, text)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, name=text.name, reason=text.reason, contact_info=text.contact,
        md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES)
    timestamper = RequestsHTTPTimeStamper(seal.timestamp_url, timeout=10) if seal.timestamp_url else None
    # The widget draws nothing: the letter's own signature block (searchable, tagged, in the
    # letter's script) is what shows; the widget over it opens the signature in a viewer.
    signer = signers.PdfSigner(metadata, loaded.signer, timestamper=timestamper, stamp_style=NoOpStampStyle())
    reserved = 2 * loaded.certificates_size + RESERVED_BEYOND_CERTIFICATES + (RESERVED_FOR_TIMESTAMP if timestamper
                                                                               else 0)
    try:
        output = _outside_event_loops(lambda: signer.sign_pdf(writer, existing_fields_only=True,
                                                              bytes_reserved=reserved))
    except (SigningError, OSError) as exc:  # OSError: the timestamp authority did not answer (TimestampRequestError)
        log.error("a letter could not be signed: %r", exc)  # a worker process has no app: the module's logger
        raise SigningUnavailable(_l("The letter could not be signed (%(reason)s). Please try again later; the "
                                    "administrators have been told.", reason=type(exc).__name__)) from exc
    return output.getvalue()


def _tag_widget(writer: IncrementalPdfFileWriter, text: SignatureText) -> None:
    """Put the signature's widget into the tagged structure, as PDF/UA asks of every visible
    annotation: a Form element of the document holding it, found from the widget through the
    parent tree, with the signature described in words."""
    root = writer.root
    structure = root.get("/StructTreeRoot")
    if structure is None:
        return
    structure = structure.get_object()
    # pyHanko's containers hand back objects; raw_get gives the references the new objects need.
    form_fields = root["/AcroForm"]["/Fields"]
    field_ref = form_fields.raw_get(len(form_fields) - 1)
    widget = field_ref.get_object()
    page_ref = widget.raw_get("/P")
    numbers = structure["/ParentTree"]["/Nums"]
    taken = [int(numbers[n]) for n in range(0, len(numbers), 2)]
    key = int(structure.get("/ParentTreeNextKey", max(taken, default=-1) + 1))
    kids = structure["/K"]
    document_ref = kids.raw_get(0) if isinstance(kids, generic.ArrayObject) else structure.raw_get("/K")
    form = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/StructElem"),
        generic.NameObject("/S"): generic.NameObject("/Form"),
        generic.NameObject("/P"): document_ref,
        generic.NameObject("/Pg"): page_ref,
        generic.NameObject("/Alt"): generic.TextStringObject(text.reason),
        generic.NameObject("/K"): generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/OBJR"),
            generic.NameObject("/Obj"): field_ref,
            generic.NameObject("/Pg"): page_ref}),
    })
    form_ref = writer.add_object(form)
    document = document_ref.get_object()
    document["/K"].append(form_ref)
    writer.update_container(document["/K"])
    widget[generic.NameObject("/StructParent")] = generic.NumberObject(key)
    widget[generic.NameObject("/TU")] = generic.TextStringObject(text.reason)
    writer.update_container(widget)
    numbers.append(generic.NumberObject(key))
    numbers.append(form_ref)
    writer.update_container(numbers)
    structure[generic.NameObject("/ParentTreeNextKey")] = generic.NumberObject(key + 1)
    writer.update_container(structure)


# --- Checking -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureCheck:
    """What validating a file's signature found."""

    signed: bool  # it carries a signature at all
    intact: bool  # the signed bytes are unchanged
    trusted: bool  # made with the certificate it was checked against
    entire_file: bool  # and it covers the whole file
    fingerprint: str | None  # the signing certificate's

    @property
    def holds(self) -> bool:
        return self.signed and self.intact and self.trusted and self.entire_file


def check_signature(pdf: bytes, certificate_der: bytes, signed_at: dt.datetime) -> SignatureCheck:
    """Validate the file's signature with ``certificate_der`` as the only trust root, as of
    ``signed_at`` (when the letter was issued: a letter checked after its certificate expired
    was still signed while it held). Call it only on files the portal issued (their SHA-256
    matched): a hostile file is never parsed."""
    root = asn1_x509.Certificate.load(certificate_der)
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception:  # noqa: BLE001 - a file pyHanko cannot read carries no signature we can check
        return SignatureCheck(False, False, False, False, None)
    if not signatures:
        return SignatureCheck(False, False, False, False, None)
    context = ValidationContext(trust_roots=[root], moment=signed_at)
    status = _outside_event_loops(lambda: validate_pdf_signature(signatures[0], context))
    return SignatureCheck(True, status.intact and status.valid, status.trusted,
                          status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                          fingerprint(status.signing_cert.dump()))
