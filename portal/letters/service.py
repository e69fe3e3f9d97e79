"""Issuing, re-issuing and revoking letters: each one transaction with its audit entry."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import UserError
from ..extensions import FORMAT_LOCALES, begin_writing, db, lock_for_update
from ..hookspecs import LetterKind
from ..mail import queue_mail
from ..models import Letter, LetterCounter, OrganisationSettings, User
from ..models.types import utcnow
from ..tasks import enqueue_after_commit, task
from ..transactions import transaction
from ..urls import external_url
from . import signing
from .engine import LetterJob, make_letter, qr_svg, render_html
from .kinds import PUBLIC_FACTS, letter_kind

# The check code printed beside the QR code: no 0/O, 1/I/L, so it reads back from paper.
CHECK_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHECK_CODE_LENGTH = 8


class NotReady(UserError):
    """The letter cannot be issued yet; ``missing`` says what is needed, in words."""

    def __init__(self, missing: list[Any]) -> None:
        super().__init__("; ".join(str(m) for m in missing))
        self.missing = missing


class RevokedLetter(UserError):
    """The last letter was revoked and nothing it certifies has changed since."""

    def __init__(self, letter: Letter) -> None:
        super().__init__(_l("Letter %(reference)s was revoked by the programme team. Please contact them for a "
                            "new one.", reference=letter.reference))
        self.letter = letter


def organisation() -> OrganisationSettings:
    """The letterhead settings; the first call creates them from the configuration."""
    settings = db.session.get(OrganisationSettings, 1)
    if settings is None:
        try:
            with db.session.begin_nested():  # two first letters at once: one creates, one reads
                settings = OrganisationSettings(id=1, name=current_app.config["ORGANISATION_NAME"])
                db.session.add(settings)
        except IntegrityError:
            settings = db.session.get_one(OrganisationSettings, 1, populate_existing=True)
    return settings


def verify_url(token: str) -> str:
    """The letter's verification link on the portal's public address, not the host that served the request."""
    return external_url("letters.verify", token=token)


def _data_url(content: bytes | None, content_type: str | None) -> str | None:
    if not content or not content_type:
        return None
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def letterhead(settings: OrganisationSettings) -> dict[str, Any]:
    """The organisation's letterhead as the letter templates read it, images as data URLs."""
    return {
        "name": settings.name,
        "address_lines": [line for line in (settings.address or "").splitlines() if line.strip()],
        "charity_number": settings.charity_number,
        "signatory_name": settings.signatory_name,
        "signatory_title": settings.signatory_title,
        "logo_url": _data_url(settings.logo, settings.logo_type),
        "signature_url": _data_url(settings.signature, settings.signature_type),
    }


def new_check_code() -> str:
    """A new letter's check code: eight characters that cannot be misread for one another."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))


def printed_check_code(code: str) -> str:
    """The check code as the letter prints it: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def normalise_check_code(typed: str) -> str:
    """What someone typed from paper, as stored: any case, spaces and hyphens ignored."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")


def letter_html(kind: LetterKind, facts: dict[str, Any], *, reference: str, token: str,
                issued_on: dt.date, language: str | None = None, check_code: str | None = None,
                certificate: str | None = None) -> str:
    """The letter's HTML, rendered in the letter's own language. ``certificate`` is the
    fingerprint of the certificate that signs it, for the footer's signature block."""
    language = language or kind.language
    with force_locale(FORMAT_LOCALES.get(language, language)):
        url, org = verify_url(token), letterhead(organisation())
        return render_html(kind.template, {
            "title": str(kind.title), "facts": facts, "org": org,
            "subject": _("%(letter)s for %(holder)s", letter=kind.title, holder=facts.get("holder") or org["name"]),
            "reference": reference, "issued_on": format_date(issued_on, "long"),
            "verify_url": url, "qr": qr_svg(url), "language": language,
            "check_code": printed_check_code(check_code) if check_code else None,
            "certificate": signing.spaced(certificate[:16]) + "…" if certificate else None,
        })


def letter_job(kind: LetterKind, facts: dict[str, Any], *, reference: str, token: str, check_code: str,
               issued_on: dt.date, language: str, seal: signing.Seal) -> LetterJob:
    """Everything a render worker needs to make the letter: HTML, signature text and seal."""
    name = organisation().name
    with force_locale(FORMAT_LOCALES.get(language, language)):  # letter_html's own is then a no-op
        html = letter_html(kind, facts, reference=reference, token=token, issued_on=issued_on, language=language,
                           check_code=check_code, certificate=seal.fingerprint)
        reason = _("Issued by %(organisation)s on %(day)s, reference %(reference)s", organisation=name,
                   day=format_date(issued_on, "long"), reference=reference)
    return LetterJob(html, signing.SignatureText(name=name, reason=reason, contact=verify_url(token)), seal)


