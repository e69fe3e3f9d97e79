"""Column types shared by the model: UTC timestamps and fields encrypted at rest."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import DateTime, LargeBinary, String, Text
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC (SQLite has no time zones), always hands back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def field_cipher() -> MultiFernet:
    """The cipher for the current app; its keys live outside the database."""
    return _fernet(tuple(current_app.config["FIELD_ENCRYPTION_KEYS"]))


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with Fernet (AES-128-CBC + HMAC) before it reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or value == "":
            return None
        return field_cipher().encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return field_cipher().decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:  # wrong or missing key: fail loudly, never show ciphertext
            raise RuntimeError("cannot decrypt a protected field: check FIELD_ENCRYPTION_KEYS") from exc


class EncryptedDate(TypeDecorator[dt.date]):
    """A date kept as encrypted ISO text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dt.date | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return EncryptedText().process_bind_param(value.isoformat(), dialect)

    def process_result_value(self, value: str | None, dialect: Any) -> dt.date | None:
        text = EncryptedText().process_result_value(value, dialect)
        return dt.date.fromisoformat(text) if text else None


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal kept as text: SQLite has no exact decimal type, and rates must not drift."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class EncryptedBytes(TypeDecorator[bytes]):
    """Bytes encrypted with the field key (a letter's PDF holds a passport number)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else field_cipher().encrypt(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return field_cipher().decrypt(bytes(value))
        except InvalidToken as exc:
            raise RuntimeError("cannot decrypt a protected field: check FIELD_ENCRYPTION_KEYS") from exc


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value kept encrypted (facts a letter certifies, passport number included)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return EncryptedText().process_bind_param(json.dumps(value, sort_keys=True, ensure_ascii=False), dialect)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        text = EncryptedText().process_result_value(value, dialect)
        return None if text is None else json.loads(text)
