"""People: accounts, their roles and their doctor/expert profile."""

from __future__ import annotations

import datetime as dt
import secrets

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import BaseModel, db
from ..plaintext import printable
from .types import EncryptedDate, EncryptedText, UTCDateTime, utcnow

ROLES = ("doctor", "expert", "staff", "finance", "admin")
# What the retention purge removes from a profile once no trip or visit needs it.
RETAINED_PASSPORT_FIELDS = ("passport_number", "date_of_birth", "passport_expiry")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class UserRole(BaseModel):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class User(UserMixin, BaseModel):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Flask-Login keeps this in the session cookie instead of the id; replacing it (logout,
    # password change, deactivation) makes every earlier cookie worthless.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    preferred_language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # Profile (doctors and experts)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id", ondelete="SET NULL"))
    specialty: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    # Passport details, for letters to consulates. Number and birth date are encrypted.
    passport_full_name: Mapped[str | None] = mapped_column(String(200))
    nationality: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date | None] = mapped_column(EncryptedDate)
    passport_number: Mapped[str | None] = mapped_column(EncryptedText)
    passport_expiry: Mapped[dt.date | None] = mapped_column()
    # When passport details were last entered (kept at least the retention period from then),
    # and when the retention period removed them.
    passport_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    passport_purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # personal details replaced by a pseudonym
    # Where repayments go: an IBAN (with its BIC) or a UK sort code and account number. The
    # account numbers are encrypted; pages show them masked (``portal.bank``).
    bank_holder: Mapped[str | None] = mapped_column(String(200))
    bank_iban: Mapped[str | None] = mapped_column(EncryptedText)
    bank_bic: Mapped[str | None] = mapped_column(String(11))
    bank_sort_code: Mapped[str | None] = mapped_column(String(6))
    bank_account_number: Mapped[str | None] = mapped_column(EncryptedText)
    bank_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )
    clinic = relationship("Clinic", lazy="joined")

    @validates("name", "passport_full_name", "position", "specialty", "nationality")
    def _printable(self, key: str, value: str | None) -> str | None:
        return printable(value)  # printed on letters: nothing invisible or direction-changing

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def set_roles(self, roles: set[str] | list[str]) -> None:
        wanted = set(roles)
        unknown = wanted - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - self.roles)
        ]

    def revoke_sessions(self) -> None:
        self.session_token = new_session_token()

    @property
    def passport_complete(self) -> bool:
        return all(
            [self.passport_full_name, self.nationality, self.date_of_birth,
             self.passport_number, self.passport_expiry]
        )

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(func.lower(cls.email) == email.strip().lower()))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