def _of_subject(kind: LetterKind, subject: Any) -> Any:
    return select(Letter).where(Letter.kind == kind.key, Letter.subject_type == kind.subject_type,
                                Letter.subject_id == subject.id)


def latest_letter(kind: LetterKind, subject: Any) -> Letter | None:
    """The most recent letter of ``kind`` issued for ``subject``, or None."""
    return db.session.scalar(_of_subject(kind, subject).order_by(Letter.id.desc()).limit(1))


def history(kind: LetterKind, subject: Any) -> list[Letter]:
    """Every letter of ``kind`` issued for ``subject``, newest first."""
    return list(db.session.scalars(_of_subject(kind, subject).order_by(Letter.id.desc())))


def current_letter(kind: LetterKind, subject: Any, *, reissue: bool = False) -> Letter | None:
    """The letter to hand out as it stands: the latest one, while it is valid and what it
    certifies still holds. None when a letter has to be issued first. Reads only.

    Raises ``NotReady``, or ``RevokedLetter`` when the latest was revoked and nothing it
    certifies has changed since (unless ``reissue``: a staff decision to replace it)."""
    missing = kind.missing(subject)
    if missing:
        raise NotReady(missing)
    latest = latest_letter(kind, subject)
    if latest is not None and latest.facts == kind.facts(subject):
        if latest.status == "valid":
            return latest
        if latest.status == "revoked" and not reissue:
            raise RevokedLetter(latest)
    return None


def _lock_subject(subject: Any) -> None:
    """Let one transaction at a time decide about a subject's letters: two requests that
    both found no current letter would otherwise both issue one."""
    db.session.flush()  # nothing of the caller's is lost when the session is read afresh below
    lock_for_update(type(subject), subject.id)
    # A request that waited for the lock must decide on what the one before it committed:
    # the facts (profile, conference) as well as the letters.
    db.session.expire_all()


@transaction  # a refusal (NotReady, RevokedLetter) rolls back at once and lets go of the lock
def obtain(kind: LetterKind, subject: Any, *, by: User, reissue: bool = False) -> Letter:
    """The current letter, or else a newly issued one that supersedes the valid one. Only a
    POST may call this. A revoked letter is replaced only when its facts changed, or when
    ``reissue`` (a staff decision) asks for it."""
    _lock_subject(subject)
    letter = current_letter(kind, subject, reissue=reissue)
    if letter is None:
        # At most one letter of a subject is valid (a unique index): the old one steps aside first.
        previous = db.session.scalar(_of_subject(kind, subject).where(Letter.status == "valid"))
        if previous is not None:
            previous.status = "superseded"
            db.session.flush()
        letter = issue_many(kind, [(subject, kind.facts(subject))], by=by)[0]
        if previous is not None:
            previous.superseded_by_id = letter.id
            audit.record("letter_superseded", previous, actor=by, from_state="valid", to_state="superseded",
                         details={"by": letter.reference})
    return letter


def _last_issued(year: int) -> int:
    return db.session.scalar(select(func.max(Letter.sequence)).where(Letter.year == year)) or 0


def reserve_numbers(year: int, count: int) -> int:
    """Take the next ``count`` letter numbers of ``year``; returns the first. The year's
    counter row stays locked until the caller's transaction ends: another issuer waits here,
    then numbers after these, so nobody renders a letter with a number someone else takes."""
    begin_writing()  # SQLite: the write lock first (no row locks there)
    if db.session.scalar(select(LetterCounter.year).where(LetterCounter.year == year)) is None:
        try:
            with db.session.begin_nested():  # the year's first letters, twice at once: one creates the row
                db.session.add(LetterCounter(year=year, last_sequence=_last_issued(year)))
        except IntegrityError:
            pass  # the other one did; the lock below waits for it
    counter = lock_for_update(LetterCounter, year)
    first = max(counter.last_sequence, _last_issued(year)) + 1  # never behind letters numbered without it
    counter.last_sequence = first + count - 1
    return first


