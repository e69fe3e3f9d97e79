"""Issued letters and the organisation's letterhead settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import BaseModel
from .types import EncryptedBytes, EncryptedJSON, UTCDateTime, utcnow

LETTER_STATES = ("valid", "superseded", "revoked")


class OrganisationSettings(BaseModel):
    """One row: what every letter's letterhead and signature say."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    charity_number: Mapped[str] = mapped_column(String(50), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    reference_prefix: Mapped[str] = mapped_column(String(10), default="EP")
    # The programme's record before the portal, for the figures donor letters quote.
    programme_since: Mapped[int] = mapped_column(default=2011)
    doctors_before_portal: Mapped[int] = mapped_column(default=70)
    # How long personal data is kept (admins set it; the privacy page states it).
    passport_retention_days: Mapped[int] = mapped_column(default=90, server_default="90")
    upload_retention_days: Mapped[int] = mapped_column(default=30, server_default="30")
    receipt_retention_years: Mapped[int] = mapped_column(default=6, server_default="6")
    inactive_account_years: Mapped[int] = mapped_column(default=3, server_default="3")
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(50))
    signature: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    signature_type: Mapped[str | None] = mapped_column(String(50))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SigningCertificate(BaseModel):
    """A certificate that signed letters: kept for as long as its letters, so each still verifies
    after the key is replaced, and the public pages can name it by fingerprint."""

    __tablename__ = "signing_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the DER, hex
    subject: Mapped[str] = mapped_column(String(500))
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    first_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Letter(BaseModel):
    """A letter as issued: its PDF, what it certifies, and whether it still stands."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        Index("ix_letters_subject", "kind", "subject_type", "subject_id", "id"),
        # At most one letter of a kind stands for a subject at a time, whatever the code does.
        Index("uq_letters_one_valid", "kind", "subject_type", "subject_id", unique=True,
              sqlite_where=text("status = 'valid'"), postgresql_where=text("status = 'valid'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    year: Mapped[int] = mapped_column()
    sequence: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column()
    funded_item_id: Mapped[int | None] = mapped_column(ForeignKey("funded_items.id", ondelete="SET NULL"),
                                                       index=True)
    language: Mapped[str] = mapped_column(String(5))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # "check a letter" looks up an uploaded file by it
    # Everything the letter certifies (passport number included), encrypted; and the few
    # facts the public verification page may show.
    facts: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    public_facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # Printed beside the QR code: with the reference, it finds the letter for someone who
    # holds only paper. None on letters issued before it was printed.
    check_code: Mapped[str | None] = mapped_column(String(8))
    # The certificate that signed the PDF; None on letters issued before letters were signed.
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("signing_certificates.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pdf: Mapped[bytes | None] = deferred(mapped_column(EncryptedBytes, nullable=True))
    # When the retention period removed the PDF and the personal facts (the reference, SHA-256,
    # public facts and status stay, so the letter still verifies).
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    superseded_by = relationship("Letter", remote_side=[id])
    certificate = relationship(SigningCertificate)
    issued_by = relationship("User", foreign_keys=[issued_by_id])


class LetterCounter(BaseModel):
    """The last letter number taken in a year. A transaction that issues letters locks its
    year's row and takes the next numbers before it renders anything, so two issuers never
    render with the same numbers and none has to render again."""

    __tablename__ = "letter_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(default=0)