def issue_many(kind: LetterKind, batch: list[tuple[Any, dict[str, Any]]], *, by: User,
               render: Callable[[list[LetterJob]], list[bytes]] | None = None) -> list[Letter]:
    """Number, render, sign and record one new letter per (subject, facts), in order and with
    consecutive numbers (the caller commits). The numbers are reserved before anything is
    rendered (``reserve_numbers``), so each letter is rendered once. ``render`` turns the
    letters' jobs into signed PDFs: a batch passes one that uses several processes. The
    SHA-256 kept is that of the signed file. Raises ``SigningUnavailable`` before taking any
    number when letters cannot be signed."""
    if not batch:
        return []
    static_folder = current_app.static_folder or ""
    render = render or (lambda jobs: [make_letter(job, static_folder) for job in jobs])
    seal = signing.current_seal()
    certificate = signing.certificate_record(seal)
    settings = organisation()
    issued_at = utcnow()
    tokens = [secrets.token_urlsafe(12) for _ in batch]
    codes = [new_check_code() for _ in batch]
    first = reserve_numbers(issued_at.year, len(batch))
    references = [f"{settings.reference_prefix}-{issued_at.year}-{first + n:04d}" for n in range(len(batch))]
    pdfs = render([
        letter_job(kind, facts, reference=reference, token=token, check_code=code, issued_on=issued_at.date(),
                   language=kind.language_for(subject), seal=seal)
        for (subject, facts), reference, token, code in zip(batch, references, tokens, codes, strict=True)])
    letters = [Letter(
        reference=reference, year=issued_at.year, sequence=first + n, kind=kind.key,
        subject_type=kind.subject_type, subject_id=subject.id, funded_item_id=kind.funded_item_id(subject),
        language=kind.language_for(subject), issued_by_id=by.id, issued_at=issued_at,
        sha256=hashlib.sha256(pdf).hexdigest(), facts=facts,
        public_facts={key: facts.get(key) for key in PUBLIC_FACTS} | {"issuer": settings.name},
        token=token, check_code=code, certificate_id=certificate.id, status="valid", pdf=pdf)
        for n, ((subject, facts), reference, token, code, pdf) in enumerate(zip(batch, references, tokens, codes,
                                                                               pdfs, strict=True))]
    db.session.add_all(letters)
    db.session.flush()
    for letter, (subject, _facts) in zip(letters, batch, strict=True):
        audit.record("letter_issued", letter, actor=by, to_state="valid",
                     details={"kind": kind.key, "subject": f"{kind.subject_type}:{subject.id}"})
    return letters


@transaction
def revoke(letter: Letter, reason: str, *, by: User, holder: User | None) -> None:
    """Revoke a letter (its verification page says so) and tell its holder why."""
    if letter.status == "revoked":
        return
    previous = letter.status
    letter.status, letter.revoked_reason, letter.revoked_at, letter.revoked_by_id = "revoked", reason, utcnow(), by.id
    audit.record("letter_revoked", letter, actor=by, from_state=previous, to_state="revoked", note=reason)
    if holder is not None:
        queue_mail(holder, "letter_revoked", letter=letter, reason=reason)


# --- Letters whose facts changed ---------------------------------------------------------

def refresh_after_commit(kind_key: str, subject_ids: list[int], *, by: User) -> None:
    """Once the change commits, replace each subject's valid letter of ``kind_key`` whose facts
    no longer hold by a new one, and tell its holder (``letters.refresh``, in the background)."""
    if subject_ids:
        enqueue_after_commit("letters.refresh", kind_key, sorted(set(subject_ids)), by.id)


@task("letters.refresh")
def refresh(kind_key: str, subject_ids: list[int], by_id: int) -> int:
    """Supersede the valid letters of these subjects whose facts changed; how many were replaced."""
    kind, by = letter_kind(kind_key), db.session.get(User, by_id)
    if kind is None or by is None:
        return 0
    replaced = 0
    for subject_id in subject_ids:
        subject = kind.load(subject_id)
        latest = latest_letter(kind, subject) if subject is not None else None
        if latest is None or latest.status != "valid" or latest.facts == kind.facts(subject) or kind.missing(subject):
            continue
        try:
            letter = obtain(kind, subject, by=by)
        except UserError:
            continue  # not ready after all (a profile emptied meanwhile): the holder asks again
        holder = kind.holder(subject)
        if letter.id != latest.id and holder is not None:
            with transaction():
                queue_mail(holder, "letter_reissued", letter=letter, previous=latest.reference,
                           login_url=external_url("auth.login"))
            replaced += 1
    return replaced
